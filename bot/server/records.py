"""A server's settings as every feature reads them, and how they map to their table's row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any

from bot import zones
from curriculum import Curriculum


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    study_channel_id: int | None
    timezone: str
    checkin_weekday: int  # Monday is 0, as in datetime.weekday()
    checkin_time: time
    daily_time: time
    daily_enabled: bool
    checkin_enabled: bool
    curriculum_id: str
    cohort_start: date
    default_pace: float  # hours a week: the cohort's pace, which sets the video of the day
    admin_channel_id: int | None = None  # where the bot tells admins about trouble with posts
    setup_by: int | None = None  # who ran /setup last: told in a DM when there is no admin channel


# The columns of a settings row, in the order `settings_from_row` reads them.
SETTINGS_COLUMNS = (
    "guild_id, study_channel_id, timezone, checkin_weekday, checkin_time, daily_time, "
    "daily_enabled, checkin_enabled, curriculum_id, cohort_start, default_pace, admin_channel_id, "
    "setup_by"
)
SETTINGS_WIDTH = len(SETTINGS_COLUMNS.split(","))


def settings_from_row(row: Any) -> GuildSettings:
    """GuildSettings from the columns of SETTINGS_COLUMNS, in order."""
    return GuildSettings(
        guild_id=row[0],
        study_channel_id=row[1],
        timezone=stored_zone(row[2]),
        checkin_weekday=row[3],
        checkin_time=time.fromisoformat(row[4]),
        daily_time=time.fromisoformat(row[5]),
        daily_enabled=bool(row[6]),
        checkin_enabled=bool(row[7]),
        curriculum_id=row[8],
        cohort_start=date.fromisoformat(row[9]),
        default_pace=row[10],
        admin_channel_id=row[11],
        setup_by=row[12],
    )


def stored_zone(name: str) -> str:
    """A zone read back from the database, as every feature may use it: one this host cannot
    load (a typo from an old version, `localtime`, a zone missing from this tz database) reads as
    UTC, with a warning logged once, so it never stops start-up or the posts of other servers."""
    return name if zones.is_usable_zone(name) else zones.safe_zone(name).key


def settings_to_row(settings: GuildSettings) -> tuple[object, ...]:
    """The values of SETTINGS_COLUMNS for `settings`, in order: the inverse of settings_from_row."""
    return (
        settings.guild_id,
        settings.study_channel_id,
        settings.timezone,
        settings.checkin_weekday,
        settings.checkin_time.strftime("%H:%M"),
        settings.daily_time.strftime("%H:%M"),
        int(settings.daily_enabled),
        int(settings.checkin_enabled),
        settings.curriculum_id,
        settings.cohort_start.isoformat(),
        settings.default_pace,
        settings.admin_channel_id,
        settings.setup_by,
    )


@dataclass(frozen=True, slots=True)
class RoadmapSwitch:
    """A server moved to another roadmap (or stayed: `before` is `after`)."""

    settings: GuildSettings
    before: Curriculum
    after: Curriculum
    # Members holding passes on videos `after` lacks: kept, worth nothing until switched back.
    stranded_members: int
