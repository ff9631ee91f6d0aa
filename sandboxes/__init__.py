"""Where commands run: the sandbox interface and its transports (Docker, fake)."""
