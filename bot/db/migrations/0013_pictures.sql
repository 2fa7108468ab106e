-- 0013: what the pictures need that the tables did not hold.
-- * post_parts.file: the PNG a part carries (the check-in's chart), rendered when the post is
--   composed and stored with its part, so a retry uploads the very bytes composed then. Its
--   file name and alt text are in the part's body JSON ("file").
-- * members.display_name: the name a picture draws for a member (the cohort map, the check-in's
--   chart), as Discord showed it when they last ran /join. The bot has no member list (no
--   privileged intents), so it keeps the name it was given; mentions stay the text's way.
-- Numbered 0013: 0012 is taken by another change on its way in (the loader wants 1..n).

ALTER TABLE post_parts ADD COLUMN file BLOB;
ALTER TABLE members ADD COLUMN display_name TEXT;
