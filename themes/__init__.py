"""Theme files shipped with taskyard (data only; `tui.themes` loads them)."""
