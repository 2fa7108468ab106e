"""The group's views as rules: a board page and its ranks, the cohort map, and the totals a
history replays to. No Discord, no database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

from bot import timekeeping
from bot.learners import plan
from bot.learners.records import PassKey
from curriculum import Curriculum, Video

QUIET_DAYS = 14
BOARD_PAGE_SIZE = 10


class Period(Enum):
    WEEK = "week"
    ALL_TIME = "all"


@dataclass(frozen=True, slots=True)
class BoardRow:
    user_id: int
    minutes: float  # points: estimated study minutes
    passes: int
    reached_at: str  # when the member reached this score (ties go to whoever got there first)


@dataclass(frozen=True, slots=True)
class CohortPass:
    user_id: int
    video_id: str
    pass_no: int
    study_date: date
    minutes: float = 0.0  # the points stored with the pass
    # When it was logged, as stored: text in time order, compared as the boards' reached_at.
    logged_at: str = ""
    week: str = ""  # the Monday (ISO) of the server's week it counts in, as the boards count it


@dataclass(frozen=True, slots=True)
class Totals:
    """A member's kept total: all time (week None) or for the week starting Monday `week`."""

    guild_id: int
    week: date | None
    user_id: int
    minutes: float
    passes: int


@dataclass(frozen=True, slots=True)
class BoardEntry:
    rank: int
    user_id: int
    hours: float
    passes: int


@dataclass(frozen=True, slots=True)
class Board:
    """One page of a leaderboard, with the caller's own line and the board's size."""

    period: Period
    entries: tuple[BoardEntry, ...]  # this page, in rank order
    since: date | None  # the Monday of the week shown; None for all time
    size: int = 0  # members on the whole board
    page: int = 0
    caller: BoardEntry | None = None

    @property
    def pages(self) -> int:
        return max((self.size + BOARD_PAGE_SIZE - 1) // BOARD_PAGE_SIZE, 1)

    def rank_of(self, user_id: int) -> BoardEntry | None:
        if self.caller is not None and self.caller.user_id == user_id:
            return self.caller
        return next((entry for entry in self.entries if entry.user_id == user_id), None)


def page_bounds(page: int) -> tuple[int, int]:
    """The first and last rank on page `page` (0-based)."""
    first = max(page, 0) * BOARD_PAGE_SIZE + 1
    return first, first + BOARD_PAGE_SIZE - 1


@dataclass(frozen=True, slots=True)
class VideoCrowd:
    video: Video
    first_only: tuple[int, ...]
    both: tuple[int, ...]
    on_it: tuple[int, ...]  # members whose next pass is on this video
    phase: int = 0  # the index of the video's phase in its roadmap


@dataclass(frozen=True, slots=True)
class CohortView:
    videos: tuple[VideoCrowd, ...]
    members: tuple[int, ...]
    moved_this_week: tuple[int, ...]
    quiet: tuple[int, ...]  # nothing logged in QUIET_DAYS days
    finished: tuple[int, ...]
    # What the cohort map draws besides: names as members last gave them (/join), and the
    # cohort's video of the day (its id; None once the calendar passed the end).
    names: Mapping[int, str] = field(default_factory=dict)
    video_of_the_day: str | None = None
    # The days `moved_this_week` is about, as a reader sees them: /cohort's "this week", or a
    # check-in's own window.
    moved_window: str = "this week"


def cohort_view(
    curriculum: Curriculum,
    timezone: str,
    joined: Sequence[tuple[int, datetime]],
    passes: Iterable[CohortPass],
    now: datetime,
    *,
    window: tuple[date, date] | None = None,
    window_name: str = "this week",
) -> CohortView:
    """Who holds which pass, who is on which video, who moved and who went quiet, on the
    server's calendar (`timezone`). Moved means a pass studied in `window` (both days included),
    named `window_name` for the reader; by default, a pass in this week as the weekly board
    counts it (its stored week: a member west of the server logging on its Monday moved)."""
    members = [user for user, _ in joined]
    today = timekeeping.local_today(now, timezone)
    since, until = window or (timekeeping.week_start(today), date.max)
    this_week = None if window else since.isoformat()
    held: dict[int, set[PassKey]] = defaultdict(set)
    last_day: dict[int, date] = {}
    moved: set[int] = set()
    for p in passes:
        held[p.user_id].add((p.video_id, p.pass_no))
        last_day[p.user_id] = max(last_day.get(p.user_id, p.study_date), p.study_date)
        in_window = p.week == this_week if this_week and p.week else since <= p.study_date <= until
        if in_window:
            moved.add(p.user_id)
    # Quiet counts from the last pass, or from (re)joining for someone who has not logged since.
    last_move = {
        user: max(last_day.get(user, date.min), timekeeping.local_today(at, timezone))
        for user, at in joined
    }
    first_only: dict[str, list[int]] = defaultdict(list)
    both: dict[str, list[int]] = defaultdict(list)
    on_it: dict[str, list[int]] = defaultdict(list)
    finished = []
    for user in members:
        done = held.get(user, set())
        for _, video in curriculum.videos():
            if (video.id, 2) in done:
                both[video.id].append(user)
            elif (video.id, 1) in done:
                first_only[video.id].append(user)
        step = plan.next_step(curriculum, done)
        if step is None:
            finished.append(user)
        else:
            on_it[step.video.id].append(user)
    return CohortView(
        videos=tuple(
            VideoCrowd(
                video,
                tuple(first_only[video.id]),
                tuple(both[video.id]),
                tuple(on_it[video.id]),
                phase,
            )
            for phase, stage in enumerate(curriculum.phases)
            for video in stage.videos
        ),
        members=tuple(members),
        moved_this_week=tuple(u for u in members if u in moved),
        quiet=tuple(u for u in members if (today - last_move[u]).days >= QUIET_DAYS),
        finished=tuple(finished),
        moved_window=window_name,
    )


def replay_totals(
    history: Iterable[tuple[int, int, str, int, str, date, float]],
) -> tuple[list[Totals], list[Totals]]:
    """The totals the history alone implies: replay every log and undo in order, then sum the
    points of the passes each member still holds, all time and per week (of the study day)."""
    held: dict[tuple[int, int, str, int], tuple[date, float]] = {}
    for guild, user, video, pass_no, action, day, minutes in history:
        key = (guild, user, video, pass_no)
        if action == "log":
            held[key] = (day, minutes)
        else:
            held.pop(key, None)
    all_time: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0])
    weekly: dict[tuple[int, date, int], list[float]] = defaultdict(lambda: [0.0, 0])
    for (guild, user, _, _), (day, minutes) in held.items():
        for bucket in (all_time[(guild, user)], weekly[(guild, timekeeping.week_start(day), user)]):
            bucket[0] += minutes
            bucket[1] += 1
    return (
        [Totals(g, None, u, m, int(n)) for (g, u), (m, n) in all_time.items()],
        [Totals(g, w, u, m, int(n)) for (g, w, u), (m, n) in weekly.items()],
    )


def differences(expected: Iterable[Totals], kept: Iterable[Totals]) -> list[str]:
    """Each total that differs between the replayed history and the kept totals, as a line."""
    want = {(t.guild_id, t.week, t.user_id): t for t in expected}
    have = {(t.guild_id, t.week, t.user_id): t for t in kept}
    lines = []
    for key in sorted(want.keys() | have.keys(), key=str):
        a, b = want.get(key), have.get(key)
        a_values = (round(a.minutes, 6), a.passes) if a else (0.0, 0)
        b_values = (round(b.minutes, 6), b.passes) if b else (0.0, 0)
        if a_values != b_values:
            guild, week, user = key
            where = f"week of {week.isoformat()}" if week else "all time"
            lines.append(
                f"server {guild}, member {user}, {where}: history says {a_values[1]} passes /"
                f" {a_values[0]:g} min, totals say {b_values[1]} passes / {b_values[0]:g} min"
            )
    return lines
