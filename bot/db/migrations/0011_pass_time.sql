-- 0011: what members report about a pass beside what the roadmap estimates.
-- `spent_minutes`: the time the pass really took, as the member said with `/done minutes:`
-- (NULL when not said). The points stay the estimate (`minutes`); the reported times calibrate
-- the group's plan (the measured ratio of second-pass time to video length, per video).
-- `pass_edits`: a note or link corrected after the pass was logged, with who changed it and
-- what it said before, so the history never loses what a member wrote.
-- One file on purpose: if another 0010 lands first, renumber this one 0011 (the loader wants
-- 1..n without gaps).

ALTER TABLE passes ADD COLUMN spent_minutes INTEGER CHECK (spent_minutes > 0);
ALTER TABLE pass_history ADD COLUMN spent_minutes INTEGER;
-- The week a pass counted in (`timekeeping.pass_week`: the server's calendar), so the totals
-- replayed from the history alone match the kept ones. Empty for entries from before: those
-- counted in the week of their study date.
ALTER TABLE pass_history ADD COLUMN week TEXT NOT NULL DEFAULT '';

DROP TRIGGER passes_history_on_log;
CREATE TRIGGER passes_history_on_log AFTER INSERT ON passes
BEGIN
    INSERT INTO pass_history (guild_id, user_id, video_id, pass, action, actor_id, at, study_date,
                              note, link, minutes, spent_minutes, week)
    VALUES (NEW.guild_id, NEW.user_id, NEW.video_id, NEW.pass, 'log',
            coalesce(NEW.logged_by, NEW.user_id), NEW.logged_at, NEW.study_date, NEW.note,
            NEW.link, NEW.minutes, NEW.spent_minutes, NEW.week);
END;

CREATE TABLE pass_edits (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    video_id    TEXT    NOT NULL,
    pass        INTEGER NOT NULL CHECK (pass IN (1, 2)),
    actor_id    INTEGER NOT NULL,
    at          TEXT    NOT NULL,
    note_before TEXT,
    link_before TEXT,
    note        TEXT,
    link        TEXT
) STRICT;
CREATE INDEX pass_edits_member ON pass_edits (guild_id, user_id, id);
