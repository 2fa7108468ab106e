"""The check-in's window and numbers: which days a check-in covers, who logged what on those days,
how each active member stands against their own plan, and who opted in to a nudge after a quiet
week (no pass in the seven days up to the window's last day, however long the window is).

Windows tile time: a check-in covers the whole days from the day after the previous check-in's
last day (or the cohort's start) to the day before it is posted, so no day is in two check-ins
and none is in none, whether a check-in was scheduled or an admin's `/checkin now`. A pass
belongs to the check-in whose window holds its study date."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.group.board import CohortPass
from bot.learners import plan
from bot.learners.plan import Standing
from bot.learners.records import Member, PassKey
from curriculum import Curriculum

WEEK_DAYS = 7


@dataclass(frozen=True, slots=True)
class MemberWeek:
    user_id: int
    passes: tuple[PassKey, ...]  # logged in the window, in roadmap order
    minutes: float  # estimated study time of those passes
    standing: Standing  # against the member's own plan, on their own calendar day


@dataclass(frozen=True, slots=True)
class WeekSummary:
    since: date  # first day of the window (the server's calendar)
    until: date  # the check-in's own day, included
    roster: int  # active members
    passes: int
    minutes: float
    # Members with a pass in the window, most study first; a tie to who reached it first.
    active: tuple[MemberWeek, ...]
    # Opted in to reminders, joined a week ago or more, no pass in the week up to `until`.
    nudge: tuple[int, ...]
    # Every day of the window, in order: (day, first passes, second passes) studied that day.
    days: tuple[tuple[date, int, int], ...] = ()

    @property
    def hours(self) -> float:
        return self.minutes / 60


def window(now: datetime, timezone: str, days: int = WEEK_DAYS) -> tuple[date, date]:
    """The `days` days ending on `now`'s local date (a window with no previous check-in to
    follow, as in tests of the numbers alone)."""
    until = now.astimezone(ZoneInfo(timezone)).date()
    return until - timedelta(days=days - 1), until


def next_window(
    previous_end: date | None, cohort_start: date, today: date
) -> tuple[date, date] | None:
    """The days the next check-in covers when posted on `today` (the server's date): from the
    day after the previous check-in's last day (or the cohort's start) to yesterday, whole days
    only, so passes logged later today count next time. The first check-in on the cohort's
    first day covers that day, so an admin trying `/checkin now` right after `/setup` sees
    something. None when there is nothing to cover yet (already covered up to yesterday)."""
    start = previous_end + timedelta(days=1) if previous_end is not None else cohort_start
    end = today - timedelta(days=1)
    if previous_end is None and start == today:
        end = today
    return (start, end) if start <= end else None


def summarize(
    curriculum: Curriculum,
    members: Sequence[Member],
    passes: Sequence[CohortPass],
    *,
    now: datetime,
    timezone: str,
    days: tuple[date, date] | None = None,
) -> WeekSummary:
    """The numbers of a check-in posted at `now` covering `days` (first and last, included;
    the seven days to `now` when not given). Points are the minutes stored on each pass."""
    since, until = days or window(now, timezone)
    order = {step.key: step.index for step in plan.steps(curriculum)}
    held: dict[int, set[PassKey]] = defaultdict(set)
    recent: dict[int, list[PassKey]] = defaultdict(list)
    minutes: dict[int, float] = defaultdict(float)
    reached: dict[int, str] = defaultdict(str)  # when each reached their window total
    # Quiet means a week without a pass, whatever the window: a check-in a day after the last
    # one must not call a member who studied two days ago quiet.
    week_start = until - timedelta(days=WEEK_DAYS - 1)
    studied_this_week: set[int] = set()
    for p in passes:
        key = (p.video_id, p.pass_no)
        held[p.user_id].add(key)
        if since <= p.study_date <= until:
            recent[p.user_id].append(key)
            minutes[p.user_id] += p.minutes
            reached[p.user_id] = max(reached[p.user_id], p.logged_at)
        if week_start <= p.study_date <= until:
            studied_this_week.add(p.user_id)
    weeks = []
    nudge = []
    for member in members:
        joined = member.member_since.astimezone(ZoneInfo(timezone)).date()
        if (
            member.reminders
            and member.user_id not in studied_this_week
            and joined <= until - timedelta(days=WEEK_DAYS)
        ):
            nudge.append(member.user_id)
        logged = sorted(recent.get(member.user_id, ()), key=lambda k: order.get(k, len(order)))
        if not logged:
            continue
        zone = ZoneInfo(member.timezone)
        standing = plan.member_standing(
            curriculum, member, held[member.user_id], now.astimezone(zone).date()
        )
        weeks.append(MemberWeek(member.user_id, tuple(logged), minutes[member.user_id], standing))
    # The boards' order (group BOARD_ORDER): a tie goes to whoever got there first.
    weeks.sort(key=lambda w: (-w.minutes, reached[w.user_id], w.user_id))
    roster = {member.user_id for member in members}
    per_day: dict[tuple[date, int], int] = defaultdict(int)
    for p in passes:
        if p.user_id in roster and since <= p.study_date <= until:
            per_day[(p.study_date, p.pass_no)] += 1
    span = (until - since).days + 1
    return WeekSummary(
        since=since,
        until=until,
        roster=len(members),
        passes=sum(len(w.passes) for w in weeks),
        minutes=sum(w.minutes for w in weeks),
        active=tuple(weeks),
        nudge=tuple(nudge),
        days=tuple(
            (day, per_day[(day, 1)], per_day[(day, 2)])
            for day in (since + timedelta(days=n) for n in range(span))
        ),
    )
