"""The calendar every feature shares: timezones as people type them, times of day, weekdays,
a member's or server's local date, and the one definition of "this week" (weeks start on Monday,
in the timezone of whoever the week belongs to)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import BadInput

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def parse_timezone(name: str) -> str:
    name = name.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(
            f"`{name}` is not a timezone I know. Pick one from the list, e.g. `Europe/Berlin`, "
            "`America/New_York` or `UTC`."
        ) from None
    return name


def timezone_choices(typed: str, limit: int = 25) -> list[str]:
    """Zones for autocomplete: names that start with what was typed first, then any match."""
    needle = typed.strip().lower().replace(" ", "_")
    if not needle:
        popular = [
            "UTC",
            "Europe/London",
            "Europe/Berlin",
            "America/New_York",
            "America/Los_Angeles",
            "Asia/Kolkata",
            "Asia/Tokyo",
            "Australia/Sydney",
        ]
        return popular[:limit]
    starts = [z for z in _zones() if z.lower().startswith(needle)]
    contains = [z for z in _zones() if needle in z.lower() and z not in starts]
    return (starts + contains)[:limit]


_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:h.]?([0-5]\d)$")


def parse_clock(text: str, what: str) -> time:
    match = _CLOCK.match(text.strip().lower())
    if not match:
        raise BadInput(
            f"The {what} `{text}` is not a time of day: use 24-hour `HH:MM`, e.g. `18:30`."
        )
    return time(int(match[1]), int(match[2]))


def parse_weekday(text: str) -> int:
    cleaned = text.strip().lower()
    for index, name in enumerate(WEEKDAYS):
        if cleaned in (name, name[:3]):
            return index
    raise BadInput(f"`{text}` is not a day of the week: use e.g. `monday` or `fri`.")


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def week_start(day: date) -> date:
    """The Monday of the week `day` is in: the key of weekly totals, boards and check-ins."""
    return day - timedelta(days=day.weekday())


def this_week(now: datetime, timezone: str) -> date:
    """The Monday of the current week in `timezone`."""
    return week_start(local_today(now, timezone))
