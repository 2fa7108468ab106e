"""The pictures' inputs and output: plain frozen data, so a picture depends on nothing but them.

The caller (a feature's render step) builds these from its own results; nothing here knows
Discord or the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum

# Discord's limit on an attachment's `description` (MessageAttachmentRequest in its OpenAPI spec).
ALT_TEXT_LIMIT = 1024


class PassState(IntEnum):
    """How far a member is with one video: the two-pass method in three values."""

    NONE = 0
    FIRST = 1
    SECOND = 2


@dataclass(frozen=True, slots=True)
class Picture:
    """A rendered PNG and the text alternative to send as the attachment's description."""

    png: bytes
    alt: str
    width: int
    height: int


# --- the progress card -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VideoState:
    """One video on a member's card: a short label (e.g. its number '7') and how far they are."""

    label: str
    state: PassState


@dataclass(frozen=True, slots=True)
class PhaseState:
    """A phase of the roadmap as the member stands in it; hours are estimated study hours."""

    title: str
    videos: tuple[VideoState, ...]
    hours_done: float
    hours_estimate: float


@dataclass(frozen=True, slots=True)
class ProgressCard:
    """Everything /progress shows as a picture.

    `study_days` are the local dates (in the member's timezone) on which they logged a pass;
    `today` is the member's local date. Streaks are the rules' figures, passed through.
    """

    name: str
    phases: tuple[PhaseState, ...]
    current_streak: int
    best_streak: int
    study_days: frozenset[date]
    today: date
    week_hours: float
    week_target_hours: float | None = None


# --- the cohort map ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VideoColumn:
    """A column of the cohort map: a short label ('1'..'19') and the phase it belongs to."""

    label: str
    phase: int


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One member's row: their state for every column, in the columns' order."""

    name: str
    states: tuple[PassState, ...]
    moved_this_week: bool = False


@dataclass(frozen=True, slots=True)
class CohortMap:
    """One page of the cohort map. Paging is the caller's: `rows` is this page, 1-based `page`.

    `video_of_the_day` is the index of the cohort's video of the day in `columns` (or None).
    """

    title: str
    columns: tuple[VideoColumn, ...]
    rows: tuple[MemberRow, ...]
    video_of_the_day: int | None = None
    page: int = 1
    pages: int = 1

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row.states) != len(self.columns):
                raise ValueError(
                    f"{row.name!r} has {len(row.states)} states for {len(self.columns)} videos"
                )
        if self.video_of_the_day is not None and not 0 <= self.video_of_the_day < len(self.columns):
            raise ValueError("video_of_the_day is not a column")


# --- the weekly check-in chart --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayPasses:
    """Passes logged on one local day of the check-in window, by kind."""

    day: date
    first: int
    second: int


@dataclass(frozen=True, slots=True)
class MemberHours:
    """One active member's estimated study hours in the window."""

    name: str
    hours: float


@dataclass(frozen=True, slots=True)
class CheckinChart:
    """The weekly check-in as one image: passes per day, then hours per member (top `top`).
    `members` in the caller's ranking: the chart orders them by hours and keeps ties as given."""

    title: str
    days: tuple[DayPasses, ...]
    members: tuple[MemberHours, ...] = field(default=())
    top: int = 10
    # (first, second) passes of the whole window when `days` (the bars) show only its last
    # days; None: the window is `days`. The totals in words always cover the whole window.
    totals: tuple[int, int] | None = None

    @property
    def passes(self) -> tuple[int, int]:
        """The window's (first, second) passes."""
        if self.totals is not None:
            return self.totals
        return sum(d.first for d in self.days), sum(d.second for d in self.days)
