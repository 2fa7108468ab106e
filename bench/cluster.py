"""Issue 15, clusters: one bot split over several processes on one database, against one local
Discord that enforces Discord's 50 requests/s per bot token across all of them.

Full size: 10,000 servers in 24 shards, three processes of 8 shards each (quick: 150 servers in
6 shards). Every server's weekly check-in falls due at once, as at 18:00 on a Monday; each
process posts its shards' servers, paced by one bucket they share in Redis (`TWOPASS_REDIS_URL`,
default the machine's 127.0.0.1:6379; without one each paces at a third of the rate). Run twice:
as is, and with one process killed with SIGKILL once a third of its servers are posted and
restarted at once with the same shard ids (what a supervisor does: the takeover).

Measured: the fan-out's time against the floor (the accepted requests / 50 per second), the 429s,
and that every part of every server's check-in is in Discord exactly once. The database is a
copy of the data set's SQLite file; `TWOPASS_BENCH_DATABASE` names another database to run on
(a URL the bot's `Database.open` accepts, already holding the data set).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis

from bench import backend, dataset
from bench.config import CHECKIN_DUE, Scale
from bench.fanout import PERIOD
from bench.startup import BotProcess, build_world
from bench.world import BenchDiscord
from bot.db import Database
from bot.posts.messages import Mark, Outgoing
from bot.sharding import shard_of

GLOBAL_PER_SECOND = 50.0
# What the processes may use together: the fan-out's floor is at 50/s, so pacing at 48 costs 4%.
POST_RATE = 48.0
PROCESSES = 3
# servers, shards
SIZES = {"quick": (150, 6), "full": (10_000, 24)}
STALL_SECONDS = {"quick": 20.0, "full": 330.0}


def _redis_url() -> str | None:
    url = os.environ.get("TWOPASS_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
            client.ping()
    except (redis.RedisError, OSError):
        return None
    return url


def _ranges(shards: int) -> list[str]:
    per = shards // PROCESSES
    return [
        f"{i * per}-{(i + 1) * per - 1 if i < PROCESSES - 1 else shards - 1}"
        for i in range(PROCESSES)
    ]


async def _posted(db: Database, guilds: set[int]) -> set[int]:
    rows = await db.rows(
        "SELECT guild_id FROM posts WHERE kind = 'checkin' AND period_key = ? AND state = 'posted'",
        (PERIOD,),
    )
    return {int(row[0]) for row in rows} & guilds


async def _twice_or_missing(db: Database, local: BenchDiscord, guilds: set[int]) -> dict[str, int]:
    """Servers whose check-in parts are not each in Discord exactly once (channel and thread)."""
    rows = await db.rows(
        "SELECT guild_id, part FROM post_parts WHERE kind = 'checkin' AND period_key = ?",
        (PERIOD,),
    )
    parts: dict[int, list[int]] = {}
    for guild, part in rows:
        parts.setdefault(int(guild), []).append(int(part))
    wrong = Counter[str]()
    for guild in guilds:
        channel = local.world.channels[dataset.channel_id(dataset.guild_index(guild))]
        messages = local.channel_messages(channel)
        threads = [local.world.channels[m.id] for m in messages if m.id in local.world.channels]
        posted = messages + [m for t in threads for m in local.channel_messages(t)]
        expected = parts.get(guild, [])
        found = Counter(
            part
            for part in expected
            for m in posted
            if Mark("checkin", PERIOD, part).on(Outgoing(m.content, tuple(m.embeds)))
        )
        if not expected:
            wrong["not posted"] += 1
        elif any(n > 1 for n in found.values()):
            wrong["a part twice"] += 1
        elif found != Counter(expected):
            wrong["a part missing"] += 1
    return dict(wrong)


async def _fan_out(
    data: dataset.Dataset, scale: Scale, seed: int, workdir: Path, kill: bool
) -> dict[str, Any]:
    """On TWOPASS_BENCH_DATABASE if set, else on the benchmark's backend (`--backend`): a copy
    of the data set's SQLite file, or a PostgreSQL schema holding the same rows."""
    named = os.environ.get("TWOPASS_BENCH_DATABASE")
    if named:
        return await _fan_out_on(named, data, scale, seed, workdir, kill)
    timings: dict[str, float] = {}
    async with backend.database_at(data.copy_to(workdir), timings) as database:
        result = await _fan_out_on(database, data, scale, seed, workdir, kill)
    return {**result, **timings, "backend": backend.name()}


async def _fan_out_on(
    database: str, data: dataset.Dataset, scale: Scale, seed: int, workdir: Path, kill: bool
) -> dict[str, Any]:
    count, shards = SIZES[scale.name]
    count = min(count, scale.servers)
    servers = sorted(random.Random(seed + 15).sample(range(scale.servers), count))
    guilds = {dataset.guild_id(i) for i in servers}
    guilds_file = workdir / "guilds.txt"
    guilds_file.write_text("\n".join(str(g) for g in sorted(guilds)))
    redis_url = _redis_url()
    ranges = _ranges(shards)

    def options(shard_range: str, *extra: str) -> list[str]:
        shared = ["--redis", redis_url] if redis_url else []
        return [
            *("--shards", shard_range, "--shard-count", str(shards)),
            *("--post-rate", str(POST_RATE), *shared, *extra),
        ]

    # Each process identifies its own shards as Discord allows; three processes doing so at
    # once would need one identify queue between them (not built), so the emulator lets them.
    async with (
        BenchDiscord(timeout=120.0, identify_interval=0.0) as local,
        await Database.open(database) as db,
    ):
        build_world(local, servers)
        local.enforce_rate_limits(global_per_second=GLOBAL_PER_SECOND)
        bots = [
            await BotProcess.start(
                local,
                database,
                guilds_file,
                options=options(r),
                log_name=f"bot-{i}.log",
                log_dir=workdir,
            )
            for i, r in enumerate(ranges)
        ]
        victim = {g for g in guilds if _in(ranges[0], g, shards)}
        killed_at: float | None = None
        restarted_ready: float | None = None
        try:
            for bot in bots:
                await bot.wait_for("ready", 600)
                await bot.wait_for("caught_up", 600)
            before = len(local.requests)
            started = time.monotonic()
            for bot in bots:
                bot.send("go")
            for bot in bots:
                await bot.wait_for("triggered", 60)
            deadline = started + 2 * 5 * count / GLOBAL_PER_SECOND + 120
            stall, last_change, seen = STALL_SECONDS[scale.name], started, (0, 0)
            posted: set[int] = set()
            last_report = started
            while time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                posted = await _posted(db, guilds)
                now = time.monotonic()
                if kill and killed_at is None and len(posted & victim) >= len(victim) / 3:
                    bots[0].process.kill()  # SIGKILL, in the middle of its servers' check-ins
                    await bots[0].process.wait()
                    killed_at = now - started
                    at = CHECKIN_DUE + timedelta(seconds=1 + now - started)
                    bots[0] = await BotProcess.start(
                        local,
                        database,
                        guilds_file,
                        options=options(ranges[0], "--at", at.isoformat()),
                        log_name="bot-0-restarted.log",
                        log_dir=workdir,
                    )
                    await bots[0].wait_for("ready", 600)
                    restarted_ready = time.monotonic() - started
                if (len(posted), len(local.requests)) != seen:
                    seen, last_change = (len(posted), len(local.requests)), now
                elif now - last_change > stall:
                    break
                if now - last_report >= 15:
                    last_report = now
                    print(
                        f"    cluster{' (kill)' if kill else ''}: {len(posted)}/{count} posted "
                        f"after {now - started:.0f}s, {local.rate_limit_hits} 429s",
                        file=sys.stderr,
                        flush=True,
                    )
                if len(posted) >= count:
                    break
            made = local.requests[before:]
            for bot in bots:
                await bot.stop()
        finally:
            for bot in bots:
                bot.kill()
        wrong = await _twice_or_missing(db, local, guilds)
        problems = local.take_problems()
    accepted = [r for r in made if r.status != 429]
    finished = max((r.at for r in made), default=started)
    seconds = finished - started
    floor = len(accepted) / GLOBAL_PER_SECOND
    return {
        "servers": count,
        "shards": shards,
        "processes": [f"--shards {r} --shard-count {shards}" for r in ranges],
        "database": "sqlite (copy of the data set)"
        if not os.environ.get("TWOPASS_BENCH_DATABASE")
        else "TWOPASS_BENCH_DATABASE",
        "rate_shared_through": "redis" if redis_url else "none: a third of the rate each",
        "posted": len(posted),
        "not_exactly_once": wrong,
        "seconds": round(seconds, 1),
        "requests": len(accepted),
        "floor_seconds": round(floor, 1),
        "vs_floor": round(seconds / floor, 3) if floor else None,
        "within_1_1x_floor": bool(floor) and seconds <= 1.1 * floor,
        "rate_limited": sum(1 for r in made if r.status == 429),
        "killed_at_seconds": None if killed_at is None else round(killed_at, 1),
        "restarted_ready_seconds": None if restarted_ready is None else round(restarted_ready, 1),
        "requests_by_route": dict(Counter(f"{r.method} {r.template}" for r in accepted)),
        "problems": [p for p in problems if "160004" not in p][:5],
    }


def _in(shard_range: str, guild: int, shards: int) -> bool:
    low, _, high = shard_range.partition("-")
    return int(low) <= shard_of(guild, shards) <= int(high or low)


def run(scale: Scale, seed: int) -> dict[str, Any]:
    data = dataset.ensure(scale, seed)
    results: dict[str, Any] = {}
    for name, kill in (("three_processes", False), ("one_killed_and_restarted", True)):
        with tempfile.TemporaryDirectory(prefix="twopass-bench-") as folder:
            results[name] = asyncio.run(_fan_out(data, scale, seed, Path(folder), kill))
    return results
