"""Model clients for both OpenAI wire APIs, behind one small interface."""
