"""A server's settings: the defaults a new server gets (the one definition: its first row is
written from these, every column) and what an admin may change with /setup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from bot import timekeeping
from bot.errors import BadInput
from bot.server.records import GuildSettings

# A realistic evening-and-weekend pace, the whole roadmap in about four months: the cohort's
# pace for the video of the day, and a new member's pace until they set their own.
DEFAULT_PACE_HOURS = 5.0
DEFAULT_CHECKIN_WEEKDAY = 0  # Monday
DEFAULT_CHECKIN_TIME = time(18, 0)
DEFAULT_DAILY_TIME = time(9, 0)
# How long a server's data is kept after the bot is removed from it: time to notice and
# invite it back. Then everything about the server is erased.
RETENTION = timedelta(days=30)
# The cohort's pace (hours a week), as a member's own: the /setup option enforces it too.
COHORT_PACE_RANGE = (1, 60)
# How far the cohort's start may be from today: a year covers a cohort that began last spring
# or one announced for next term; beyond that it is almost surely a typo.
COHORT_START_WINDOW = timedelta(days=366)


def defaults(guild_id: int, *, today: date, timezone: str, curriculum_id: str) -> GuildSettings:
    """What a server starts with: no study channel yet, both posts on, the cohort starting
    `today` (the server's local date) on the bot's roadmap."""
    return GuildSettings(
        guild_id=guild_id,
        study_channel_id=None,
        timezone=timezone,
        checkin_weekday=DEFAULT_CHECKIN_WEEKDAY,
        checkin_time=DEFAULT_CHECKIN_TIME,
        daily_time=DEFAULT_DAILY_TIME,
        daily_enabled=True,
        checkin_enabled=True,
        curriculum_id=curriculum_id,
        cohort_start=today,
        default_pace=DEFAULT_PACE_HOURS,
    )


@dataclass(frozen=True, slots=True)
class SetupChange:
    """What an admin asked to change; None leaves a setting as it is."""

    channel_id: int | None = None
    timezone: str | None = None
    checkin_day: str | None = None
    checkin_time: str | None = None
    daily_time: str | None = None
    daily_enabled: bool | None = None
    checkin_enabled: bool | None = None
    cohort_start: str | None = None  # YYYY-MM-DD
    cohort_pace: float | None = None  # hours a week
    admin_channel_id: int | None = None
    by: int | None = None  # the admin making the change: told in a DM about trouble


def parse_cohort_start(text: str, today: date) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(
            f"`{text}` is not a date: give the cohort's first day as YYYY-MM-DD, e.g. "
            f"`{today.isoformat()}`. Nothing was saved."
        ) from None
    if abs(day - today) > COHORT_START_WINDOW:
        raise BadInput(
            f"{day.isoformat()} is more than a year from today ({today.isoformat()}): give the "
            "cohort's real first day. Nothing was saved."
        )
    return day


def check_cohort_pace(hours: float) -> float:
    low, high = COHORT_PACE_RANGE
    if not low <= hours <= high:
        raise BadInput(
            f"The cohort's pace must be between {low} and {high} hours a week. Nothing was saved."
        )
    return float(hours)


def validated(change: SetupChange, today: date) -> dict[str, object]:
    """The settings `change` sets, by column, each checked; raises BadInput for the first bad
    option, so nothing is written when any is wrong. `today` is the server's local date."""
    changes: dict[str, object] = {}
    if change.channel_id is not None:
        changes["study_channel_id"] = change.channel_id
    if change.timezone:
        changes["timezone"] = timekeeping.parse_timezone(change.timezone)
    if change.checkin_day:
        changes["checkin_weekday"] = timekeeping.parse_weekday(change.checkin_day)
    if change.checkin_time:
        changes["checkin_time"] = timekeeping.parse_clock(change.checkin_time, "check-in time")
    if change.daily_time:
        changes["daily_time"] = timekeeping.parse_clock(change.daily_time, "daily post time")
    if change.daily_enabled is not None:
        changes["daily_enabled"] = change.daily_enabled
    if change.checkin_enabled is not None:
        changes["checkin_enabled"] = change.checkin_enabled
    if change.cohort_start is not None:
        changes["cohort_start"] = parse_cohort_start(change.cohort_start, today)
    if change.cohort_pace is not None:
        changes["default_pace"] = check_cohort_pace(change.cohort_pace)
    if change.admin_channel_id is not None:
        changes["admin_channel_id"] = change.admin_channel_id
    if change.by is not None:
        changes["setup_by"] = change.by
    return changes
