"""twopass: a Discord study-group bot for the two-pass roadmap."""
