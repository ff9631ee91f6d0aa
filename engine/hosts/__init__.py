"""The Docker hosts tasks run on, the pool that places them, and what gc removes."""
