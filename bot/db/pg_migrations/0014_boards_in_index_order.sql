-- 0014 (PostgreSQL): the twin of SQLite's 0014, boards read in index order. The kept totals
-- carry `active` (kept in step with `members` by a trigger), an index in board order covers a
-- board's page, and `board_sizes` keeps how many are on each board (week '' is all time).
-- Triggers are plpgsql functions; SQLite's `IS NOT` is `IS DISTINCT FROM`, its max(a, b)
-- GREATEST.

ALTER TABLE member_points ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE member_week_points ADD COLUMN active INTEGER NOT NULL DEFAULT 1;

UPDATE member_points SET active = coalesce((
    SELECT m.active FROM members AS m
    WHERE m.guild_id = member_points.guild_id AND m.user_id = member_points.user_id
), 0);
UPDATE member_week_points SET active = coalesce((
    SELECT m.active FROM members AS m
    WHERE m.guild_id = member_week_points.guild_id AND m.user_id = member_week_points.user_id
), 0);

CREATE INDEX member_points_board
    ON member_points (guild_id, active, minutes DESC, reached_at, user_id, passes);
CREATE INDEX member_week_points_board
    ON member_week_points (guild_id, week, active, minutes DESC, reached_at, user_id, passes);

-- A new total takes the member's standing from `members`.
CREATE OR REPLACE FUNCTION passes_points_on_log() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    standing INTEGER := coalesce((
        SELECT active FROM members WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id
    ), 0);
BEGIN
    INSERT INTO member_points AS t (guild_id, user_id, minutes, passes, reached_at, active)
    VALUES (NEW.guild_id, NEW.user_id, NEW.minutes, 1, NEW.logged_at, standing)
    ON CONFLICT (guild_id, user_id) DO UPDATE SET
        minutes = t.minutes + excluded.minutes,
        passes = t.passes + 1,
        reached_at = GREATEST(t.reached_at, excluded.reached_at);
    INSERT INTO member_week_points AS t (guild_id, week, user_id, minutes, passes, reached_at,
                                         active)
    VALUES (NEW.guild_id, NEW.week, NEW.user_id, NEW.minutes, 1, NEW.logged_at, standing)
    ON CONFLICT (guild_id, week, user_id) DO UPDATE SET
        minutes = t.minutes + excluded.minutes,
        passes = t.passes + 1,
        reached_at = GREATEST(t.reached_at, excluded.reached_at);
    RETURN NULL;
END $$;

-- /leave and /join move a member off and back onto every board they are on.
CREATE FUNCTION members_active_on_boards() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE member_points SET active = NEW.active
    WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id;
    UPDATE member_week_points SET active = NEW.active
    WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id
      AND week IN (SELECT week FROM passes WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id);
    RETURN NULL;
END $$;
CREATE TRIGGER members_active_on_boards AFTER UPDATE OF active ON members
    FOR EACH ROW WHEN (NEW.active IS DISTINCT FROM OLD.active)
    EXECUTE FUNCTION members_active_on_boards();

CREATE TABLE board_sizes (
    guild_id    BIGINT  NOT NULL,
    week        TEXT    COLLATE "C" NOT NULL,
    members     INTEGER NOT NULL,
    PRIMARY KEY (guild_id, week)
);

INSERT INTO board_sizes (guild_id, week, members)
SELECT guild_id, '', count(*) FROM member_points WHERE active = 1 GROUP BY guild_id;
INSERT INTO board_sizes (guild_id, week, members)
SELECT guild_id, week, count(*) FROM member_week_points WHERE active = 1 GROUP BY guild_id, week;

-- All time is week '' (member_points); a week's board is its week (member_week_points).
CREATE FUNCTION board_sizes_on_total() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO board_sizes AS b (guild_id, week, members) VALUES (NEW.guild_id, '', 1)
    ON CONFLICT (guild_id, week) DO UPDATE SET members = b.members + 1;
    RETURN NULL;
END $$;

CREATE FUNCTION board_sizes_on_total_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE board_sizes SET members = members - 1
    WHERE guild_id = OLD.guild_id AND week = '';
    DELETE FROM board_sizes
    WHERE guild_id = OLD.guild_id AND week = '' AND members <= 0;
    RETURN NULL;
END $$;

CREATE FUNCTION board_sizes_on_total_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO board_sizes (guild_id, week, members) VALUES (NEW.guild_id, '', 0)
    ON CONFLICT (guild_id, week) DO NOTHING;
    UPDATE board_sizes SET members = members + (CASE WHEN NEW.active = 1 THEN 1 ELSE -1 END)
    WHERE guild_id = NEW.guild_id AND week = '';
    DELETE FROM board_sizes
    WHERE guild_id = NEW.guild_id AND week = '' AND members <= 0;
    RETURN NULL;
END $$;

CREATE FUNCTION board_sizes_on_week() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO board_sizes AS b (guild_id, week, members) VALUES (NEW.guild_id, NEW.week, 1)
    ON CONFLICT (guild_id, week) DO UPDATE SET members = b.members + 1;
    RETURN NULL;
END $$;

CREATE FUNCTION board_sizes_on_week_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE board_sizes SET members = members - 1
    WHERE guild_id = OLD.guild_id AND week = OLD.week;
    DELETE FROM board_sizes
    WHERE guild_id = OLD.guild_id AND week = OLD.week AND members <= 0;
    RETURN NULL;
END $$;

CREATE FUNCTION board_sizes_on_week_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO board_sizes (guild_id, week, members) VALUES (NEW.guild_id, NEW.week, 0)
    ON CONFLICT (guild_id, week) DO NOTHING;
    UPDATE board_sizes SET members = members + (CASE WHEN NEW.active = 1 THEN 1 ELSE -1 END)
    WHERE guild_id = NEW.guild_id AND week = NEW.week;
    DELETE FROM board_sizes
    WHERE guild_id = NEW.guild_id AND week = NEW.week AND members <= 0;
    RETURN NULL;
END $$;

CREATE TRIGGER board_sizes_on_total AFTER INSERT ON member_points
    FOR EACH ROW WHEN (NEW.active = 1) EXECUTE FUNCTION board_sizes_on_total();
CREATE TRIGGER board_sizes_on_total_gone AFTER DELETE ON member_points
    FOR EACH ROW WHEN (OLD.active = 1) EXECUTE FUNCTION board_sizes_on_total_gone();
CREATE TRIGGER board_sizes_on_total_active AFTER UPDATE OF active ON member_points
    FOR EACH ROW WHEN (NEW.active IS DISTINCT FROM OLD.active)
    EXECUTE FUNCTION board_sizes_on_total_active();
CREATE TRIGGER board_sizes_on_week AFTER INSERT ON member_week_points
    FOR EACH ROW WHEN (NEW.active = 1) EXECUTE FUNCTION board_sizes_on_week();
CREATE TRIGGER board_sizes_on_week_gone AFTER DELETE ON member_week_points
    FOR EACH ROW WHEN (OLD.active = 1) EXECUTE FUNCTION board_sizes_on_week_gone();
CREATE TRIGGER board_sizes_on_week_active AFTER UPDATE OF active ON member_week_points
    FOR EACH ROW WHEN (NEW.active IS DISTINCT FROM OLD.active)
    EXECUTE FUNCTION board_sizes_on_week_active();
