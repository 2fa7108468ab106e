"""A study plan: the roadmap's passes in order, laid over a pace (hours a week) from a start day.

Order is the guide's: for each video, the first pass, then the second, then the next video.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import wraps
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.learners.records import Member, PassKey
from curriculum import Curriculum, Pass, Phase, Video

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Step:
    index: int
    phase: Phase
    video: Video
    which: Pass
    minutes: float  # estimated study time of this pass
    ends_at: float  # cumulative minutes of the plan up to and including this step
    key: PassKey  # (video id, pass): kept, not rebuilt, as every command walks the steps


def per_curriculum(build: Callable[[Curriculum], T]) -> Callable[[Curriculum], T]:
    """Compute a table once per curriculum object. Keyed by identity: hashing a pydantic model
    walks all of it (microseconds per call, on every command), while a roadmap is loaded once."""
    built: dict[int, tuple[Curriculum, T]] = {}

    @wraps(build)
    def lookup(curriculum: Curriculum) -> T:
        found = built.get(id(curriculum))
        if found is None or found[0] is not curriculum:
            found = built[id(curriculum)] = (curriculum, build(curriculum))
        return found[1]

    return lookup


@per_curriculum
def steps(curriculum: Curriculum) -> tuple[Step, ...]:
    """Every pass of the roadmap in study order (computed once per curriculum)."""
    out: list[Step] = []
    total = 0.0
    for phase, video in curriculum.videos():
        for which in (Pass.FIRST, Pass.SECOND):
            minutes = video.pass_minutes(which)
            total += minutes
            out.append(Step(len(out), phase, video, which, minutes, total, (video.id, int(which))))
    return tuple(out)


def minutes_per_day(pace_hours: float) -> float:
    return pace_hours * 60 / 7


@per_curriculum
def credit_table(curriculum: Curriculum) -> dict[PassKey, float]:
    return {step.key: step.minutes for step in steps(curriculum)}


def credit(curriculum: Curriculum, done: Iterable[PassKey]) -> float:
    """Estimated study minutes the given passes are worth: the one definition of points.
    A pass on a video no longer on the roadmap is worth nothing."""
    table = credit_table(curriculum)
    return sum(table.get(key, 0.0) for key in done)


@per_curriculum
def phase_keys(curriculum: Curriculum) -> tuple[tuple[Phase, frozenset[PassKey]], ...]:
    """Each phase with the passes that complete it."""
    return tuple(
        (phase, frozenset((video.id, int(which)) for video in phase.videos for which in Pass))
        for phase in curriculum.phases
    )


def next_step(curriculum: Curriculum, done: Collection[PassKey]) -> Step | None:
    """The earliest pass on the roadmap not yet logged; None when all are."""
    for step in steps(curriculum):
        if step.key not in done:
            return step
    return None


# Per video id: the group's measured second-pass time over the video's length, for the videos
# enough members reported (the caller decides how many is enough).
Ratios = Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Finish:
    """The projected last day of study at a pace."""

    day: date | None  # None: every pass is done
    # The group's measured second-pass times moved `day` from the time model's estimate.
    by_group: bool = False


def remaining_minutes(
    curriculum: Curriculum, done: Collection[PassKey], ratios: Ratios | None = None
) -> float:
    """Study minutes left: each pass not logged at the time model's estimate, but a second pass
    at the group's measured ratio to its video where `ratios` has one."""
    # The whole plan less what is done: a member's few passes, not the roadmap's every step.
    left = steps(curriculum)[-1].ends_at - credit(curriculum, done)
    table = credit_table(curriculum)
    for video_id, ratio in (ratios or {}).items():
        key = (video_id, int(Pass.SECOND))
        video = curriculum.video(video_id)
        if video is not None and key in table and key not in done:
            left += video.minutes * ratio - table[key]
    # Rounded so float noise (a measured ratio, the order of the sums) does not cost a whole day.
    return round(left, 9)


def projected_finish(
    curriculum: Curriculum,
    done: Collection[PassKey],
    *,
    pace_hours: float,
    today: date,
    ratios: Ratios | None = None,
) -> Finish:
    """The day the remaining passes are done at `pace_hours` a week, studying from `today`
    (today's share included). The one definition of the projected finish."""
    per_day = minutes_per_day(pace_hours)

    def day(remaining: float) -> date | None:
        if remaining <= 0:
            return None
        return today + timedelta(days=max(math.ceil(remaining / per_day) - 1, 0))

    model = day(remaining_minutes(curriculum, done))
    if not ratios:
        return Finish(model)
    measured = day(remaining_minutes(curriculum, done, ratios))
    return Finish(measured, by_group=measured != model)


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a member stands against their own plan on a given day."""

    days_ahead: int  # negative: behind
    expected_minutes: float
    done_minutes: float
    finish: date | None  # projected finish at this pace; None when done
    finish_by_group: bool = False  # see Finish.by_group

    @property
    def clause(self) -> str:
        """Where the member stands, said to them: "you are 2 days behind plan"."""
        if self.finish is None:
            return "you have finished the roadmap"
        if self.days_ahead <= -1:
            return (
                f"you are {-self.days_ahead} day{'s' if self.days_ahead < -1 else ''} behind plan"
            )
        if self.days_ahead >= 1:
            return (
                f"you are {self.days_ahead} day{'s' if self.days_ahead > 1 else ''} ahead of plan"
            )
        return "you are on track"


def standing(
    curriculum: Curriculum,
    done: Collection[PassKey],
    *,
    start: date,
    pace_hours: float,
    today: date,
    credit_at_start: float = 0.0,
    ratios: Ratios | None = None,
) -> Standing:
    """Done against expected, where the plan began on `start` with `credit_at_start` minutes of
    study already behind it. The plan's due dates stay on the time model; only the projected
    finish uses the group's measured `ratios`."""
    per_day = minutes_per_day(pace_hours)
    total = steps(curriculum)[-1].ends_at
    # A day's share is due once that day is over: on the day you start you are on track.
    elapsed_days = max((today - start).days, 0)
    expected = min(credit_at_start + elapsed_days * per_day, total)
    done_minutes = credit(curriculum, done)
    finish = projected_finish(curriculum, done, pace_hours=pace_hours, today=today, ratios=ratios)
    # Rounded toward zero: half a day behind is still "on track". Rounded to 9 places first, so
    # float noise (29.9999999...) does not cost a whole day.
    days_ahead = math.trunc(round((done_minutes - expected) / per_day, 9))
    return Standing(days_ahead, expected, done_minutes, finish.day, finish.by_group)


def cohort_step(
    curriculum: Curriculum, *, start: date, pace_hours: float, day: date
) -> Step | None:
    """The cohort's pass of the day: where a member who began on `start` at the default pace is.

    Before the start it is the first pass; after the last step, None (the roadmap is done).
    """
    offset = max((day - start).days, 0) * minutes_per_day(pace_hours)
    for step in steps(curriculum):
        if offset < step.ends_at:
            return step
    return None


def member_standing(
    curriculum: Curriculum,
    member: Member,
    done: Collection[PassKey],
    today: date,
    ratios: Ratios | None = None,
) -> Standing:
    """A member's standing against their own plan, from where it was last (re)started; its
    projected finish with the group's measured `ratios`."""
    start = member.plan_start or member.joined_at.astimezone(ZoneInfo(member.timezone)).date()
    return standing(
        curriculum,
        done,
        start=start,
        pace_hours=member.pace_hours,
        today=today,
        credit_at_start=member.plan_credit,
        ratios=ratios,
    )
