"""Item 6: rendering the pictures (bot/pictures) for a 30-member and a 500-member server.

Pure CPU: no database or Discord. Each picture is rendered `runs` times on seeded data whose
names mix Latin, Cyrillic, CJK and emoji: the progress card of a random member, the cohort map's
first page (25 rows; paging is the caller's, so a bigger server costs the same per page) and the
check-in chart with the top 10 of everyone active. The first render of a process is reported
apart: it loads the fonts and fills the glyph caches. `python -m bench.pictures` runs it alone.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from bench.config import SCALES, Scale
from bench.stats import latency_summary
from bot.pictures import (
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
    render_checkin_chart,
    render_cohort_map,
    render_progress_card,
)
from bot.pictures.examples import PHASES

SERVERS = (30, 500)
PAGE = 25
TOP = 10
TODAY = date(2026, 3, 8)
RUNS = {"quick": 30, "full": 200}

_GIVEN = (
    "Ana",
    "Дмитрий",
    "山田",
    "김민준",
    "ひなた",
    "Zoë",
    "李",
    "Łukasz",
    "Ngọc",
    "Ιωάννα",
    "Søren",
)
_FAMILY = ("María", "Соколов", "太郎", "🚀", "lee", "Okafor 👨‍👩‍👧", "Ánh", "小龍", "Smith", "")
_MINUTES = [m for _, minutes in PHASES for m in minutes]
_PHASE_OF = [p for p, (_, minutes) in enumerate(PHASES) for _ in minutes]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}".strip()


def _states(rng: random.Random) -> tuple[PassState, ...]:
    firsts = rng.randint(0, len(_MINUTES))
    seconds = rng.randint(0, firsts)
    return tuple(
        PassState.SECOND if v < seconds else PassState.FIRST if v < firsts else PassState.NONE
        for v in range(len(_MINUTES))
    )


def _card(rng: random.Random) -> ProgressCard:
    states = _states(rng)
    phases = []
    index = 0
    for title, minutes in PHASES:
        videos = []
        done = 0.0
        for length in minutes:
            state = states[index]
            index += 1
            videos.append(VideoState(str(index), state))
            done += length * (1 if state else 0) + length * 2.5 * (state == PassState.SECOND)
        phases.append(PhaseState(title, tuple(videos), done / 60, sum(minutes) * 3.5 / 60))
    days = frozenset(TODAY - timedelta(days=n) for n in range(84) if rng.random() < 0.4)
    return ProgressCard(_name(rng), tuple(phases), rng.randint(0, 9), 12, days, TODAY, 3.5, 5.0)


def _server(size: int, rng: random.Random) -> tuple[list[MemberRow], list[MemberHours]]:
    rows = [MemberRow(_name(rng), _states(rng), rng.random() < 0.3) for _ in range(size)]
    active = [MemberHours(r.name, round(rng.uniform(0.2, 9), 1)) for r in rows if r.moved_this_week]
    return rows, active


def _time(
    runs: int, render: Callable[[Any], Picture], inputs: list[Any]
) -> tuple[list[float], int]:
    seconds = []
    size = 0
    for index in range(runs):
        data = inputs[index % len(inputs)]
        started = time.perf_counter()
        picture = render(data)
        seconds.append(time.perf_counter() - started)
        size = max(size, len(picture.png))
    return seconds, size


def run(scale: Scale, seed: int) -> dict[str, Any]:
    rng = random.Random(seed + 6)
    runs = RUNS.get(scale.name, RUNS["quick"])
    columns = tuple(VideoColumn(str(n + 1), p) for n, p in enumerate(_PHASE_OF))
    results: dict[str, Any] = {"runs": runs}
    started = time.perf_counter()
    render_progress_card(_card(rng))
    results["first_render_ms"] = round((time.perf_counter() - started) * 1000, 1)
    for size in SERVERS:
        rows, active = _server(size, rng)
        pages = -(-size // PAGE)
        cards = [_card(rng) for _ in range(runs)]
        start = TODAY - timedelta(days=7)
        days = tuple(
            DayPasses(
                start + timedelta(days=n), rng.randint(0, size // 3), rng.randint(0, size // 4)
            )
            for n in range(7)
        )

        pictures: dict[str, tuple[Callable[[Any], Picture], list[Any]]] = {
            "progress": (render_progress_card, cards),
            "cohort": (
                render_cohort_map,
                [
                    CohortMap(
                        "Cohort map",
                        columns,
                        tuple(rows[p * PAGE : (p + 1) * PAGE]),
                        10,
                        p + 1,
                        pages,
                    )
                    for p in range(pages)
                ],
            ),
            "checkin": (
                render_checkin_chart,
                [CheckinChart("Week of 1 – 7 Mar", days, tuple(active), TOP)],
            ),
        }
        for picture, (render, inputs) in pictures.items():
            seconds, largest = _time(runs, render, inputs)
            results[f"{picture}_{size}"] = {
                **latency_summary(seconds),
                "png_kb": round(largest / 1000, 1),
            }
    _print(results)
    return results


def _print(results: dict[str, Any]) -> None:
    print(f"    pictures: first render in a process {results['first_render_ms']} ms (fonts loaded)")
    for size in SERVERS:
        for picture in ("progress", "cohort", "checkin"):
            figures = results[f"{picture}_{size}"]
            print(
                f"    pictures: {picture:8} {size:3} members  p50 {figures['p50_ms']:6.1f} ms  "
                f"p99 {figures['p99_ms']:6.1f} ms  PNG {figures['png_kb']} kB",
                flush=True,
            )


if __name__ == "__main__":
    quick = "--full" not in sys.argv
    print(json.dumps(run(SCALES["quick" if quick else "full"], 1), indent=1))
