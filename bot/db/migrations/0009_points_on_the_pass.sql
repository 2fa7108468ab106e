-- 0009: every rule written once. A pass now carries its points (`minutes`: the estimated study
-- minutes its video's pass is worth under the roadmap, computed by the Python time model when it
-- is logged) and its `week` (the Monday of its study date, computed by `bot.timekeeping`), so SQL
-- only sums what Python decided. This replaces the `video_credit` mirror of the time model, the
-- `pass_credit` view and every SQL date expression for weeks; a server whose roadmap id differed
-- from the mirrored one scored 0 h on the boards.
-- The history carries the points too, so the totals can be rebuilt from the history alone
-- (`twopass db check`).
-- The backfill below is the last use of the old mirror and of SQLite's week arithmetic.

ALTER TABLE passes ADD COLUMN minutes REAL NOT NULL DEFAULT 0 CHECK (minutes >= 0);
ALTER TABLE passes ADD COLUMN week TEXT NOT NULL DEFAULT '';
ALTER TABLE pass_history ADD COLUMN minutes REAL NOT NULL DEFAULT 0 CHECK (minutes >= 0);

UPDATE passes SET
    minutes = coalesce((
        SELECT c.minutes FROM guild_settings AS g JOIN video_credit AS c
          ON c.curriculum_id = g.curriculum_id
        WHERE g.guild_id = passes.guild_id AND c.video_id = passes.video_id AND c.pass = passes.pass
    ), 0),
    week = date(study_date, 'weekday 0', '-6 days');

UPDATE pass_history SET
    minutes = coalesce((
        SELECT c.minutes FROM guild_settings AS g JOIN video_credit AS c
          ON c.curriculum_id = g.curriculum_id
        WHERE g.guild_id = pass_history.guild_id AND c.video_id = pass_history.video_id
          AND c.pass = pass_history.pass
    ), 0);

DROP TRIGGER passes_points_on_log;
DROP TRIGGER passes_points_on_undo;
DROP TRIGGER passes_history_on_log;
DROP VIEW pass_credit;
DROP TABLE video_credit;

CREATE TRIGGER passes_history_on_log AFTER INSERT ON passes
BEGIN
    INSERT INTO pass_history (guild_id, user_id, video_id, pass, action, actor_id, at, study_date,
                              note, link, minutes)
    VALUES (NEW.guild_id, NEW.user_id, NEW.video_id, NEW.pass, 'log',
            coalesce(NEW.logged_by, NEW.user_id), NEW.logged_at, NEW.study_date, NEW.note,
            NEW.link, NEW.minutes);
END;

CREATE TRIGGER passes_points_on_log AFTER INSERT ON passes
BEGIN
    INSERT INTO member_points (guild_id, user_id, minutes, passes, reached_at)
    VALUES (NEW.guild_id, NEW.user_id, NEW.minutes, 1, NEW.logged_at)
    ON CONFLICT (guild_id, user_id) DO UPDATE SET
        minutes = minutes + excluded.minutes,
        passes = passes + 1,
        reached_at = max(reached_at, excluded.reached_at);
    INSERT INTO member_week_points (guild_id, week, user_id, minutes, passes, reached_at)
    VALUES (NEW.guild_id, NEW.week, NEW.user_id, NEW.minutes, 1, NEW.logged_at)
    ON CONFLICT (guild_id, week, user_id) DO UPDATE SET
        minutes = minutes + excluded.minutes,
        passes = passes + 1,
        reached_at = max(reached_at, excluded.reached_at);
END;

-- On undo, subtract, and recompute reached_at from the passes that remain.
CREATE TRIGGER passes_points_on_undo AFTER DELETE ON passes
BEGIN
    UPDATE member_points SET
        minutes = minutes - OLD.minutes,
        passes = passes - 1,
        reached_at = coalesce((
            SELECT max(logged_at) FROM passes WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id
        ), reached_at)
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id;
    DELETE FROM member_points
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id AND passes <= 0;

    UPDATE member_week_points SET
        minutes = minutes - OLD.minutes,
        passes = passes - 1,
        reached_at = coalesce((
            SELECT max(logged_at) FROM passes
            WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id AND week = OLD.week
        ), reached_at)
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id AND week = OLD.week;
    DELETE FROM member_week_points
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id AND week = OLD.week AND passes <= 0;
END;

-- The totals again, from the stored points.
DELETE FROM member_points;
DELETE FROM member_week_points;
INSERT INTO member_points (guild_id, user_id, minutes, passes, reached_at)
SELECT guild_id, user_id, sum(minutes), count(*), max(logged_at)
FROM passes GROUP BY guild_id, user_id;
INSERT INTO member_week_points (guild_id, week, user_id, minutes, passes, reached_at)
SELECT guild_id, week, user_id, sum(minutes), count(*), max(logged_at)
FROM passes GROUP BY guild_id, week, user_id;
