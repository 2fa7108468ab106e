-- 0007: leaderboard totals kept up to date as passes come and go, instead of summed from
-- every pass of a server on each /leaderboard (94 ms for the largest server at a million
-- passes, holding the one connection every other command needs).
-- member_points: all time; member_week_points: per week, keyed by the Monday of the pass's
-- study day. A pass is worth its video_credit minutes under the server's roadmap.
-- reached_at is when the member reached the total (the latest logged_at): ties go to whoever
-- got there first.

CREATE TABLE member_points (
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    minutes     REAL    NOT NULL,
    passes      INTEGER NOT NULL,
    reached_at  TEXT    NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE member_week_points (
    guild_id    INTEGER NOT NULL,
    week        TEXT    NOT NULL,
    user_id     INTEGER NOT NULL,
    minutes     REAL    NOT NULL,
    passes      INTEGER NOT NULL,
    reached_at  TEXT    NOT NULL,
    PRIMARY KEY (guild_id, week, user_id)
) STRICT, WITHOUT ROWID;

CREATE VIEW pass_credit AS
SELECT p.guild_id, p.user_id, p.video_id, p.pass, p.logged_at, p.study_date,
       date(p.study_date, 'weekday 0', '-6 days') AS week,
       coalesce(c.minutes, 0) AS minutes
FROM passes AS p
LEFT JOIN guild_settings AS g ON g.guild_id = p.guild_id
LEFT JOIN video_credit AS c
  ON c.curriculum_id = g.curriculum_id AND c.video_id = p.video_id AND c.pass = p.pass;

CREATE TRIGGER passes_points_on_log AFTER INSERT ON passes
BEGIN
    INSERT INTO member_points (guild_id, user_id, minutes, passes, reached_at)
    SELECT guild_id, user_id, minutes, 1, logged_at FROM pass_credit
    WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id
      AND video_id = NEW.video_id AND pass = NEW.pass
    ON CONFLICT (guild_id, user_id) DO UPDATE SET
        minutes = minutes + excluded.minutes,
        passes = passes + 1,
        reached_at = max(reached_at, excluded.reached_at);
    INSERT INTO member_week_points (guild_id, week, user_id, minutes, passes, reached_at)
    SELECT guild_id, week, user_id, minutes, 1, logged_at FROM pass_credit
    WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id
      AND video_id = NEW.video_id AND pass = NEW.pass
    ON CONFLICT (guild_id, week, user_id) DO UPDATE SET
        minutes = minutes + excluded.minutes,
        passes = passes + 1,
        reached_at = max(reached_at, excluded.reached_at);
END;

-- On undo, subtract, and recompute reached_at from the passes that remain.
CREATE TRIGGER passes_points_on_undo AFTER DELETE ON passes
BEGIN
    UPDATE member_points SET
        minutes = minutes - coalesce((
            SELECT c.minutes FROM guild_settings AS g JOIN video_credit AS c
              ON c.curriculum_id = g.curriculum_id
            WHERE g.guild_id = OLD.guild_id AND c.video_id = OLD.video_id AND c.pass = OLD.pass
        ), 0),
        passes = passes - 1,
        reached_at = coalesce((
            SELECT max(logged_at) FROM passes WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id
        ), reached_at)
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id;
    DELETE FROM member_points
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id AND passes <= 0;

    UPDATE member_week_points SET
        minutes = minutes - coalesce((
            SELECT c.minutes FROM guild_settings AS g JOIN video_credit AS c
              ON c.curriculum_id = g.curriculum_id
            WHERE g.guild_id = OLD.guild_id AND c.video_id = OLD.video_id AND c.pass = OLD.pass
        ), 0),
        passes = passes - 1,
        reached_at = coalesce((
            SELECT max(logged_at) FROM passes
            WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id
              AND date(study_date, 'weekday 0', '-6 days') = date(OLD.study_date, 'weekday 0', '-6 days')
        ), reached_at)
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id
      AND week = date(OLD.study_date, 'weekday 0', '-6 days');
    DELETE FROM member_week_points
    WHERE guild_id = OLD.guild_id AND user_id = OLD.user_id
      AND week = date(OLD.study_date, 'weekday 0', '-6 days') AND passes <= 0;
END;

-- Totals for the passes already logged.
INSERT INTO member_points (guild_id, user_id, minutes, passes, reached_at)
SELECT guild_id, user_id, sum(minutes), count(*), max(logged_at)
FROM pass_credit GROUP BY guild_id, user_id;

INSERT INTO member_week_points (guild_id, week, user_id, minutes, passes, reached_at)
SELECT guild_id, week, user_id, sum(minutes), count(*), max(logged_at)
FROM pass_credit GROUP BY guild_id, week, user_id;
