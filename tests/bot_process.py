"""The real bot in a process of its own, for tests that kill it with SIGKILL at a chosen step of
a scheduled post (`--die`): after the reservation, after a part was recorded, or after Discord
accepted a part but before it was recorded. Only discord.py's REST base and gateway URL point at
the test's local Discord, as `LocalDiscord.redirect()` does in-process.

Several of them make a cluster (`--shards`, `--shard-count`, `--redis`): one bot split over
processes, each posting for its shards' servers; `--die-at-part N` kills one in the middle of
a fan-out, when Discord has accepted the Nth part it sends but before it is recorded."""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import signal
import time
from datetime import datetime, timedelta
from typing import Any

import discord
import yarl

from bot.app import TwopassBot
from bot.db import Database
from bot.posts.repo import PostRepo
from bot.settings import Settings
from bot.sharding import IDENTIFY_INTERVAL

STEPS = ("after-reserve", "after-part-2", "before-record-2")


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm_part(count: int) -> None:
    """Die when Discord has accepted the `count`th part this process sends, before recording it."""
    original = PostRepo.part_sent
    seen = 0

    @functools.wraps(original)
    async def part_sent(self: PostRepo, *args: Any) -> Any:
        nonlocal seen
        seen += 1
        if seen == count:
            die()
        return await original(self, *args)

    PostRepo.part_sent = part_sent  # type: ignore[method-assign]


def arm(step: str) -> None:
    """Make this process die at `step` of the first post it makes."""
    if step == "after-reserve":
        original = PostRepo.reserve

        @functools.wraps(original)
        async def reserve(self: PostRepo, *args: Any, **kwargs: Any) -> Any:
            result = await original(self, *args, **kwargs)
            die()
            return result

        PostRepo.reserve = reserve  # type: ignore[method-assign]
    else:
        original_sent = PostRepo.part_sent
        before = step.startswith("before")

        @functools.wraps(original_sent)
        async def part_sent(self: PostRepo, key: Any, part: int, *args: Any) -> Any:
            if part == 2 and before:
                die()  # Discord has the message; the database never hears of it
            result = await original_sent(self, key, part, *args)
            if part == 2:
                die()
            return result

        PostRepo.part_sent = part_sent  # type: ignore[method-assign]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)  # a file, or a postgresql:// URL
    parser.add_argument("--base", required=True)
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--at", required=True, help="the bot's clock at start (ISO, aware)")
    parser.add_argument("--die", choices=STEPS)
    parser.add_argument("--die-at-part", type=int)
    parser.add_argument("--shards", help="this process's shard ids, e.g. 0-1")
    parser.add_argument("--shard-count", type=int)
    parser.add_argument("--redis", help="the Redis URL the processes share the rate limit in")
    parser.add_argument("--post-rate", type=float)
    parser.add_argument("--identify-interval", type=float, default=IDENTIFY_INTERVAL)
    args = parser.parse_args()
    discord.http.Route.BASE = args.base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(args.gateway)
    if args.die:
        arm(args.die)
    if args.die_at_part:
        arm_part(args.die_at_part)
    settings: dict[str, Any] = {
        "shard_ids": args.shards,
        "shard_count": args.shard_count,
        "redis_url": args.redis,
    }
    if args.post_rate:
        settings["post_rate"] = args.post_rate
    start, ref = datetime.fromisoformat(args.at), time.monotonic()

    def clock() -> datetime:
        return start + timedelta(seconds=time.monotonic() - ref)

    async with await Database.open(args.db) as db:
        bot = TwopassBot(
            settings=Settings(_env_file=None, **settings),  # type: ignore[call-arg]
            db=db,
            clock=clock,
            guild_ready_timeout=0.05,
            identify_interval=args.identify_interval,
        )
        runner = asyncio.create_task(bot.start(args.token))
        # Polled: wait_until_ready() raises until login has set the client up.
        while not bot.is_ready() and not runner.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        await bot.posts.wait_idle()
        print("idle", flush=True)
        await asyncio.sleep(3600)  # until the test stops it


if __name__ == "__main__":
    asyncio.run(main())
