"""Shards: which shard carries a server, which shards this process runs, and when a shard may
identify. Discord closes a connection that would carry more than 2,500 servers (4011), so past
that the bot runs several shards, in one process or split over several (`--shards`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection

# Discord lets `max_concurrency` shards identify per 5 seconds (most bots: one); the margin
# keeps network jitter from making two identifies of one bucket arrive too close together.
IDENTIFY_INTERVAL = 5.5


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that carries a server: Discord's ``(guild_id >> 22) % shard_count``."""
    if shard_count < 1:
        raise ValueError(f"shard_count must be at least 1, not {shard_count}")
    return (guild_id >> 22) % shard_count


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """``"0-3"``, ``"0,2"`` or ``"0-3,8"`` -> sorted distinct shard ids."""
    ids: set[int] = set()
    for part in text.replace(" ", "").split(","):
        low, dash, high = part.partition("-")
        try:
            first = int(low)
            last = int(high) if dash else first
        except ValueError:
            raise ValueError(f"{text!r} is not a list of shard ids (try '0-3' or '0,2')") from None
        if first < 0 or last < first:
            raise ValueError(f"{part!r} in {text!r} is not a range of shard ids (try '0-3')")
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))


def check_shards(shard_ids: Collection[int] | None, shard_count: int | None) -> None:
    """Raises ValueError with one sentence if the shard ids do not fit the count."""
    if shard_count is not None and shard_count < 1:
        raise ValueError(f"the shard count must be at least 1, not {shard_count}")
    if shard_ids is None:
        return
    if shard_count is None:
        raise ValueError("shard ids need a shard count (TWOPASS_SHARD_COUNT or --shard-count)")
    if not shard_ids:
        raise ValueError("the list of shard ids is empty")
    outside = sorted(i for i in shard_ids if not 0 <= i < shard_count)
    if outside:
        raise ValueError(
            f"shard id {outside[0]} is not below the shard count {shard_count} "
            f"(ids run from 0 to {shard_count - 1})"
        )


def owns_guild(shard_ids: Collection[int] | None, shard_count: int | None) -> Callable[[int], bool]:
    """Whether this process serves a server: always when it runs every shard, otherwise only
    the servers of its own shards (another process posts for the rest)."""
    if shard_ids is None or shard_count is None:
        return lambda guild_id: True
    mine = frozenset(shard_ids)
    if mine >= frozenset(range(shard_count)):
        return lambda guild_id: True
    return lambda guild_id: shard_of(guild_id, shard_count) in mine


def shards_run(
    shard_ids: Collection[int] | None, shard_count: int | None
) -> tuple[tuple[int, int], ...]:
    """(shard id, shard count) of each shard this process runs, all of them included when it runs
    every shard of a known count: a later split must find each shard's last sign of life from
    the whole bot's run too. None when the count is left to Discord's recommendation."""
    if shard_count is None:
        return ()
    ids = range(shard_count) if shard_ids is None else shard_ids
    mine = frozenset(ids) & frozenset(range(shard_count))
    return tuple((shard_id, shard_count) for shard_id in sorted(mine))


def share_of(shard_ids: Collection[int] | None, shard_count: int | None) -> float:
    """The part of the bot's shards this process runs (1.0: all of them), for splitting a
    per-bot limit evenly when the processes cannot share it."""
    if shard_ids is None or shard_count is None:
        return 1.0
    return len(frozenset(shard_ids) & frozenset(range(shard_count))) / shard_count


class IdentifyGate:
    """Lets shards identify as fast as Discord allows and no faster: shard ``s`` is in bucket
    ``s % max_concurrency``, and a bucket identifies once per ``interval`` seconds.
    ``max_concurrency`` is read from Discord (GET /gateway/bot) on first use."""

    def __init__(self, interval: float, max_concurrency: Callable[[], Awaitable[int]]) -> None:
        self.interval = interval
        self._fetch = max_concurrency
        self._concurrency: int | None = None
        self._lock = asyncio.Lock()
        self._next: dict[int, float] = {}

    async def concurrency(self) -> int:
        async with self._lock:
            if self._concurrency is None:
                self._concurrency = max(1, await self._fetch())
            return self._concurrency

    async def wait(self, shard_id: int) -> None:
        bucket = shard_id % await self.concurrency()
        loop = asyncio.get_running_loop()
        now = loop.time()
        turn = max(now, self._next.get(bucket, now))
        self._next[bucket] = turn + self.interval
        if turn > now:
            await asyncio.sleep(turn - now)
