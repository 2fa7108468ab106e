-- 0010: scheduled posts become an outbox, check-ins tile time, and admins hear about trouble.
-- * post_parts: every message of a post, composed when its period is reserved and stored in the
--   same transaction, so a retry sends what was composed then and never recomposes from live
--   data. No channel is stored for an unsent part: the deliverer takes the study channel from the
--   settings when it sends, so `/setup channel` re-targets parts not sent yet.
-- * posts.state: pending (parts to send), posted (all sent) or cancelled (the rest will never be
--   sent: turned off, given up, too late). Reservations left unsent by the previous version have
--   no stored parts to send, so they are cancelled here; their period is posted again if still
--   within grace at the next start.
-- * posts.failures, posts.next_try_at: retry bookkeeping in the database, where a restart finds
--   it (a 429 moves next_try_at without counting a failure).
-- * posts.window_start, posts.window_end: the days a check-in covers; the next one starts the day
--   after. Earlier check-ins covered the seven days to their due date (taken in UTC here).
-- * posts.thread_name: the thread a check-in's further parts go to.
-- * post_notes is rebuilt keyed by topic (daily, checkin, or the study channel itself), with what
--   clears a note (so a settings change no longer clears notes about posts given up) and when the
--   admins were told (notes from before are taken as told).
-- * guild_settings.admin_channel_id, setup_by: where those alerts go (an admin channel, or a DM to
--   whoever ran /setup last).

ALTER TABLE posts ADD COLUMN state TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'posted', 'cancelled'));
ALTER TABLE posts ADD COLUMN failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0);
ALTER TABLE posts ADD COLUMN next_try_at TEXT;
ALTER TABLE posts ADD COLUMN window_start TEXT;
ALTER TABLE posts ADD COLUMN window_end TEXT;
ALTER TABLE posts ADD COLUMN thread_name TEXT;

UPDATE posts SET state = CASE WHEN posted_at IS NOT NULL THEN 'posted' ELSE 'cancelled' END;
UPDATE posts SET
    window_end = date(coalesce(due_at, reserved_at)),
    window_start = date(coalesce(due_at, reserved_at), '-6 days')
WHERE kind = 'checkin';

DROP INDEX posts_unsent;
CREATE INDEX posts_pending ON posts (next_try_at) WHERE state = 'pending';
CREATE INDEX posts_windows ON posts (guild_id, kind, window_end) WHERE window_end IS NOT NULL;

CREATE TABLE post_parts (
    guild_id    INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    period_key  TEXT    NOT NULL,
    part        INTEGER NOT NULL CHECK (part >= 1),
    body        TEXT    NOT NULL,  -- {"content": ..., "embeds": [...]}: Discord's JSON
    state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'cancelled')),
    channel_id  INTEGER,           -- where it went, once sent
    message_id  INTEGER,
    sent_at     TEXT,
    PRIMARY KEY (guild_id, kind, period_key, part),
    FOREIGN KEY (guild_id, kind, period_key) REFERENCES posts (guild_id, kind, period_key)
        ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE TABLE post_notes_new (
    guild_id    INTEGER NOT NULL,
    topic       TEXT    NOT NULL CHECK (topic IN ('daily', 'checkin', 'channel')),
    note        TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    -- what makes the note go: the post turned back on, the next post of its kind out, or a new
    -- study channel
    clears      TEXT    NOT NULL CHECK (clears IN ('turned on', 'posted', 'channel set')),
    alerted_at  TEXT,
    PRIMARY KEY (guild_id, topic)
) STRICT, WITHOUT ROWID;
INSERT INTO post_notes_new (guild_id, topic, note, at, clears, alerted_at)
    SELECT guild_id, kind, note, at, 'turned on', at FROM post_notes;
DROP TABLE post_notes;
ALTER TABLE post_notes_new RENAME TO post_notes;
CREATE INDEX post_notes_untold ON post_notes (guild_id) WHERE alerted_at IS NULL;

ALTER TABLE guild_settings ADD COLUMN admin_channel_id INTEGER;
ALTER TABLE guild_settings ADD COLUMN setup_by INTEGER;
