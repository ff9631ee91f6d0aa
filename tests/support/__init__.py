"""Real parts for tests: a scripted OpenAI-compatible server, Docker gating, git fixtures."""
