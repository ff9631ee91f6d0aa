"""The agent loop: prompt, tools, and the turn-by-turn conversation with the model."""
