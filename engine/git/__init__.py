"""git on the host: sources, bundles from the sandbox, and the result read from them; every
git command through one door, `command.py`."""
