-- 0012: when the bot was removed from a server. Its data is kept for 30 days in case it is
-- invited back (which clears the mark), then erased by a daily job (see the README, "What is
-- kept"). NULL: the bot is in the server.

ALTER TABLE guild_settings ADD COLUMN left_at TEXT;
