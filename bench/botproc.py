"""The real bot in a process of its own, logged in to a local Discord run by the parent
benchmark (items 4 and 5). Only discord.py's REST base and gateway URL are pointed at it, as the
test suite's `LocalDiscord.redirect()` does.

Lines on stdout are JSON events for the parent; lines on stdin are the parent's orders
("go": post every listed server's check-in through its scheduled job; "stop": report and leave).
"""

from __future__ import annotations

import time

STARTED = time.time()  # before any import: "process start" as far as Python can tell

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import discord  # noqa: E402
import yarl  # noqa: E402

from bench.config import BOT_IDENTIFY_INTERVAL, CHECKIN_DUE  # noqa: E402
from bench.stats import RssSampler, peak_rss_mb, rss_mb  # noqa: E402
from bot.app import TwopassBot  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.posts.schedule import PostKind  # noqa: E402
from bot.settings import Settings  # noqa: E402

IMPORTED = time.time()


def emit(event: str, **data: Any) -> None:
    print(json.dumps({"event": event, "at": time.time(), **data}), flush=True)


class Clock:
    """The bot's clock: a chosen instant that then moves with real time."""

    def __init__(self, at: datetime) -> None:
        self.set(at)

    def set(self, at: datetime) -> None:
        self._at, self._ref = at, time.monotonic()

    def __call__(self) -> datetime:
        return self._at + timedelta(seconds=time.monotonic() - self._ref)


class TimedBot(TwopassBot):
    shard_ready_at: dict[int, float]

    async def setup_hook(self) -> None:
        await super().setup_hook()
        self.setup_done = time.time()

    async def on_shard_ready(self, shard_id: int) -> None:
        self.shard_ready_at[shard_id] = time.time()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)  # a file, or a postgresql:// URL
    parser.add_argument("--base", required=True)
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--guilds", type=Path, help="file of guild ids whose check-in to post")
    # One process of a cluster (bench/cluster.py): its shards, and the Redis they share.
    parser.add_argument("--shards")
    parser.add_argument("--shard-count", type=int)
    parser.add_argument("--redis")
    parser.add_argument("--post-rate", type=float)
    parser.add_argument(
        "--at", help="the clock at start (ISO); default an hour before the check-in"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    discord.http.Route.BASE = args.base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(args.gateway)

    # Before the check-in is due: the start-up catch-up finds last week's posted and today's
    # daily video too late, so start-up sends nothing.
    clock = Clock(datetime.fromisoformat(args.at) if args.at else CHECKIN_DUE - timedelta(hours=1))
    cluster: dict[str, Any] = {
        "shard_ids": args.shards,
        "shard_count": args.shard_count,
        "redis_url": args.redis,
    }
    if args.post_rate:
        cluster["post_rate"] = args.post_rate
    db = await Database.open(args.db)
    opened = time.time()
    bot = TimedBot(
        settings=Settings(_env_file=None, **cluster),  # type: ignore[call-arg]
        db=db,
        clock=clock,
        guild_ready_timeout=0.05,
        identify_interval=BOT_IDENTIFY_INTERVAL,
    )
    bot.shard_ready_at = {}
    task = asyncio.create_task(bot.start(args.token))
    while not bot.is_ready():
        if task.done():
            emit("crashed", error=repr(task.exception()))
            return
        await asyncio.sleep(0.002)
    ready = time.time()
    emit(
        "ready",
        started=STARTED,
        imported=IMPORTED,
        store_opened=opened,
        setup_done=getattr(bot, "setup_done", None),
        ready=ready,
        jobs=len(bot.posts.scheduler.get_jobs()),
        guilds=len(bot.guilds),
        shards=bot.shard_count,
        shard_ready=[bot.shard_ready_at.get(k) for k in sorted(bot.shards)],
        rss_mb=round(rss_mb(), 1),
        peak_rss_mb=round(peak_rss_mb(), 1),
    )
    await bot.reconciled.wait()  # the server check at connection
    await bot.posts.wait_idle()
    emit("caught_up", rss_mb=round(rss_mb(), 1))

    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    sampler: RssSampler | None = None
    while line := (await reader.readline()).decode().strip():
        if line == "go" and args.guilds:
            guilds = [int(g) for g in args.guilds.read_text().split()]
            sampler = RssSampler()
            sampler.start()
            clock.set(CHECKIN_DUE + timedelta(seconds=1))
            # What the check-in job does at 18:00 on Monday for the servers keeping that
            # schedule (here the listed ones this process serves, not every server of the
            # data set).
            mine = [g for g in guilds if bot.posts.job_of(g, PostKind.CHECKIN) is not None]
            bot.posts.spawn(bot.posts.fire(mine, PostKind.CHECKIN))
            emit("triggered", servers=len(guilds))
        elif line == "stop":
            break
    memory = await sampler.stop() if sampler else {}
    emit("stopped", **memory, peak_rss_mb=round(peak_rss_mb(), 1))
    await bot.close()
    await asyncio.wait({task}, timeout=5)
    await db.close()


if __name__ == "__main__":
    asyncio.run(main())
