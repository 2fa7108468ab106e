"""What a learner does: join, see today's step, log and undo passes, see their progress.

Public to other features: the records, the plan and progress rules and the video lookup; the
service through the app."""
