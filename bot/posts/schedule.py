"""When scheduled posts are due, which period each one is for, and its nonce.

Times are the server's wall-clock times. A time that does not exist on a day (inside the hour a
clock skips in spring) falls at the same distance after the skip, which is also when APScheduler's
CronTrigger fires it; a time that happens twice (the hour repeated in autumn) is due at its first
occurrence, and the period key makes the second one a repeat of the same post.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.server.records import GuildSettings


class PostKind(StrEnum):
    DAILY = "daily"
    CHECKIN = "checkin"


# How late a missed post may still go out (after a restart, say); later than this it is skipped.
GRACE: dict[PostKind, timedelta] = {
    PostKind.DAILY: timedelta(hours=2),
    PostKind.CHECKIN: timedelta(hours=6),
}

NONCE_MAX = 25  # Discord's limit on a message nonce


def enabled(settings: GuildSettings | None, kind: PostKind) -> bool:
    """The admin's switch for `kind` (whatever the channel)."""
    if settings is None:
        return False
    return settings.daily_enabled if kind is PostKind.DAILY else settings.checkin_enabled


def configured(settings: GuildSettings | None, kind: PostKind) -> bool:
    """Switched on, with a study channel to post in."""
    return (
        settings is not None and settings.study_channel_id is not None and enabled(settings, kind)
    )


def before_cohort(settings: GuildSettings, due: datetime) -> bool:
    """Whether `due` falls before the cohort's first day (the server's local date): the cohort's
    calendar, and so its video of the day, has not begun, as a check-in has nothing to cover."""
    return due.astimezone(ZoneInfo(settings.timezone)).date() < settings.cohort_start


def _at(day: date, settings: GuildSettings, kind: PostKind) -> datetime:
    clock = settings.daily_time if kind is PostKind.DAILY else settings.checkin_time
    # fold=0: the first of a repeated time; a skipped time keeps the offset from before the skip,
    # which lands it just after the skip.
    local = datetime.combine(day, clock, tzinfo=ZoneInfo(settings.timezone))
    return local.astimezone(ZoneInfo("UTC")).astimezone(ZoneInfo(settings.timezone))


def last_due(settings: GuildSettings, kind: PostKind, now: datetime) -> datetime:
    """The latest scheduled time of this post at or before `now`, in the server's timezone."""
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    if kind is PostKind.DAILY:
        candidates = [today - timedelta(days=back) for back in (0, 1, 2)]
    else:
        back = (today.weekday() - settings.checkin_weekday) % 7
        candidates = [today - timedelta(days=back), today - timedelta(days=back + 7)]
    for day in candidates:
        due = _at(day, settings, kind)
        if due <= now:
            return due
    raise AssertionError("unreachable: an earlier candidate is always in the past")


def nonce(guild_id: int, kind: PostKind, key: str) -> str:
    """Stable for one post, so a retry is recognised by Discord as the same message."""
    return hashlib.sha256(f"twopass:{guild_id}:{kind}:{key}".encode()).hexdigest()[:20]


def part_nonce(base: str, part: int) -> str:
    """The nonce of a check-in's further part (the first message uses `base` itself)."""
    value = f"{base}.{part}"
    if len(value) > NONCE_MAX:
        raise ValueError(f"too many parts for one post: {part}")
    return value
