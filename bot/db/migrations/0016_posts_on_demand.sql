-- 0016: posts.on_demand: 1 for a check-in an admin asked for with `/checkin now`. The off switch
-- (`/setup posts checkin:off`) is for the scheduled check-in: it cancels the scheduled posts
-- still to send, while one asked for goes out (retries included) whatever the switch says.

ALTER TABLE posts ADD COLUMN on_demand INTEGER NOT NULL DEFAULT 0 CHECK (on_demand IN (0, 1));
