"""The board's widgets, one per module."""
