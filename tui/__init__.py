"""What the person touches: the Textual board and the plain `taskyard ...` commands."""
