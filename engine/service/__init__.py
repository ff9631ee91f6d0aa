"""The engine as a service: one process owns every task; the board and the CLI are its clients."""
