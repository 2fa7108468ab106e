-- 0013 (PostgreSQL): the twin of SQLite's 0013, what the pictures need.
-- * post_parts.file: the PNG a part carries (BYTEA for SQLite's BLOB: both read back as bytes).
-- * members.display_name: the name a picture draws for a member.

ALTER TABLE post_parts ADD COLUMN file BYTEA;
ALTER TABLE members ADD COLUMN display_name TEXT COLLATE "C";
