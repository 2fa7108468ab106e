"""A learner's records as the feature works with them: no SQL, no Discord."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

PassKey = tuple[str, int]  # (video id, pass number)


@dataclass(frozen=True, slots=True)
class Member:
    guild_id: int
    user_id: int
    joined_at: datetime
    pace_hours: float
    timezone: str
    active: bool
    reminders: bool  # opted in to a mention when quiet for a week
    # Where the member's plan was last (re)started: that day (None: the join day) and the
    # study minutes already done then.
    plan_start: date | None = None
    plan_credit: float = 0.0
    active_since: datetime | None = None  # last (re)joined; None: since joined_at
    name: str | None = None  # their display name at their last /join, for pictures

    @property
    def member_since(self) -> datetime:
        """When the member joined, or came back after leaving."""
        return self.active_since or self.joined_at


@dataclass(frozen=True, slots=True)
class LoggedPass:
    user_id: int
    video_id: str
    pass_no: int
    logged_at: datetime
    study_date: date
    note: str | None
    link: str | None
    minutes: float = 0.0  # its points: the estimated study minutes, stored when logged
    week: date | None = None  # the Monday of the week it counts in (`timekeeping.pass_week`)
    spent_minutes: int | None = None  # the time it really took, when the member said
    logged_by: int | None = None  # who logged it, when not the member (an admin's correction)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    user_id: int
    video_id: str
    pass_no: int
    action: str  # 'log' or 'undo'
    actor_id: int
    at: datetime
    study_date: date
    note: str | None
    link: str | None
    minutes: float = 0.0  # the points the pass carried
    spent_minutes: int | None = None  # what the member said it took, if they did
