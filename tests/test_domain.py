"""Pure study rules: no Discord, no database, no clock."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot import timekeeping
from bot.errors import BadInput
from bot.learners import inputs, plan
from bot.learners.errors import UnknownVideo
from bot.learners.progress import bar, milestone, replay
from bot.learners.records import HistoryEntry
from bot.learners.videos import MAX_CHOICES, choices, matches, resolve
from curriculum import Pass, default_curriculum

ROADMAP = default_curriculum()
ALL = {(v.id, int(p)) for _, v in ROADMAP.videos() for p in Pass}
TODAY = date(2026, 3, 10)


# --- plan ---------------------------------------------------------------------------------------


def test_steps_alternate_first_and_second_pass_in_roadmap_order() -> None:
    steps = plan.steps(ROADMAP)
    assert len(steps) == 38
    assert [s.key for s in steps[:3]] == [
        ("neural-network", 1),
        ("neural-network", 2),
        ("gradient-descent", 1),
    ]
    assert steps[-1].ends_at == pytest.approx(ROADMAP.estimate_minutes)


def test_next_step_is_the_earliest_missing_pass() -> None:
    assert plan.next_step(ROADMAP, set()).key == ("neural-network", 1)  # type: ignore[union-attr]
    done = {("neural-network", 1), ("gradient-descent", 1)}
    assert plan.next_step(ROADMAP, done).key == ("neural-network", 2)  # type: ignore[union-attr]
    assert plan.next_step(ROADMAP, ALL) is None


def test_credit_counts_a_second_pass_two_and_a_half_times() -> None:
    assert plan.credit(ROADMAP, [("gpt", 1)]) == 116
    assert plan.credit(ROADMAP, [("gpt", 1), ("gpt", 2)]) == 116 * 3.5
    assert plan.credit(ROADMAP, [("retired-video", 1)]) == 0


def test_standing_on_track_behind_and_ahead() -> None:
    per_day = plan.minutes_per_day(7)  # one hour a day
    assert per_day == 60
    start = TODAY - timedelta(days=5)  # five whole days before today: 300 min expected
    behind = plan.standing(ROADMAP, set(), start=start, pace_hours=7, today=TODAY)
    assert behind.days_ahead == -5 and behind.clause == "you are 5 days behind plan"
    # 19+47.5+21+52.5+13+32.5+10+25 = 220.5 min: one day and a bit behind, rounded toward zero.
    done = {
        (v, p)
        for v in ("neural-network", "gradient-descent", "backprop-intuition", "backprop-calculus")
        for p in (1, 2)
    }
    assert (
        plan.standing(ROADMAP, done, start=start, pace_hours=7, today=TODAY).clause
        == "you are 1 day behind plan"
    )
    ahead = plan.standing(ROADMAP, done, start=TODAY, pace_hours=7, today=TODAY)
    assert ahead.days_ahead == 3 and ahead.clause == "you are 3 days ahead of plan"
    on_track = plan.standing(
        ROADMAP,
        {("neural-network", 1)},  # 19 minutes on the first day: a third of a day ahead
        start=TODAY,
        pace_hours=7,
        today=TODAY,
    )
    assert on_track.clause == "you are on track"
    finished = plan.standing(ROADMAP, ALL, start=start, pace_hours=7, today=TODAY)
    assert finished.finish is None and finished.clause == "you have finished the roadmap"


def test_projected_finish_follows_the_pace() -> None:
    total_days = ROADMAP.estimate_minutes / plan.minutes_per_day(5)
    finish = plan.projected_finish(ROADMAP, set(), pace_hours=5, today=TODAY).day
    assert finish is not None and (finish - TODAY).days == int(-(-total_days // 1)) - 1
    faster = plan.projected_finish(ROADMAP, set(), pace_hours=10, today=TODAY).day
    assert faster is not None and faster < finish
    assert plan.projected_finish(ROADMAP, ALL, pace_hours=5, today=TODAY).day is None


def test_projected_finish_times_second_passes_by_the_group_where_it_measured_them() -> None:
    # Left: the second pass of the 19-minute first video. At 1 h a week (60/7 min a day):
    # 2.5x is 47.5 min, 5.54 days, so the sixth day, Sun 15 Mar counting today (Tue 10 Mar);
    # the group's 3x is 57 min, 6.65 days: Mon 16 Mar.
    left = ALL - {("neural-network", 2)}
    model = plan.projected_finish(ROADMAP, left, pace_hours=1, today=TODAY)
    assert model == plan.Finish(date(2026, 3, 15), by_group=False)
    measured = plan.projected_finish(
        ROADMAP, left, pace_hours=1, today=TODAY, ratios={"neural-network": 3.0}
    )
    assert measured == plan.Finish(date(2026, 3, 16), by_group=True)
    # A ratio for a second pass already done, or one that leaves the day where it was, changes
    # nothing the member is told.
    for ratios in ({"gradient-descent": 3.0}, {"neural-network": 2.6}):
        assert plan.projected_finish(
            ROADMAP, left, pace_hours=1, today=TODAY, ratios=ratios
        ) == plan.Finish(date(2026, 3, 15), by_group=False)
    # The plan's due dates stay on the time model: only the finish moves.
    start = TODAY - timedelta(days=3)
    standing = plan.standing(
        ROADMAP, left, start=start, pace_hours=1, today=TODAY, ratios={"neural-network": 3.0}
    )
    assert standing.finish == date(2026, 3, 16) and standing.finish_by_group
    assert (
        standing.days_ahead
        == plan.standing(ROADMAP, left, start=start, pace_hours=1, today=TODAY).days_ahead
    )


def test_remaining_minutes_are_the_passes_not_done_at_their_estimate_or_the_groups_ratio() -> None:
    rng = random.Random(7)
    videos = [video for _, video in ROADMAP.videos()]
    for _ in range(200):
        done = set(rng.sample(sorted(ALL), rng.randrange(len(ALL) + 1)))
        if rng.random() < 0.3:
            done.add(("not-on-the-roadmap", 1))  # worth nothing, so it frees nothing
        ratios = {v.id: rng.uniform(1.5, 4.0) for v in rng.sample(videos, rng.randrange(4))}
        ratios["not-on-the-roadmap"] = 3.0  # a measured video that left the roadmap
        # The definition, pass by pass over the roadmap.
        expected = sum(
            video.minutes * ratios[video.id]
            if which is Pass.SECOND and video.id in ratios
            else video.pass_minutes(which)
            for _, video in ROADMAP.videos()
            for which in Pass
            if (video.id, int(which)) not in done
        )
        assert plan.remaining_minutes(ROADMAP, done, ratios) == pytest.approx(expected, abs=1e-6)
        assert plan.remaining_minutes(ROADMAP, done) == pytest.approx(
            sum(plan.credit(ROADMAP, [key]) for key in ALL - done), abs=1e-6
        )
    assert plan.remaining_minutes(ROADMAP, ALL, {"neural-network": 3.0}) == 0


def test_cohort_step_walks_the_roadmap_from_the_start_day() -> None:
    start = date(2026, 3, 2)
    assert plan.cohort_step(
        ROADMAP, start=start, pace_hours=7, day=start - timedelta(days=3)
    ).key == ("neural-network", 1)  # type: ignore[union-attr]
    assert plan.cohort_step(ROADMAP, start=start, pace_hours=7, day=start).key == (
        "neural-network",
        1,
    )  # type: ignore[union-attr]
    # Day 1: 60 minutes in, inside the second pass of the first video (19 + 47.5).
    assert plan.cohort_step(
        ROADMAP, start=start, pace_hours=7, day=start + timedelta(days=1)
    ).key == ("neural-network", 2)  # type: ignore[union-attr]
    assert (
        plan.cohort_step(ROADMAP, start=start, pace_hours=7, day=start + timedelta(days=400))
        is None
    )


# --- inputs -------------------------------------------------------------------------------------


def test_timezones() -> None:
    # The rules live in bot.zones (tests/test_zones.py); here, that refusals become BadInput.
    assert timekeeping.parse_timezone(" Europe/Paris ") == "Europe/Paris"
    assert timekeeping.parse_timezone("berlin") == "Europe/Berlin"
    for bad in ("Mars/Olympus", "../../etc/passwd", "America", "localtime", "EST"):
        with pytest.raises(BadInput):
            timekeeping.parse_timezone(bad)


def test_clock_times() -> None:
    assert timekeeping.parse_clock("18:30", "x") == time(18, 30)
    assert timekeeping.parse_clock("7:05", "x") == time(7, 5)
    for bad in ("25:00", "18:60", "noon", "1830pm", ""):
        with pytest.raises(BadInput, match="HH:MM"):
            timekeeping.parse_clock(bad, "check-in time")


def test_study_date_is_at_most_a_week_back_and_never_ahead() -> None:
    assert inputs.parse_study_date(None, TODAY) == TODAY
    assert inputs.parse_study_date("yesterday", TODAY) == TODAY - timedelta(days=1)
    assert inputs.parse_study_date("2026-03-03", TODAY) == date(2026, 3, 3)
    with pytest.raises(BadInput, match="more than 7 days ago"):
        inputs.parse_study_date("2026-03-02", TODAY)
    with pytest.raises(BadInput, match="in the future"):
        inputs.parse_study_date("2026-03-11", TODAY)
    with pytest.raises(BadInput, match="not a date"):
        inputs.parse_study_date("last tuesday", TODAY)


def test_links_notes_pace_and_weekdays() -> None:
    assert inputs.parse_link(" https://github.com/a/b ") == "https://github.com/a/b"
    for bad in ("https://a b", "javascript:alert(1)", "https://" + "x" * 600, "http://localhost"):
        with pytest.raises(BadInput, match="link"):
            inputs.parse_link(bad)
    assert inputs.parse_note("  two   words ") == "two words"
    with pytest.raises(BadInput, match="300 characters"):
        inputs.parse_note("x" * 301)
    assert inputs.check_pace(6) == 6.0
    with pytest.raises(BadInput):
        inputs.check_pace(0.5)
    assert timekeeping.parse_weekday("Fri") == 4
    with pytest.raises(BadInput):
        timekeeping.parse_weekday("someday")


def test_local_today_uses_the_members_zone() -> None:
    late = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    assert timekeeping.local_today(late, "UTC") == date(2026, 3, 10)
    assert timekeeping.local_today(late, "Asia/Tokyo") == date(2026, 3, 11)
    assert timekeeping.local_today(late, "America/Los_Angeles") == date(2026, 3, 10)


# --- finding videos -----------------------------------------------------------------------------


def test_resolve_by_id_number_and_title_words() -> None:
    assert resolve(ROADMAP, "micrograd").id == "micrograd"
    assert resolve(ROADMAP, "10").id == "micrograd"
    assert resolve(ROADMAP, " MICROGRAD ").id == "micrograd"
    assert resolve(ROADMAP, "backprop ninja").id == "makemore-4"
    assert resolve(ROADMAP, "wavenet").id == "makemore-5"


def test_unknown_video_suggests_the_nearest() -> None:
    with pytest.raises(UnknownVideo) as caught:
        resolve(ROADMAP, "micrgrad")
    assert "`micrograd`" in caught.value.message and caught.value.message.startswith(
        "No such video"
    )
    with pytest.raises(UnknownVideo) as ambiguous:
        resolve(ROADMAP, "makemore")
    assert len(ambiguous.value.suggestions) == 3
    with pytest.raises(UnknownVideo, match="roadmap"):
        resolve(ROADMAP, "zzzzzz")
    # Digits that are not 0-9 (superscripts, circled numbers) are not a video's number.
    for typed in ("²", "①", "1²"):
        with pytest.raises(UnknownVideo):
            resolve(ROADMAP, typed)
        assert choices(ROADMAP, typed) == []


def test_autocomplete_stays_within_discords_limits() -> None:
    everything = choices(ROADMAP, "")
    assert len(everything) == 19 <= MAX_CHOICES
    assert everything[9].value == "micrograd" and everything[9].name.startswith(
        "10. Building micrograd"
    )
    assert all(len(c.name) <= 100 for c in everything)
    assert [c.value for c in choices(ROADMAP, "attention")] == ["attention"]
    assert [v.id for v in matches(ROADMAP, "1")][:2] == ["neural-network", "micrograd"]


# --- progress -----------------------------------------------------------------------------------


def test_milestones() -> None:
    phase3 = {("intro-llms", 1), ("intro-llms", 2), ("deep-dive-llms", 1)}
    assert milestone(ROADMAP, phase3, phase3 | {("deep-dive-llms", 2)}) == (
        "Phase complete: Deepen context (bonus talks). Every video, both passes."
    )
    almost = ALL - {("gpt", 2)}
    assert "whole roadmap" in (milestone(ROADMAP, almost, ALL) or "")
    assert milestone(ROADMAP, set(), {("gpt", 1)}) is None


def test_replay_of_history() -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)

    def entry(i: int, video: str, p: int, action: str) -> HistoryEntry:
        return HistoryEntry(i, 1, video, p, action, 1, at, at.date(), None, None)

    history = [
        entry(1, "gpt", 1, "log"),
        entry(2, "gpt", 2, "log"),
        entry(3, "gpt", 2, "undo"),
        entry(4, "gpt", 2, "log"),
    ]
    assert replay(history) == {("gpt", 1), ("gpt", 2)}
    assert replay(history[:3]) == {("gpt", 1)}


def test_bar() -> None:
    assert bar(0) == "░" * 12 and bar(1) == "█" * 12 and bar(0.5) == "█" * 6 + "░" * 6
    assert bar(7) == "█" * 12


def test_standing_is_not_fooled_by_float_noise() -> None:
    # 29 idle days at 5 h a week is exactly 29 days behind, not 28.
    start = TODAY - timedelta(days=29)
    assert plan.standing(ROADMAP, set(), start=start, pace_hours=5, today=TODAY).days_ahead == -29
    start = TODAY - timedelta(days=3)
    assert plan.standing(ROADMAP, set(), start=start, pace_hours=3, today=TODAY).days_ahead == -3


def test_a_pass_is_logged_only_on_a_video_whose_words_begin_with_what_was_typed() -> None:
    # Fragments inside words are fine for suggestions, not for logging a pass publicly.
    with pytest.raises(UnknownVideo):
        resolve(ROADMAP, "vid`eo")
    assert resolve(ROADMAP, "backprop calc").id == "backprop-calculus"
    assert resolve(ROADMAP, "wavenet").id == "makemore-5"
