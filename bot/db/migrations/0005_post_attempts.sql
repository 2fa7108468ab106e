-- 0005: retrying a post that failed.
-- * posts.attempts: how many times the post was tried, the first try included. Retries are
--   spaced by it: the first comes within a minute, while Discord still recognises the post's
--   nonce, later ones every few minutes.
-- * posts.attempted_at: when it was last tried (NULL on reservations older than this column:
--   their reserved_at stands in).

ALTER TABLE posts ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE posts ADD COLUMN attempted_at TEXT;
