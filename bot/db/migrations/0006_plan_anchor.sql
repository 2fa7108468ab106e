-- 0006: a member's plan starts where it was last set, not always at the join date.
-- Coming back after /leave, or changing pace, re-anchors the plan on that day with the study
-- already done, so a returning member is not told they are 90 days behind, and a new pace is
-- not applied retroactively. NULL plan_start means the join day (rows from before this).

ALTER TABLE members ADD COLUMN plan_start TEXT;
ALTER TABLE members ADD COLUMN plan_credit REAL NOT NULL DEFAULT 0 CHECK (plan_credit >= 0);
