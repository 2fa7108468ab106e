"""Item 4: the weekly check-in fan-out under Discord's rate limits.

The local Discord (this process) enforces the global limit of 50 requests/s and per-route
buckets (`enforce_rate_limits`). The bot (its own process, bench/botproc.py) starts an hour
before the check-in is due, then every server's check-in job is made due at once, as at 18:00
on a Monday when every server keeps the default time, and the real scheduler posts them
(reservation, messages, thread, parts). Measured: the time until every check-in is recorded as
posted, against the ideal (the requests it took / 50 per second), the 429s the bot received,
and the bot process's memory.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import dataset
from bench.config import CHECKIN_DUE, Scale
from bench.startup import BotProcess, build_world
from bench.world import BenchDiscord
from bot.posts import checkin
from bot.settings import Settings

GLOBAL_PER_SECOND = 50.0
# A check-in is a message, a thread and two or three parts: a guess for the deadline only.
EXPECTED_REQUESTS_PER_SERVER = 5
STALL_SECONDS = {"quick": 20.0, "full": 330.0}


def _period() -> str:
    """The key of the check-in posted here: the last day it covers. It covers the days from
    the one after the data set's last check-in to the day before it is due (every server keeps
    UTC)."""
    previous_end = dataset.checkin_window(dataset.LAST_CHECKIN_DUE)[1]
    window = checkin.next_window(previous_end, previous_end, CHECKIN_DUE.date())
    assert window is not None
    return window[1].isoformat()


PERIOD = _period()


def _posted(db: Path, guilds: set[int]) -> int:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        rows = connection.execute(
            # Every part out: a cancelled post has a posted_at too.
            "SELECT guild_id FROM posts WHERE kind = 'checkin' AND period_key = ?"
            " AND state = 'posted'",
            (PERIOD,),
        ).fetchall()
    finally:
        connection.close()
    return sum(1 for (guild,) in rows if guild in guilds)


async def _run(data: dataset.Dataset, scale: Scale, seed: int, workdir: Path) -> dict[str, Any]:
    db = data.copy_to(workdir)
    count = min(scale.fanout_servers, scale.servers)
    servers = sorted(random.Random(seed + 4).sample(range(scale.servers), count))
    guilds = {dataset.guild_id(i) for i in servers}
    guilds_file = workdir / "guilds.txt"
    guilds_file.write_text("\n".join(str(g) for g in sorted(guilds)))
    ideal_floor = count / GLOBAL_PER_SECOND  # at least one request per server
    async with BenchDiscord(timeout=120.0) as local:
        build_world(local, servers)
        local.enforce_rate_limits(global_per_second=GLOBAL_PER_SECOND)
        bot = await BotProcess.start(local, db, guilds_file)
        timeline: list[tuple[float, int]] = []
        try:
            await bot.wait_for("ready", 300)
            await bot.wait_for("caught_up", 300)
            before_requests = len(local.requests)
            before_429 = local.rate_limit_hits
            started = time.monotonic()
            bot.send("go")
            await bot.wait_for("triggered", 60)
            # Give up at twice the time the posts should take at 50 requests/s, or once nothing
            # has moved for `stall` seconds (the full run waits past the 5-minute retry job).
            deadline = started + 2 * EXPECTED_REQUESTS_PER_SERVER * ideal_floor + 60
            stall = STALL_SECONDS[scale.name]
            posted = 0
            last_report = last_change = started
            seen = (0, 0)
            stalled = False
            while time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                posted = await asyncio.to_thread(_posted, db, guilds)
                now = time.monotonic()
                timeline.append((round(now - started, 1), posted))
                if (posted, len(local.requests)) != seen:
                    seen, last_change = (posted, len(local.requests)), now
                elif now - last_change > stall:
                    stalled = True
                    break
                if now - last_report >= 15:
                    last_report = now
                    print(
                        f"    fan-out: {posted}/{count} posted after {now - started:.0f}s, "
                        f"{local.rate_limit_hits - before_429} 429s",
                        file=sys.stderr,
                        flush=True,
                    )
                if posted >= count:
                    break
            # The time the last request of the fan-out reached Discord.
            made = local.requests[before_requests:]
            finished = max((r.at for r in made), default=started)
            memory = await bot.stop()
        finally:
            bot.kill()
        problems = local.take_problems()
    accepted = [r for r in made if r.status != 429]
    limited = [r for r in made if r.status == 429]
    seconds = finished - started
    ideal = len(accepted) / GLOBAL_PER_SECOND
    return {
        "servers": count,
        "post_rate": Settings(_env_file=None).post_rate,  # type: ignore[call-arg]
        "period": PERIOD,
        "posted": posted,
        "not_posted": count - posted,
        "seconds_total": round(seconds, 1),
        "requests": len(accepted),
        "requests_per_server": round(len(accepted) / max(count, 1), 2),
        "ideal_seconds": round(ideal, 1),
        "vs_ideal": round(seconds / ideal, 2) if ideal else None,
        "rate_limited": len(limited),
        "rate_limited_first_second": sum(1 for r in limited if r.at - started <= 1.0),
        "requests_by_route": dict(Counter(f"{r.method} {r.template}" for r in accepted)),
        "responses_by_status": dict(Counter(str(r.status) for r in made)),
        "gave_up": posted < count,
        "stalled": stalled,
        "stall_seconds": stall,
        "timeline_posted": timeline[:: max(1, len(timeline) // 20)],
        "problems": problems[:10],
        **{k: v for k, v in memory.items() if k.startswith(("rss", "peak"))},
        **bot.errors(),
    }


def run(scale: Scale, seed: int) -> dict[str, Any]:
    data = dataset.ensure(scale, seed)
    with tempfile.TemporaryDirectory(prefix="twopass-bench-") as folder:
        return asyncio.run(_run(data, scale, seed, Path(folder)))
