"""Plain-language pieces: counts, dates, week titles, hours."""

from __future__ import annotations

from datetime import date

import pytest

from bot.wording import date_range, hours, hours_range, plural, short_date, week_title


@pytest.mark.parametrize(
    ("n", "word", "shown"),
    [
        (1, "active member", "1 active member"),
        (2, "active member", "2 active members"),
        (0, "active member", "0 active members"),
        (1, "pass", "1 pass"),
        (3, "pass", "3 passes"),
        (2, "box", "2 boxes"),
        (2, "match", "2 matches"),
        (2, "reply", "2 replies"),
        (2, "day", "2 days"),
        (2, "freeze", "2 freezes"),
        (1200, "pass", "1,200 passes"),
        (1.5, "hour", "1.5 hours"),
        (1.0, "hour", "1 hour"),
        (-1, "day", "-1 days"),
    ],
)
def test_plural(n: float, word: str, shown: str) -> None:
    assert plural(n, word) == shown


def test_plural_with_an_irregular_form() -> None:
    assert plural(1, "person", "people") == "1 person"
    assert plural(4, "person", "people") == "4 people"


def test_short_date() -> None:
    assert short_date(date(2026, 3, 3)) == "Tue 3 Mar"
    assert short_date(date(2026, 3, 3), today=date(2026, 3, 10)) == "Tue 3 Mar"
    assert short_date(date(2025, 12, 30), today=date(2026, 1, 2)) == "Tue 30 Dec 2025"


@pytest.mark.parametrize(
    ("first", "title"),
    [
        (date(2026, 3, 2), "Week of 2-8 March"),
        (date(2026, 3, 30), "Week of 30 March - 5 April"),
        (date(2025, 12, 29), "Week of 29 December 2025 - 4 January 2026"),
        (date(2026, 2, 23), "Week of 23 February - 1 March"),
        (date(2024, 2, 26), "Week of 26 February - 3 March"),  # leap year
        (date(2026, 12, 1), "Week of 1-7 December"),
    ],
)
def test_week_title(first: date, title: str) -> None:
    assert week_title(first) == title


def test_date_range_edges() -> None:
    assert date_range(date(2026, 3, 2), date(2026, 3, 2)) == "2 March"
    assert date_range(date(2026, 3, 8), date(2026, 3, 2)) == "2-8 March"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (5, "5 h"),
        (5.0, "5 h"),
        (2.5, "2.5 h"),
        (2.54, "2.5 h"),
        (14.5, "14.5 h"),
        (50.94, "50.9 h"),
        (1234.0, "1234 h"),
        (0.75, "45 min"),
        (0.001, "1 min"),
        (0, "0 h"),
        (-3, "0 h"),
    ],
)
def test_hours(value: float, shown: str) -> None:
    assert hours(value) == shown


@pytest.mark.parametrize(
    ("low", "high", "shown"),
    [
        (4, 6, "4-6 h"),
        (5, 5, "~5 h"),
        (4.96, 5.04, "~5 h"),
        (6, 4, "4-6 h"),
        (2.5, 7.5, "2.5-7.5 h"),
        (30, 40, "30-40 h"),
        (0.5, 0.75, "30-45 min"),
        (0.5, 0.5, "~30 min"),
        (0.5, 1.5, "0.5-1.5 h"),
        (0, 0, "0 h"),
    ],
)
def test_hours_range_never_repeats_an_end(low: float, high: float, shown: str) -> None:
    assert hours_range(low, high) == shown
