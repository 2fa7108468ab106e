"""Scheduled posts: the cohort's daily video and the check-in, each exactly once, through an outbox.

`scheduler` builds APScheduler jobs from the servers' settings; `publisher` composes a due post,
reserves its period with every part in one transaction (`repo`), and delivers the stored parts
through `poster` (Discord, paced by `throttle`); `compose` gathers the numbers from the learners
and the group; `render` writes the messages; `schedule` and `checkin` are the rules (when a post
is due, which days a check-in covers); `messages` is a post's messages as plain data.

States, all in the database (`posts.state`, `post_parts.state`):

| post      | event                                            | next      | parts            |
|-----------|--------------------------------------------------|-----------|------------------|
| (none)    | due, within grace: composed and reserved at once | pending   | all pending      |
| (none)    | due, past grace (the bot was down)               | (none)    | note "skipped"   |
| pending   | a part accepted by Discord                       | pending   | that one sent    |
| pending   | the last part accepted                           | posted    | all sent         |
| pending   | a try fails (5xx, timeout; a 429 counts no fail) | pending   | next_try_at set  |
| pending   | study channel deleted / unset                    | pending   | wait for a new one |
| pending   | the admin turns the kind off (the off switch;    | cancelled | pending->cancelled |
|           | not a post asked for with `/checkin now`)        |           |                  |
| pending   | 403 in the study channel: the kind is turned off | cancelled | note "turned off"  |
| pending   | nothing out and past grace                       | cancelled | note "skipped"   |
| pending   | partly out, MAX_TRIES failures or past grace     | cancelled | note "gave up"   |

Unsent parts carry no channel: delivery sends them to the study channel the settings name then,
so `/setup channel` re-targets them. The only state kept in process memory is a due period whose
reservation the database refused (there is no row to keep it in); the sweep fires it again, and
after a restart the catch-up finds it afresh. Notes stay for `/setup show` until what they ask
for is done, and are told to the admins once (`post_notes.alerted_at`).
"""
