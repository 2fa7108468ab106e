-- 0014: boards read in index order. A board page, its size and the caller's rank were computed
-- by joining a server's whole board to `members` (for who is active), sorting it in a temporary
-- B-tree and scanning it three times: 43 ms for a 20,000-member server. The kept totals now
-- carry what the board filters on (`active`, kept in step with `members` by a trigger), and an
-- index in board order (most minutes first, then who reached them first, then by id) covers
-- every column a board shows, so a page is a range read, the size a count over one range, and
-- the rank a count over the range ahead of the caller.

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

-- A new total takes the member's standing from `members` (a pass is logged only for an active
-- member, but bulk loads and imports need not be).
DROP TRIGGER passes_points_on_log;
CREATE TRIGGER passes_points_on_log AFTER INSERT ON passes
BEGIN
    INSERT INTO member_points (guild_id, user_id, minutes, passes, reached_at, active)
    VALUES (NEW.guild_id, NEW.user_id, NEW.minutes, 1, NEW.logged_at, coalesce((
        SELECT active FROM members WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id
    ), 0))
    ON CONFLICT (guild_id, user_id) DO UPDATE SET
        minutes = minutes + excluded.minutes,
        passes = passes + 1,
        reached_at = max(reached_at, excluded.reached_at);
    INSERT INTO member_week_points (guild_id, week, user_id, minutes, passes, reached_at, active)
    VALUES (NEW.guild_id, NEW.week, NEW.user_id, NEW.minutes, 1, NEW.logged_at, coalesce((
        SELECT active FROM members WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id
    ), 0))
    ON CONFLICT (guild_id, week, user_id) DO UPDATE SET
        minutes = minutes + excluded.minutes,
        passes = passes + 1,
        reached_at = max(reached_at, excluded.reached_at);
END;

-- /leave and /join move a member off and back onto every board they are on. Their weekly
-- totals are found through their own passes (the weeks they hold), not by a walk of the
-- server's weeks.
CREATE TRIGGER members_active_on_boards AFTER UPDATE OF active ON members
WHEN NEW.active IS NOT OLD.active
BEGIN
    UPDATE member_points SET active = NEW.active
    WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id;
    UPDATE member_week_points SET active = NEW.active
    WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id
      AND week IN (SELECT week FROM passes WHERE guild_id = NEW.guild_id AND user_id = NEW.user_id);
END;

-- How many are on each board (week '' is all time), kept as rows come, go, leave and return,
-- so a board's size is one lookup rather than a count of its server. An empty board has no row
-- (an erased server leaves none behind).
CREATE TABLE board_sizes (
    guild_id    INTEGER NOT NULL,
    week        TEXT    NOT NULL,
    members     INTEGER NOT NULL,
    PRIMARY KEY (guild_id, week)
) STRICT, WITHOUT ROWID;

INSERT INTO board_sizes (guild_id, week, members)
SELECT guild_id, '', count(*) FROM member_points WHERE active = 1 GROUP BY guild_id;
INSERT INTO board_sizes (guild_id, week, members)
SELECT guild_id, week, count(*) FROM member_week_points WHERE active = 1 GROUP BY guild_id, week;

CREATE TRIGGER board_sizes_on_total AFTER INSERT ON member_points WHEN NEW.active = 1
BEGIN
    INSERT INTO board_sizes (guild_id, week, members) VALUES (NEW.guild_id, '', 1)
    ON CONFLICT (guild_id, week) DO UPDATE SET members = members + 1;
END;
CREATE TRIGGER board_sizes_on_total_gone AFTER DELETE ON member_points WHEN OLD.active = 1
BEGIN
    UPDATE board_sizes SET members = members - 1 WHERE guild_id = OLD.guild_id AND week = '';
    DELETE FROM board_sizes WHERE guild_id = OLD.guild_id AND week = '' AND members <= 0;
END;
CREATE TRIGGER board_sizes_on_total_active AFTER UPDATE OF active ON member_points
WHEN NEW.active IS NOT OLD.active
BEGIN
    INSERT INTO board_sizes (guild_id, week, members) VALUES (NEW.guild_id, '', 0)
    ON CONFLICT (guild_id, week) DO NOTHING;
    UPDATE board_sizes SET members = members + (CASE WHEN NEW.active = 1 THEN 1 ELSE -1 END)
    WHERE guild_id = NEW.guild_id AND week = '';
    DELETE FROM board_sizes WHERE guild_id = NEW.guild_id AND week = '' AND members <= 0;
END;
CREATE TRIGGER board_sizes_on_week AFTER INSERT ON member_week_points WHEN NEW.active = 1
BEGIN
    INSERT INTO board_sizes (guild_id, week, members) VALUES (NEW.guild_id, NEW.week, 1)
    ON CONFLICT (guild_id, week) DO UPDATE SET members = members + 1;
END;
CREATE TRIGGER board_sizes_on_week_gone AFTER DELETE ON member_week_points WHEN OLD.active = 1
BEGIN
    UPDATE board_sizes SET members = members - 1
    WHERE guild_id = OLD.guild_id AND week = OLD.week;
    DELETE FROM board_sizes WHERE guild_id = OLD.guild_id AND week = OLD.week AND members <= 0;
END;
CREATE TRIGGER board_sizes_on_week_active AFTER UPDATE OF active ON member_week_points
WHEN NEW.active IS NOT OLD.active
BEGIN
    INSERT INTO board_sizes (guild_id, week, members) VALUES (NEW.guild_id, NEW.week, 0)
    ON CONFLICT (guild_id, week) DO NOTHING;
    UPDATE board_sizes SET members = members + (CASE WHEN NEW.active = 1 THEN 1 ELSE -1 END)
    WHERE guild_id = NEW.guild_id AND week = NEW.week;
    DELETE FROM board_sizes WHERE guild_id = NEW.guild_id AND week = NEW.week AND members <= 0;
END;
