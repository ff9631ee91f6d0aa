"""Running a task: its sandbox, commands, prompt, and the result with its evidence."""
