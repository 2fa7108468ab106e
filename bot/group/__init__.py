"""The group's views: leaderboards and the cohort map, read from totals kept per member.

Public to other features: the records and rules in `board`; the service through the app."""
