"""A server's settings: where and when the bot posts, its timezone, roadmap and cohort.

Public to other features: the records (`GuildSettings`) and rules (`defaults`, `SetupChange`);
the service is reached through the app's wiring."""
