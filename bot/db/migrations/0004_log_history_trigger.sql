-- 0004: log a pass in one statement. /done is the most frequent write; appending its history
-- entry from a trigger lets the pass and its history commit together as a single INSERT, with
-- no explicit transaction and no second round trip to the database thread.
-- passes.logged_by is who logged it (the member, or an admin correcting their log).

ALTER TABLE passes ADD COLUMN logged_by INTEGER;

CREATE TRIGGER passes_history_on_log AFTER INSERT ON passes
BEGIN
    INSERT INTO pass_history (guild_id, user_id, video_id, pass, action, actor_id, at, study_date, note, link)
    VALUES (NEW.guild_id, NEW.user_id, NEW.video_id, NEW.pass, 'log',
            coalesce(NEW.logged_by, NEW.user_id), NEW.logged_at, NEW.study_date, NEW.note, NEW.link);
END;
