"""What clients hold: the frozen values, events and errors that cross the service protocol.

Light on purpose: importing any of it loads no git, Docker, model client, UI or asyncio code,
so the board and a one-call command can hold what the service answers. Import the submodule
that defines a type; this package re-exports nothing.
"""
