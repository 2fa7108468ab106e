"""Plain-language pieces for replies and posts: counts, dates, week titles, hours.

Pure functions, no Discord import. English only, as the rest of the bot.

API
---
``plural(n, word, plural_form=None) -> str``
    ``"1 active member"``, ``"2 active members"``, ``"1,200 passes"``.
``short_date(day, today=None) -> str``
    ``"Tue 3 Mar"``; with the year when it is not ``today``'s year.
``date_range(first, last) -> str``
    ``"2-8 March"``, ``"30 March - 5 April"``, ``"29 December 2025 - 4 January 2026"``.
``week_title(first_day) -> str``
    ``"Week of 2-8 March"``: the seven days starting at ``first_day``.
``hours(value) -> str``
    ``"5 h"``, ``"2.5 h"``, ``"45 min"``.
``hours_range(low, high) -> str``
    ``"4-6 h"``, and ``"~5 h"`` when both ends read the same (never ``"5-5 h"``).
"""

from __future__ import annotations

from datetime import date, timedelta

__all__ = ["date_range", "hours", "hours_range", "plural", "short_date", "week_title"]

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def plural(n: float, word: str, plural_form: str | None = None) -> str:
    """``n`` and ``word``, the word's last part in the plural unless ``n`` is exactly 1.

    Regular English plurals (member -> members, pass -> passes, reply -> replies); give
    ``plural_form`` for anything else (``plural(n, "person", "people")``). Whole numbers get
    thousands separators; other numbers are shown as they are (``1.5 hours``).
    """
    count = f"{int(n):,}" if float(n).is_integer() else f"{n:g}"
    if n == 1:
        return f"{count} {word}"
    return f"{count} {plural_form if plural_form is not None else _plural(word)}"


def _plural(phrase: str) -> str:
    head, _, last = phrase.rpartition(" ")
    lower = last.lower()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        last += "es"
    elif lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def short_date(day: date, today: date | None = None) -> str:
    """``"Tue 3 Mar"``; ``"Tue 30 Dec 2025"`` when ``today`` is in another year."""
    text = f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1][:3]}"
    if today is not None and today.year != day.year:
        text += f" {day.year}"
    return text


def date_range(first: date, last: date) -> str:
    """Two days as a short range, saying the month and year only where they change.

    ``"2-8 March"``, ``"30 March - 5 April"``, ``"29 December 2025 - 4 January 2026"``;
    a single day is ``"2 March"``. The ends are put in order if given the wrong way round.
    """
    first, last = min(first, last), max(first, last)
    if first == last:
        return f"{first.day} {_MONTHS[first.month - 1]}"
    if first.year != last.year:
        return f"{_day_month(first)} {first.year} - {_day_month(last)} {last.year}"
    if first.month != last.month:
        return f"{_day_month(first)} - {_day_month(last)}"
    return f"{first.day}-{last.day} {_MONTHS[first.month - 1]}"


def _day_month(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]}"


def week_title(first_day: date) -> str:
    """``"Week of 2-8 March"``: the title for the seven days that start at ``first_day``."""
    return f"Week of {date_range(first_day, first_day + timedelta(days=6))}"


def _number(value: float) -> str:
    """Hours to one decimal, without a trailing ``.0``: ``2.5``, ``5``, ``50.9``."""
    return f"{value:.1f}".removesuffix(".0")


def hours(value: float) -> str:
    """A duration given in hours: ``"5 h"``, ``"2.5 h"``, under an hour ``"45 min"``."""
    value = max(value, 0.0)
    if 0 < value < 1:
        return f"{max(round(value * 60), 1)} min"
    return f"{_number(value)} h"


def hours_range(low: float, high: float) -> str:
    """An estimate between two durations in hours: ``"4-6 h"``, ``"30-45 min"``.

    When both ends read the same once rounded, one approximate figure: ``"~5 h"``
    (never ``"5-5 h"``). The ends are put in order if given the wrong way round.
    """
    low, high = sorted((max(low, 0.0), max(high, 0.0)))
    if high == 0:
        return "0 h"
    if high < 1:
        ends = (max(round(low * 60), 1) if low > 0 else 0, max(round(high * 60), 1))
        a, b, unit = str(ends[0]), str(ends[1]), "min"
    else:
        a, b, unit = _number(low), _number(high), "h"
    if a == b:
        return f"~{a} {unit}"
    return f"{a}-{b} {unit}"
