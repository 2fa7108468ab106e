"""Forgiving streaks, checked against hand-computed histories."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from bot.learners.streaks import FREEZE_EVERY, MAX_FREEZES, Streak, streak_of, streak_sentence

TODAY = date(2026, 3, 10)  # a Tuesday


def run(last: date, n: int) -> set[date]:
    """``n`` days in a row ending on ``last``."""
    return {last - timedelta(days=i) for i in range(n)}


def d(day: int, month: int = 3) -> date:
    return date(2026, month, day)


def test_no_history() -> None:
    streak = streak_of([], TODAY)
    assert streak == Streak(0, 0, 0, None, False)
    assert not streak.alive
    assert streak_sentence(streak, TODAY) == "no passes yet; log one today to start a streak"


def test_a_first_pass_today_starts_a_one_day_streak() -> None:
    streak = streak_of([TODAY], TODAY)
    assert streak == Streak(1, 1, 0, TODAY, True)
    assert streak_sentence(streak, TODAY) == "1-day streak"


def test_today_without_a_pass_yet_breaks_nothing() -> None:
    streak = streak_of(run(d(9), 5), TODAY)
    assert (streak.current, streak.alive, streak.studied_today) == (5, True, False)
    assert streak_sentence(streak, TODAY) == "5-day streak; log a pass today to make it 6"


def test_a_missed_day_without_a_freeze_breaks_the_streak() -> None:
    streak = streak_of(run(d(8), 5), TODAY)  # Mar 4-8, nothing on Mar 9
    assert (streak.current, streak.best, streak.freezes_held) == (0, 5, 0)
    assert streak.last_studied == d(8)
    assert streak_sentence(streak, TODAY) == (
        "last studied Sun 8 Mar; log a pass today to start a new streak"
    )


def test_seven_days_in_a_row_earn_one_freeze() -> None:
    assert streak_of(run(TODAY, 6), TODAY).freezes_held == 0
    streak = streak_of(run(TODAY, 7), TODAY)
    assert (streak.current, streak.freezes_held) == (7, 1)
    assert streak_sentence(streak, TODAY) == "7-day streak, 1 freeze saved"


def test_a_missed_day_after_that_spends_the_freeze_and_the_streak_goes_on() -> None:
    # Mar 1-7 (earns a freeze), Mar 8 missed (frozen), Mar 9-10 studied.
    streak = streak_of(run(d(7), 7) | {d(9), d(10)}, TODAY)
    # The frozen day keeps the streak alive but does not count: 7 + 2, not 10.
    assert (streak.current, streak.best, streak.freezes_held) == (9, 9, 0)


def test_two_missed_days_with_one_freeze_break_it_and_keep_the_freeze() -> None:
    # Mar 1-7 (one freeze), Mar 8 and 9 missed, Mar 10 studied.
    streak = streak_of(run(d(7), 7) | {d(10)}, TODAY)
    assert (streak.current, streak.best, streak.freezes_held) == (1, 7, 1)


def test_two_freezes_cover_two_missed_days() -> None:
    # Feb 22 - Mar 7 is 14 days (two freezes); Mar 8, 9 missed; Mar 10 studied.
    streak = streak_of(run(d(7), 14) | {TODAY}, TODAY)
    assert (streak.current, streak.freezes_held) == (15, 0)


def test_freezes_are_capped_at_two() -> None:
    assert MAX_FREEZES == 2 and FREEZE_EVERY == 7
    assert streak_of(run(TODAY, 14), TODAY).freezes_held == 2
    assert streak_of(run(TODAY, 21), TODAY).freezes_held == 2
    streak = streak_of(run(TODAY, 28), TODAY)
    assert (streak.current, streak.freezes_held) == (28, 2)
    assert streak_sentence(streak, TODAY) == "28-day streak, 2 freezes saved"


def test_a_missed_day_restarts_the_count_towards_the_next_freeze() -> None:
    # Feb 20 - Mar 1: 10 days (one freeze, 3 towards the next); Mar 2 missed (frozen);
    # Mar 3-6: 4 days, not 7 in a row, so nothing earned; Mar 7 missed: no freeze left.
    days = run(d(1), 10) | run(d(6), 4) | run(d(10), 3)
    streak = streak_of(days, TODAY)
    assert (streak.current, streak.best, streak.freezes_held) == (3, 14, 0)


def test_a_freeze_covers_yesterday_while_today_is_still_open() -> None:
    # Mar 2-8 (one freeze), yesterday Mar 9 missed, nothing yet today.
    streak = streak_of(run(d(8), 7), TODAY)
    assert (streak.current, streak.freezes_held, streak.alive) == (7, 0, True)
    assert streak_sentence(streak, TODAY) == "7-day streak; log a pass today to make it 8"


def test_a_gap_too_long_for_the_freezes_ends_the_streak_before_today() -> None:
    # Mar 1-7 (one freeze), Mar 8 and 9 missed, nothing yet today.
    streak = streak_of(run(d(7), 7), TODAY)
    assert (streak.current, streak.best, streak.freezes_held) == (0, 7, 1)
    assert streak_sentence(streak, TODAY) == (
        "last studied Sat 7 Mar; log a pass today to start a new streak (1 freeze saved)"
    )


def test_the_best_streak_over_the_history() -> None:
    days = run(d(20, 1), 12) | run(d(10, 2), 5) | run(TODAY, 3)
    streak = streak_of(days, TODAY)
    assert (streak.current, streak.best) == (3, 12)


def test_a_day_after_today_counts_as_today() -> None:
    # After a timezone change the pass just logged is dated tomorrow.
    streak = streak_of([d(11)], TODAY)
    assert (streak.current, streak.studied_today, streak.last_studied) == (1, True, TODAY)
    streak = streak_of([d(8), d(9), d(11), d(12)], TODAY)
    assert (streak.current, streak.best) == (3, 3)


def test_order_and_repeats_do_not_matter() -> None:
    days = [d(10), d(8), d(9), d(9), d(10)]
    assert streak_of(days, TODAY) == streak_of(iter(sorted(set(days))), TODAY)
    assert streak_of(days, TODAY).current == 3


def test_the_year_is_said_when_the_last_study_day_was_last_year() -> None:
    today = date(2026, 1, 5)
    streak = streak_of([date(2025, 12, 30)], today)
    assert streak_sentence(streak, today) == (
        "last studied Tue 30 Dec 2025; log a pass today to start a new streak"
    )


def _day_by_day(days: set[date], today: date) -> tuple[int, int, int]:
    """The rules walked one calendar day at a time: a slower, independent reference."""
    if not days:
        return 0, 0, 0
    cursor = min(days)
    run = best = freezes = in_row = 0
    while cursor <= today:
        if cursor in days:
            run += 1
            in_row += 1
            if in_row == 7:
                in_row, freezes = 0, min(freezes + 1, 2)
            best = max(best, run)
        elif cursor < today:
            in_row = 0
            # Count the whole gap first: freezes are spent only if they cover all of it.
            gap_end = cursor
            while gap_end + timedelta(days=1) < today and gap_end + timedelta(days=1) not in days:
                gap_end += timedelta(days=1)
            missed = (gap_end - cursor).days + 1
            if missed <= freezes:
                freezes -= missed
            else:
                run = 0
            cursor = gap_end
        cursor += timedelta(days=1)
    return run, best, freezes


def test_random_histories_match_a_day_by_day_walk() -> None:
    rng = random.Random(7)
    for _ in range(300):
        start = TODAY - timedelta(days=rng.randint(0, 120))
        density = rng.random()
        days = {
            start + timedelta(days=i)
            for i in range((TODAY - start).days + 1)
            if rng.random() < density
        }
        streak = streak_of(days, TODAY)
        assert (streak.current, streak.best, streak.freezes_held) == _day_by_day(days, TODAY)
        assert 0 <= streak.current <= streak.best
        assert 0 <= streak.freezes_held <= MAX_FREEZES


@pytest.mark.parametrize("n", [1, 2, 6])
def test_without_gaps_it_matches_days_in_a_row(n: int) -> None:
    assert streak_of(run(TODAY, n), TODAY).current == n
