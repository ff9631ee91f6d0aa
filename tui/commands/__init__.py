"""The plain `taskyard ...` subcommands, one module each, each with register() and run()."""
