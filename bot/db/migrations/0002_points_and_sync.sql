-- 0002: what the leaderboard and start-up need.
-- * video_credit mirrors the roadmap's time model (minutes of study a pass is worth), written at
--   start-up from the curriculum, so points are summed in SQL instead of row by row in Python.
-- * passes_by_day serves "this week" boards and streaks without scanning a server's history.
-- * members.reminders: a member opts in to being mentioned when they have been quiet a week.
-- * guild_settings.default_pace: the cohort's pace, which sets the video of the day.
-- * app_state: small facts about the deployment, such as the hash of the last command sync.

CREATE TABLE video_credit (
    curriculum_id  TEXT    NOT NULL,
    video_id       TEXT    NOT NULL,
    pass           INTEGER NOT NULL CHECK (pass IN (1, 2)),
    minutes        REAL    NOT NULL CHECK (minutes >= 0),
    PRIMARY KEY (curriculum_id, video_id, pass)
) STRICT, WITHOUT ROWID;

CREATE INDEX passes_by_day ON passes (guild_id, study_date);

ALTER TABLE members ADD COLUMN reminders INTEGER NOT NULL DEFAULT 0 CHECK (reminders IN (0, 1));

ALTER TABLE guild_settings ADD COLUMN default_pace REAL NOT NULL DEFAULT 5.0 CHECK (default_pace > 0);

CREATE TABLE app_state (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) STRICT, WITHOUT ROWID;
