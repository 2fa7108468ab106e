"""The weekly check-in's numbers: who logged what in the last seven days, how each active member
stands against their own plan, and who opted in to a nudge after a quiet week."""

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
    active: tuple[MemberWeek, ...]  # members with a pass in the window, most study first
    nudge: tuple[int, ...]  # opted in to reminders, joined a week ago or more, nothing logged

    @property
    def hours(self) -> float:
        return self.minutes / 60


def window(now: datetime, timezone: str, days: int = WEEK_DAYS) -> tuple[date, date]:
    until = now.astimezone(ZoneInfo(timezone)).date()
    return until - timedelta(days=days - 1), until


def summarize(
    curriculum: Curriculum,
    members: Sequence[Member],
    passes: Sequence[CohortPass],
    *,
    now: datetime,
    timezone: str,
) -> WeekSummary:
    since, until = window(now, timezone)
    order = {step.key: step.index for step in plan.steps(curriculum)}
    held: dict[int, set[PassKey]] = defaultdict(set)
    recent: dict[int, list[PassKey]] = defaultdict(list)
    for p in passes:
        key = (p.video_id, p.pass_no)
        held[p.user_id].add(key)
        if since <= p.study_date <= until:
            recent[p.user_id].append(key)
    weeks = []
    nudge = []
    for member in members:
        logged = sorted(recent.get(member.user_id, ()), key=lambda k: order.get(k, len(order)))
        if not logged:
            joined = member.member_since.astimezone(ZoneInfo(timezone)).date()
            if member.reminders and joined <= until - timedelta(days=WEEK_DAYS):
                nudge.append(member.user_id)
            continue
        zone = ZoneInfo(member.timezone)
        standing = plan.member_standing(
            curriculum, member, held[member.user_id], now.astimezone(zone).date()
        )
        weeks.append(
            MemberWeek(member.user_id, tuple(logged), plan.credit(curriculum, logged), standing)
        )
    weeks.sort(key=lambda w: (-w.minutes, w.user_id))
    return WeekSummary(
        since=since,
        until=until,
        roster=len(members),
        passes=sum(len(w.passes) for w in weeks),
        minutes=sum(w.minutes for w in weeks),
        active=tuple(weeks),
        nudge=tuple(nudge),
    )
