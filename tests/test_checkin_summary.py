"""The weekly check-in's numbers, from plain records (no store, no Discord)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from bot.group.board import CohortPass, CohortView
from bot.learners import plan
from bot.learners.plan import credit
from bot.learners.records import Member
from bot.posts import render as render_posts
from bot.posts.checkin import summarize
from curriculum import default_curriculum

ROADMAP = default_curriculum()
NOW = datetime(2026, 3, 8, 17, 0, tzinfo=UTC)  # Sunday evening


def logged(user: int, video: str, pass_no: int, day: date, at: str = "") -> CohortPass:
    """A pass as the passes table holds it, with the points it was given when logged."""
    return CohortPass(user, video, pass_no, day, credit(ROADMAP, [(video, pass_no)]), at)


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
        logged(1, "micrograd", 1, date(2026, 3, 2)),  # first day of the window
        logged(1, "micrograd", 2, date(2026, 3, 8)),
        logged(1, "makemore", 1, date(2026, 3, 1)),  # the day before: not this week
        logged(2, "gpt", 1, date(2026, 2, 20)),
        logged(5, "intro-llms", 1, date(2026, 3, 5)),
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


def test_quiet_means_a_week_without_a_pass_whatever_the_window() -> None:
    members = [
        member(1, date(2026, 2, 1), reminders=True),  # studied two days before a one-day window
        member(2, date(2026, 2, 1), reminders=True),  # nothing for a fortnight
        member(3, date(2026, 2, 1), reminders=True),  # early in a long window, then quiet
    ]
    passes = [
        logged(1, "micrograd", 1, date(2026, 3, 6)),
        logged(2, "micrograd", 1, date(2026, 2, 20)),
        logged(3, "micrograd", 1, date(2026, 2, 27)),
    ]
    one_day = summarize(
        ROADMAP, members, passes, now=NOW, timezone="UTC", days=(date(2026, 3, 8), date(2026, 3, 8))
    )
    assert one_day.active == () and one_day.nudge == (2, 3)
    long = summarize(
        ROADMAP,
        members,
        passes,
        now=NOW,
        timezone="UTC",
        days=(date(2026, 2, 27), date(2026, 3, 8)),
    )
    assert [w.user_id for w in long.active] == [1, 3] and long.nudge == (2, 3)


def test_an_empty_server_has_an_empty_week() -> None:
    week = summarize(ROADMAP, [], [], now=NOW, timezone="UTC")
    assert week.roster == week.passes == 0 and week.active == () and week.nudge == ()


def test_a_video_no_longer_on_the_roadmap_still_renders() -> None:
    # Logged before the roadmap dropped (or renamed) the video.
    passes = [
        logged(1, "retired-video", 1, date(2026, 3, 4)),
        logged(1, "micrograd", 1, date(2026, 3, 5)),
    ]
    week = summarize(ROADMAP, [member(1, date(2026, 2, 1))], passes, now=NOW, timezone="UTC")
    assert week.passes == 2 and week.minutes == credit(ROADMAP, [("micrograd", 1)])
    post = render_posts.checkin(ROADMAP, week, CohortView((), (1,), (), (), ()))
    lines = str(post.parts[0].embeds)
    # One short line per member: passes, hours and the furthest pass, whatever it was.
    assert "2 passes" in lines and "up to retired-video (first)" in lines


def test_the_top_is_named_for_what_it_shows_and_counts_only_the_window() -> None:
    # Member 2 is in Tokyo: a pass logged just after the window (already the next day there)
    # belongs to the next check-in, in the top as in the numbers.
    members = [member(1, date(2026, 2, 1)), member(2, date(2026, 2, 1))]
    passes = [
        logged(1, "micrograd", 1, date(2026, 3, 5)),
        logged(2, "gpt", 1, date(2026, 3, 9)),
    ]
    days = (date(2026, 3, 2), date(2026, 3, 8))
    week = summarize(ROADMAP, members, passes, now=NOW, timezone="UTC", days=days)
    post = render_posts.checkin(ROADMAP, week, CohortView((), (1, 2), (), (), ()))
    head = post.head.embeds[0]
    assert head["title"] == "Weekly check-in - Week of 2-8 March"
    names = [f["name"] for f in head["fields"]]
    assert "Most study" in names and not any("Top three" in n for n in names)
    top = next(f["value"] for f in head["fields"] if f["name"] == "Most study")
    assert "<@1>" in top and "<@2>" not in top
    assert "**1 pass** logged" in head["description"]


def test_a_tie_goes_to_who_reached_the_window_total_first() -> None:
    members = [member(2, date(2026, 2, 1)), member(7, date(2026, 2, 1))]
    passes = [
        logged(7, "micrograd", 1, date(2026, 3, 3), "2026-03-03 09:00:00"),
        logged(2, "micrograd", 1, date(2026, 3, 4), "2026-03-04 09:00:00"),
        # Logged last but dated before the window: not part of member 7's window total.
        logged(7, "gpt", 1, date(2026, 2, 27), "2026-03-07 09:00:00"),
    ]
    days = (date(2026, 3, 2), date(2026, 3, 8))
    week = summarize(ROADMAP, members, passes, now=NOW, timezone="UTC", days=days)
    post = render_posts.checkin(ROADMAP, week, CohortView((), (2, 7), (), (), ()))
    top = next(f["value"] for f in post.head.embeds[0]["fields"] if f["name"] == "Top two")
    assert top.index("<@7>") < top.index("<@2>"), top


def test_a_shorter_window_is_titled_with_its_dates() -> None:
    week = summarize(
        ROADMAP, [], [], now=NOW, timezone="UTC", days=(date(2026, 3, 30), date(2026, 4, 1))
    )
    post = render_posts.checkin(ROADMAP, week, CohortView((), (), (), (), ()))
    assert post.head.embeds[0]["title"] == "Check-in - 30 March - 1 April"
    assert post.thread_name == "Check-in - 30 March - 1 April"
