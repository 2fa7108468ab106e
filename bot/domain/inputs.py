"""Parsing and checking what users type: timezones, times, dates, links, notes."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import cache
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.domain.errors import BadInput

MAX_BACKDATE_DAYS = 7
NOTE_MAX = 300
LINK_MAX = 300
PACE_RANGE = (1, 60)  # hours per week; the slash option enforces it too
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


def parse_study_date(text: str | None, today: date) -> date:
    """The day a pass was studied: today by default, up to a week back, never in the future."""
    if text is None or not text.strip() or text.strip().lower() == "today":
        return today
    cleaned = text.strip().lower()
    if cleaned == "yesterday":
        day = today - timedelta(days=1)
    else:
        try:
            day = date.fromisoformat(cleaned)
        except ValueError:
            raise BadInput(
                f"`{text}` is not a date: use `YYYY-MM-DD`, `today` or `yesterday`."
            ) from None
    if day > today:
        raise BadInput(
            f"{day.isoformat()} is in the future: log a pass on or after the day you study it."
        )
    if (today - day).days > MAX_BACKDATE_DAYS:
        raise BadInput(
            f"{day.isoformat()} is more than {MAX_BACKDATE_DAYS} days ago: passes can be back-dated "
            f"by up to {MAX_BACKDATE_DAYS} days."
        )
    return day


def parse_link(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    link = text.strip()
    parsed = urlparse(link)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(link) > LINK_MAX:
        raise BadInput(
            f"The link must be a full http(s) address of at most {LINK_MAX} characters, "
            "e.g. `https://github.com/you/micrograd`."
        )
    return link


def parse_note(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    note = " ".join(text.split())
    if len(note) > NOTE_MAX:
        raise BadInput(f"Keep the note to {NOTE_MAX} characters (it has {len(note)}).")
    return note


def check_pace(hours: float) -> float:
    low, high = PACE_RANGE
    if not low <= hours <= high:
        raise BadInput(f"Pace must be between {low} and {high} hours a week.")
    return float(hours)


def parse_weekday(text: str) -> int:
    cleaned = text.strip().lower()
    for index, name in enumerate(WEEKDAYS):
        if cleaned in (name, name[:3]):
            return index
    raise BadInput(f"`{text}` is not a day of the week: use e.g. `monday` or `fri`.")


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()
