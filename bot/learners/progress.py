"""A member's progress: per phase, streak, recent notes; and the history check."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date

from bot.learners.plan import credit, per_curriculum, phase_keys
from bot.learners.records import HistoryEntry, LoggedPass, PassKey
from bot.learners.streaks import Streak, streak_of
from curriculum import Curriculum, Phase


@dataclass(frozen=True, slots=True)
class PhaseProgress:
    phase: Phase
    passes_done: int
    passes_total: int
    minutes_done: float
    minutes_total: float


@dataclass(frozen=True, slots=True)
class Totals:
    """A member's passes and points per phase, and over the roadmap."""

    phases: tuple[PhaseProgress, ...]

    @property
    def passes_done(self) -> int:
        return sum(p.passes_done for p in self.phases)

    @property
    def passes_total(self) -> int:
        return sum(p.passes_total for p in self.phases)

    @property
    def minutes_done(self) -> float:
        return sum(p.minutes_done for p in self.phases)

    @property
    def minutes_total(self) -> float:
        return sum(p.minutes_total for p in self.phases)


@dataclass(frozen=True, slots=True)
class Progress(Totals):
    streak: Streak
    recent: tuple[LoggedPass, ...]  # the latest passes with a note or a link, newest first


@per_curriculum
def _phase_totals(curriculum: Curriculum) -> tuple[tuple[Phase, frozenset[PassKey], float], ...]:
    """Each phase's passes and what they are worth together: the same for every member of a
    roadmap, so built once rather than on every /done."""
    return tuple((phase, keys, credit(curriculum, keys)) for phase, keys in phase_keys(curriculum))


def phase_progress(curriculum: Curriculum, done: AbstractSet[PassKey]) -> tuple[PhaseProgress, ...]:
    return tuple(
        PhaseProgress(
            phase,
            passes_done=len(mine := keys & done),
            passes_total=len(keys),
            minutes_done=credit(curriculum, mine) if mine else 0.0,
            minutes_total=total,
        )
        for phase, keys, total in _phase_totals(curriculum)
    )


def progress(
    curriculum: Curriculum, passes: Sequence[LoggedPass], today: date, recent: int = 3
) -> Progress:
    done = {(p.video_id, p.pass_no) for p in passes}
    noted = sorted((p for p in passes if p.note or p.link), key=lambda p: p.logged_at, reverse=True)
    return Progress(
        phases=phase_progress(curriculum, done),
        streak=streak_of((p.study_date for p in passes), today),
        recent=tuple(noted[:recent]),
    )


def replay(history: Iterable[HistoryEntry]) -> set[PassKey]:
    """The passes a member holds according to the history alone (logs minus undos, in order)."""
    held: set[PassKey] = set()
    for entry in history:
        key = (entry.video_id, entry.pass_no)
        if entry.action == "log":
            held.add(key)
        else:
            held.discard(key)
    return held


def milestone(
    curriculum: Curriculum, done_before: AbstractSet[PassKey], done_after: AbstractSet[PassKey]
) -> str | None:
    """What a newly logged pass completed, if anything worth celebrating."""
    phases = phase_keys(curriculum)
    total = frozenset().union(*(keys for _, keys in phases))
    if total <= done_after and not total <= done_before:
        return f"Finished the whole roadmap, {curriculum.title}! Both passes of every video."
    for phase, keys in phases:
        if keys <= done_after and not keys <= done_before:
            return f"Phase complete: {phase.title}. Every video, both passes."
    return None


def bar(fraction: float, width: int = 12) -> str:
    """A text progress bar that renders the same on every client."""
    fraction = min(max(fraction, 0.0), 1.0)
    filled = round(fraction * width)
    return "█" * filled + "░" * (width - filled)
