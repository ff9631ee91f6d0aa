"""The core of taskyard: tasks, the agent loop, model clients, store, git. No Textual here."""
