-- 0012 (PostgreSQL): the twin of SQLite's 0012. When the bot was removed from a server; its
-- data is kept for 30 days in case it is invited back, then erased. NULL: the bot is in it.

ALTER TABLE guild_settings ADD COLUMN left_at TEXT COLLATE "C";
