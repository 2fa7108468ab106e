"""Study rules: plans, today's step, progress, points, streaks, boards. No Discord in here.

Every function takes `now` (a timezone-aware datetime) instead of reading the clock.
"""
