"""The weekly check-in's numbers, from plain records (no store, no Discord)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from bot.group.board import BoardEntry, CohortPass, CohortView
from bot.learners import plan
from bot.learners.plan import credit
from bot.learners.records import Member
from bot.posts import render as render_posts
from bot.posts.checkin import summarize
from curriculum import default_curriculum

ROADMAP = default_curriculum()
NOW = datetime(2026, 3, 8, 17, 0, tzinfo=UTC)  # Sunday evening


def member(user: int, joined: date, reminders: bool = False) -> Member:
    return Member(
        1,
        user,
        datetime(joined.year, joined.month, joined.day, tzinfo=UTC),
        5.0,
        "UTC",
        True,
        reminders,
    )


def test_week_in_numbers_lines_and_nudges() -> None:
    members = [
        member(1, date(2026, 2, 1)),
        member(2, date(2026, 2, 1), reminders=True),  # quiet, opted in: nudged
        member(3, date(2026, 2, 1)),  # quiet, not opted in: left alone
        member(4, date(2026, 3, 6), reminders=True),  # joined two days ago: not nudged yet
        member(5, date(2026, 2, 1)),
        # Joined long ago, left, came back two days ago: new to the group again, not nudged.
        replace(
            member(6, date(2025, 9, 1), reminders=True),
            active_since=datetime(2026, 3, 6, tzinfo=UTC),
        ),
    ]
    passes = [
        CohortPass(1, "micrograd", 1, date(2026, 3, 2)),  # first day of the window
        CohortPass(1, "micrograd", 2, date(2026, 3, 8)),
        CohortPass(1, "makemore", 1, date(2026, 3, 1)),  # the day before: not this week
        CohortPass(2, "gpt", 1, date(2026, 2, 20)),
        CohortPass(5, "intro-llms", 1, date(2026, 3, 5)),
    ]
    week = summarize(ROADMAP, members, passes, now=NOW, timezone="Europe/Berlin")
    assert (week.since, week.until) == (date(2026, 3, 2), date(2026, 3, 8))
    assert week.roster == 6 and week.passes == 3
    assert [w.user_id for w in week.active] == [1, 5]  # most study first
    alice = week.active[0]
    assert alice.passes == (("micrograd", 1), ("micrograd", 2))
    assert alice.minutes == credit(ROADMAP, alice.passes)
    assert week.minutes == alice.minutes + week.active[1].minutes
    # Against her own plan, on her own calendar day (the window's last day, in UTC): 2 passes
    # (micrograd 145 + 362.5 min) against the 5 h a week she planned from her join day.
    held = {("micrograd", 1), ("micrograd", 2), ("makemore", 1)}
    assert alice.standing == plan.member_standing(ROADMAP, members[0], held, date(2026, 3, 8))
    assert alice.standing.done_minutes == credit(ROADMAP, held)
    assert week.nudge == (2,)


def test_an_empty_server_has_an_empty_week() -> None:
    week = summarize(ROADMAP, [], [], now=NOW, timezone="UTC")
    assert week.roster == week.passes == 0 and week.active == () and week.nudge == ()


def test_a_video_no_longer_on_the_roadmap_still_renders() -> None:
    # Logged before the roadmap dropped (or renamed) the video.
    passes = [
        CohortPass(1, "retired-video", 1, date(2026, 3, 4)),
        CohortPass(1, "micrograd", 1, date(2026, 3, 5)),
    ]
    week = summarize(ROADMAP, [member(1, date(2026, 2, 1))], passes, now=NOW, timezone="UTC")
    assert week.passes == 2 and week.minutes == credit(ROADMAP, [("micrograd", 1)])
    post = render_posts.checkin(ROADMAP, "2026-W10", week, [], CohortView((), (1,), (), (), ()))
    lines = str(post.parts[0].embeds)
    # One short line per member: passes, hours and the furthest pass, whatever it was.
    assert "2 passes" in lines and "up to retired-video (first)" in lines


def test_the_top_three_say_which_seven_days_they_count() -> None:
    # A Sunday check-in counts Monday to Sunday, a Wednesday one the seven days to Wednesday:
    # not /leaderboard's "this week" (since Monday), so it does not borrow its name.
    passes = [CohortPass(1, "micrograd", 1, date(2026, 3, 5))]
    week = summarize(ROADMAP, [member(1, date(2026, 2, 1))], passes, now=NOW, timezone="UTC")
    top = [BoardEntry(1, 1, week.hours, 1)]
    post = render_posts.checkin(ROADMAP, "2026-W10", week, top, CohortView((), (1,), (), (), ()))
    names = [f["name"] for f in post.head.embeds[0]["fields"]]
    # One entry is not a "top three".
    assert "Most study of the last 7 days" in names and "Top three" not in str(names)
