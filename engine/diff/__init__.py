"""Diffs: split into files and hunks and rebuilt exactly, and their headers."""
