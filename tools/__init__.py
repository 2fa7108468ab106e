"""Developer tools that drive the real bot (not installed with it)."""
