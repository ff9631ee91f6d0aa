"""Accepting a result: whole, by file or hunk, to a branch or the working tree."""
