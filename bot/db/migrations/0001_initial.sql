-- 0001: the first schema. Servers' settings, their members, the passes members log, the
-- append-only history behind every change to passes, and the posts the scheduler has made
-- (keyed by period so nothing is ever posted twice).
-- Times are UTC text 'YYYY-MM-DD HH:MM:SS' (SQLite's own format); study_date is the member's
-- local calendar day, which streaks and back-dated logs are about.

CREATE TABLE guild_settings (
    guild_id          INTEGER PRIMARY KEY,
    study_channel_id  INTEGER,
    timezone          TEXT    NOT NULL DEFAULT 'UTC',
    checkin_weekday   INTEGER NOT NULL DEFAULT 0 CHECK (checkin_weekday BETWEEN 0 AND 6),
    checkin_time      TEXT    NOT NULL DEFAULT '18:00',
    daily_time        TEXT    NOT NULL DEFAULT '09:00',
    daily_enabled     INTEGER NOT NULL DEFAULT 1 CHECK (daily_enabled IN (0, 1)),
    checkin_enabled   INTEGER NOT NULL DEFAULT 1 CHECK (checkin_enabled IN (0, 1)),
    curriculum_id     TEXT    NOT NULL DEFAULT 'ml-engineer',
    cohort_start      TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL
) STRICT;

CREATE TABLE members (
    guild_id      INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    joined_at     TEXT    NOT NULL,
    pace_hours    REAL    NOT NULL CHECK (pace_hours > 0),
    timezone      TEXT    NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    PRIMARY KEY (guild_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE passes (
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    video_id    TEXT    NOT NULL,
    pass        INTEGER NOT NULL CHECK (pass IN (1, 2)),
    logged_at   TEXT    NOT NULL,
    study_date  TEXT    NOT NULL,
    note        TEXT,
    link        TEXT,
    PRIMARY KEY (guild_id, user_id, video_id, pass),
    FOREIGN KEY (guild_id, user_id) REFERENCES members (guild_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE pass_history (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    video_id    TEXT    NOT NULL,
    pass        INTEGER NOT NULL CHECK (pass IN (1, 2)),
    action      TEXT    NOT NULL CHECK (action IN ('log', 'undo')),
    actor_id    INTEGER NOT NULL,
    at          TEXT    NOT NULL,
    study_date  TEXT    NOT NULL,
    note        TEXT,
    link        TEXT
) STRICT;
CREATE INDEX pass_history_member ON pass_history (guild_id, user_id, id);

CREATE TABLE posts (
    guild_id     INTEGER NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('daily', 'checkin')),
    period_key   TEXT    NOT NULL,
    nonce        TEXT    NOT NULL,
    reserved_at  TEXT    NOT NULL,
    channel_id   INTEGER,
    message_id   INTEGER,
    posted_at    TEXT,
    PRIMARY KEY (guild_id, kind, period_key)
) STRICT;
