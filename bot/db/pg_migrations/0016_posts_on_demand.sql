-- 0016 (PostgreSQL): the twin of SQLite's 0016. posts.on_demand: 1 for a check-in an admin asked
-- for with `/checkin now`, which the off switch (for the scheduled check-in) leaves to go out.

ALTER TABLE posts ADD COLUMN on_demand INTEGER NOT NULL DEFAULT 0 CHECK (on_demand IN (0, 1));
