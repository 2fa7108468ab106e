-- 0015: the group's measured second-pass times (shown by /progress, /roadmap and /join) were
-- summed from every pass of the server, a read that grew with the server (100,000 passes in
-- the largest). A partial index holds only the passes whose time was reported, in the order
-- the sum groups them, so the read touches those alone.
CREATE INDEX passes_reported_time ON passes (guild_id, pass, video_id, spent_minutes)
    WHERE spent_minutes IS NOT NULL;
