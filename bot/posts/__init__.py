"""Scheduled posts: the cohort's daily video and the weekly check-in, each exactly once.

`scheduler` builds APScheduler jobs from the servers' settings; `publisher` reserves a post's
period, sends its parts through `poster` (Discord, paced by `throttle`) and records each step in
`repo`; `compose` gathers the numbers from the learners and the group; `render` writes the
messages; `schedule` and `checkin` are the rules (when a post is due, which period it is for, what
a week's check-in counts); `messages` is a post's messages as plain data."""
