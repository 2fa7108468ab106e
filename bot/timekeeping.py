"""The calendar every feature shares: timezones as people type them, times of day, weekdays,
a member's or server's local date, and the one definition of "this week".

"This week" is the server's: Monday to Sunday in the server's timezone. Boards, weekly totals
and a member's "hours this week" all use it. A pass counts in the week of its study day as the
server's calendar has it (`pass_week`), so a pass logged today is always on the current board,
whatever the member's own timezone says about the date."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from bot import zones
from bot.errors import BadInput

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_timezone(text: str) -> str:
    """The canonical zone for what a member typed (`Berlin`, `europe/berlin`, `New York`);
    the rules and their refusals are `bot.zones`'."""
    try:
        return zones.resolve_timezone(text)
    except zones.BadTimezone as refused:
        raise BadInput(refused.message) from None


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
    # A stored zone this host cannot load falls back to UTC (logged once) rather than failing
    # every command and post of that member or server.
    return now.astimezone(zones.safe_zone(timezone)).date()


def week_start(day: date) -> date:
    """The Monday of the week `day` is in: the key of weekly totals, boards and check-ins."""
    return day - timedelta(days=day.weekday())


def pass_week(study_date: date, member_today: date, server_today: date) -> date:
    """The week a pass counts in: its study day (the member's calendar) moved onto the server's
    calendar by the difference between the two calendars when it is logged. A pass for today
    counts in the server's current week even when the member is already on Monday (or still on
    Sunday) in their own timezone; a back-dated pass keeps its distance from today."""
    return week_start(study_date + (server_today - member_today))


def this_week(now: datetime, timezone: str) -> date:
    """The Monday of the current week in `timezone`."""
    return week_start(local_today(now, timezone))
