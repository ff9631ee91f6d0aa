"""The board's screens: the board with its task tabs, and the modal dialogs."""
