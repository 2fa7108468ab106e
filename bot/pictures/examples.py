"""`python -m bot.pictures.examples [DIR] [--refs]`: one example of each picture, from fixed data.

Writes progress.png, cohort.png and checkin.png into DIR (default docs/pictures/) for the
README. With --refs it writes them into tests/pictures_ref/ instead: the references the tests
compare against, so regenerate them only after a change to the pictures you meant to make.
The same data feeds the tests, so the README shows what is tested.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from bot.pictures.checkin import render_checkin_chart
from bot.pictures.cohort import render_cohort_map
from bot.pictures.model import (
    CheckinChart,
    CohortMap,
    DayPasses,
    MemberHours,
    MemberRow,
    PassState,
    PhaseState,
    Picture,
    ProgressCard,
    VideoColumn,
    VideoState,
)
from bot.pictures.progress import render_progress_card

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 3, 4)  # a Wednesday

# The bundled roadmap's shape, fixed here so an edit to the roadmap does not move the pictures.
PHASES = (
    ("Build intuition (3Blue1Brown)", (19, 21, 13, 10, 8, 27, 26, 23, 37)),
    ("Build implementation skills (Karpathy)", (145, 117, 75, 115, 115, 56, 116, 133)),
    ("Deepen context (bonus talks)", (60, 211)),
)
VIDEOS = sum(len(minutes) for _, minutes in PHASES)

NAMES = (
    "Ana María",
    "Дмитрий Соколов",
    "山田太郎",
    "김민준",
    "ひなた",
    "Zoë 🚀",
    "李小龍",
    "Łukasz",
    "Ngọc Ánh",
    "👨‍👩‍👧 the Okafors",
    "Ιωάννα",
    "François",
    "Søren",
    "Priya",
    "Chidi",
)


def _hours(minutes: int, state: PassState) -> float:
    return (
        minutes * (1 if state >= PassState.FIRST else 0)
        + minutes * 2.5 * (state == PassState.SECOND)
    ) / 60


def progress_example() -> ProgressCard:
    """A member a little into phase 2 with a streak going."""
    done = 12  # videos 1..12 have a first pass, 1..9 a second
    phases = []
    number = 0
    for title, minutes in PHASES:
        videos = []
        hours_done = 0.0
        for length in minutes:
            number += 1
            state = (
                PassState.SECOND
                if number <= 9
                else PassState.FIRST
                if number <= done
                else PassState.NONE
            )
            videos.append(VideoState(str(number), state))
            hours_done += _hours(length, state)
        estimate = sum(m * 3.5 for m in minutes) / 60
        phases.append(PhaseState(title, tuple(videos), round(hours_done, 1), round(estimate, 1)))
    studied = {TODAY - timedelta(days=n) for n in range(0, 5)}
    studied |= {
        TODAY - timedelta(days=n)
        for n in (
            9,
            10,
            12,
            15,
            16,
            17,
            18,
            19,
            20,
            21,
            22,
            30,
            31,
            33,
            40,
            47,
            48,
            55,
            61,
            62,
            70,
            76,
        )
    }
    return ProgressCard(
        name="Ana María 🚀",
        phases=tuple(phases),
        current_streak=5,
        best_streak=8,
        study_days=frozenset(studied),
        today=TODAY,
        week_hours=3.5,
        week_target_hours=5.0,
    )


def cohort_example() -> CohortMap:
    """The first page of a 15-member cohort, video 11 of the day."""
    columns = tuple(
        VideoColumn(str(number), phase)
        for number, phase in enumerate(
            (phase for phase, (_, minutes) in enumerate(PHASES) for _ in minutes), start=1
        )
    )
    rows = []
    for index, name in enumerate(NAMES):
        firsts = (VIDEOS - index * 3) % (VIDEOS + 1)
        seconds = max(0, firsts - 2 - index % 4)
        states = tuple(
            PassState.SECOND if v < seconds else PassState.FIRST if v < firsts else PassState.NONE
            for v in range(VIDEOS)
        )
        rows.append(MemberRow(name, states, moved_this_week=index % 3 == 0))
    return CohortMap(
        title="Cohort map", columns=columns, rows=tuple(rows), video_of_the_day=10, page=1, pages=2
    )


def checkin_example() -> CheckinChart:
    """The week before TODAY's Monday check-in."""
    start = TODAY - timedelta(days=TODAY.weekday() + 7)
    counts = ((3, 1), (2, 2), (0, 0), (4, 3), (1, 2), (5, 1), (2, 4))
    days = tuple(
        DayPasses(start + timedelta(days=n), first, second)
        for n, (first, second) in enumerate(counts)
    )
    hours = (6.5, 5.8, 4.2, 4.2, 3.9, 3.1, 2.4, 1.6, 1.2, 0.8, 0.5, 0.3)
    members = tuple(MemberHours(name, h) for name, h in zip(NAMES, hours, strict=False))
    return CheckinChart(
        title=f"Week of {start.day} {start:%b} – {(start + timedelta(days=6)).day} {start + timedelta(days=6):%b}",
        days=days,
        members=members,
        top=10,
    )


EXAMPLES: dict[str, Callable[[], Picture]] = {
    "progress": lambda: render_progress_card(progress_example()),
    "cohort": lambda: render_cohort_map(cohort_example()),
    "checkin": lambda: render_checkin_chart(checkin_example()),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.pictures.examples", description=__doc__)
    parser.add_argument("folder", nargs="?", type=Path, default=ROOT / "docs" / "pictures")
    parser.add_argument("--refs", action="store_true", help="write the tests' reference PNGs")
    args = parser.parse_args(argv)
    folder: Path = ROOT / "tests" / "pictures_ref" if args.refs else args.folder
    folder.mkdir(parents=True, exist_ok=True)
    for name, render in EXAMPLES.items():
        picture = render()
        path = folder / f"{name}.png"
        path.write_bytes(picture.png)
        print(f"{path}  {picture.width}x{picture.height}  {len(picture.png) / 1000:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
