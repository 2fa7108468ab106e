"""Scales, the fixed instants every benchmark uses, and where files go."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CACHE = BENCH / ".cache"
RESULTS = BENCH / "results"

# The data covers the year before DATA_END; commands run at NOW (a Sunday evening, so "this
# week" holds a whole week of passes); the weekly check-in falls due the next day.
DATA_END = datetime(2026, 3, 8, 20, 0, tzinfo=UTC)
DATA_START = DATA_END - timedelta(days=365)
NOW = DATA_END
CHECKIN_DUE = datetime(2026, 3, 9, 18, 0, tzinfo=UTC)  # a Monday, 18:00 in every server (UTC)


# Discord spaces identifies 5 s apart per max_concurrency bucket; that wait is Discord's
# schedule, not the bot's work, so benchmarks shorten it (and report what Discord would add).
IDENTIFY_INTERVAL = 0.05  # the emulator's
BOT_IDENTIFY_INTERVAL = 0.1  # the bot's, with a margin over the emulator's


@dataclass(frozen=True)
class Scale:
    name: str
    servers: int
    members: int
    passes: int
    # item 1: interactions per command measured one at a time, and with `in_flight` concurrent
    sequential: int
    concurrent: int
    in_flight: int
    # item 2: passes inserted through the store and through plain sqlite3
    inserts: int
    # item 3: queries per kind
    queries: int
    # item 4: servers whose check-in is posted under Discord's rate limits
    fanout_servers: int
    # item 5: servers whose jobs are scheduled at start-up
    startup_servers: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL = Scale(
    name="full",
    servers=10_000,
    members=200_000,
    passes=1_000_000,
    sequential=2_000,
    concurrent=5_000,
    in_flight=100,
    inserts=20_000,
    queries=300,
    fanout_servers=1_000,
    startup_servers=10_000,
)

# Under two minutes on a 2-core machine: a tenth of the data, and a check-in fan-out small
# enough that the 50 requests/s limit does not dominate the run.
QUICK = Scale(
    name="quick",
    servers=1_000,
    members=20_000,
    passes=100_000,
    sequential=400,
    concurrent=1_500,
    in_flight=100,
    inserts=5_000,
    queries=100,
    fanout_servers=200,
    startup_servers=1_000,
)

SCALES = {"full": FULL, "quick": QUICK}
DEFAULT_SEED = 20260308
