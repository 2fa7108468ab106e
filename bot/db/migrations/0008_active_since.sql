-- 0008: when a member last (re)joined. A member who comes back after /leave is new to the
-- group again: not "quiet for 14 days" in /cohort, not nudged by the next check-in.
-- NULL means since joined_at (rows from before this).

ALTER TABLE members ADD COLUMN active_since TEXT;
