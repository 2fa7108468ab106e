-- 0003: what the scheduled posts need beyond the reservation of 0001.
-- * posts.due_at: the scheduled time a reservation is for, so a retry knows its grace window.
-- * posts.thread_id, posts.parts_sent: a check-in is a first message, a thread started from it,
--   then further parts; each step is recorded so a retry resumes where it stopped instead of
--   repeating a part. thread_id holds the channel itself when no thread could be started.
-- * post_notes: why the bot turned a post off (channel deleted, permission missing), shown to
--   admins by `/setup show` until the post is turned back on.

ALTER TABLE posts ADD COLUMN due_at TEXT;
ALTER TABLE posts ADD COLUMN thread_id INTEGER;
ALTER TABLE posts ADD COLUMN parts_sent INTEGER NOT NULL DEFAULT 0 CHECK (parts_sent >= 0);

CREATE INDEX posts_unsent ON posts (guild_id) WHERE posted_at IS NULL;

CREATE TABLE post_notes (
    guild_id  INTEGER NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('daily', 'checkin')),
    note      TEXT    NOT NULL,
    at        TEXT    NOT NULL,
    PRIMARY KEY (guild_id, kind)
) STRICT, WITHOUT ROWID;
