"""One bot split over three processes (two shards each of six) on one database, against one local
Discord that enforces the global limit of 50 requests/s for the bot's token across all of them.

Every server's weekly check-in falls due at once. Each process posts for its own shards' servers,
paced by one bucket they share in Redis, so together they stay under Discord's limit. A process
killed with SIGKILL in the middle of the fan-out is restarted with the same shard ids, as a
supervisor does: the outbox's reservations, nonces and marks make it finish what it started
without posting anything twice.

How long the fan-out takes against the floor (requests / 50 per second) is measured, not
asserted, in bench/cluster.py (`python -m bench --only cluster`), at full size 10,000 servers in
24 shards.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from bot.posts.messages import Mark, Outgoing
from bot.server.records import GuildSettings
from bot.sharding import parse_shard_ids, shard_of
from localdiscord import Channel, LocalDiscord
from tests.tables import Store
from tests.test_posts_killed import every_part, stop, until_idle

ROOT = Path(__file__).resolve().parent.parent
DUE = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # a Monday: the check-in of 23 Feb - 1 Mar
SERVERS = 60
SHARDS = 6
PROCESSES = ("0-1", "2-3", "4-5")
LIMIT = 50.0  # Discord's global requests per second for one bot token
POST_RATE = 48.0  # what the processes may use together
POST_MESSAGE = "/channels/{channel_id}/messages"


async def start_process(
    local: LocalDiscord,
    db: str,
    shards: str,
    redis_url: str,
    at: datetime,
    die_at_part: int | None = None,
) -> asyncio.subprocess.Process:
    command = [
        *(sys.executable, "-m", "tests.bot_process", "--db", str(db)),
        *("--base", local.api_base, "--gateway", local.gateway_url, "--token", local.token),
        *("--at", at.isoformat(), "--shards", shards, "--shard-count", str(SHARDS)),
        *("--redis", redis_url, "--post-rate", str(POST_RATE), "--identify-interval", "0.01"),
    ]
    if die_at_part:
        command += ["--die-at-part", str(die_at_part)]
    return await asyncio.create_subprocess_exec(
        *command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def servers_with_a_check_in_due(local: LocalDiscord, store: Store) -> dict[int, Channel]:
    channels = {}
    for number in range(SERVERS):
        guild = local.add_guild(f"Study Hall {number}")
        channel = channels[guild.id] = guild.add_text_channel("study")
        settings = GuildSettings(
            guild_id=guild.id,
            study_channel_id=channel.id,
            timezone="UTC",
            checkin_weekday=0,
            checkin_time=time(18, 0),
            daily_time=time(9, 0),
            daily_enabled=False,
            checkin_enabled=True,
            curriculum_id="ml-engineer",
            cohort_start=DUE.date() - timedelta(days=7),
            default_pace=5.0,
        )
        await store.save_guild_settings(settings, DUE - timedelta(days=7))
    return channels


async def posted_once(local: LocalDiscord, store: Store, channel: Channel) -> int:
    """Asserts the server's check-in is recorded as posted and each of its parts is in the
    channel (or its thread) exactly once; returns the number of parts."""
    record = await store.latest_checkin(channel.guild.id)
    assert record is not None and record.state == "posted", record
    parts = await store.parts(record.key)
    posted = every_part(local, channel)
    found = Counter(
        p.part
        for p in parts
        for m in posted
        if Mark("checkin", record.period_key, p.part).on(Outgoing(m.content, tuple(m.embeds)))
    )
    assert found == Counter({p.part: 1 for p in parts})
    assert len(posted) == len(parts)
    return len(parts)


async def test_three_processes_post_every_check_in_once_within_the_limit_across_a_kill(
    database_url: str, redis_url: str
) -> None:
    # On SQLite (one machine) and on PostgreSQL (processes on several machines).
    db = database_url
    # Three processes of one bot identify at once; Discord's spacing of identifies is not what
    # this test is about (tests/test_shards.py is).
    async with LocalDiscord(identify_interval=0.0) as local, await Store.open(db) as store:
        channels = await servers_with_a_check_in_due(local, store)
        first_process = [g for g in channels if shard_of(g, SHARDS) in parse_shard_ids("0-1")]
        local.enforce_rate_limits(global_per_second=LIMIT)
        at = DUE + timedelta(seconds=30)  # every check-in fell due half a minute ago
        loop = asyncio.get_running_loop()
        started = loop.time()
        processes = [
            # The first dies once Discord has taken its 12th part, before that part is recorded.
            await start_process(
                local, db, shards, redis_url, at, die_at_part=12 if i == 0 else None
            )
            for i, shards in enumerate(PROCESSES)
        ]
        try:
            assert await asyncio.wait_for(processes[0].wait(), 30) == -signal.SIGKILL
            unfinished = [g for g in first_process if not await checked_in(store, g)]
            assert unfinished  # killed in the middle of its servers' check-ins
            # Its supervisor starts it again with the same shard ids: the takeover.
            restart_at = at + timedelta(seconds=loop.time() - started)
            processes[0] = await start_process(local, db, PROCESSES[0], redis_url, restart_at)
            await asyncio.gather(*(until_idle(p) for p in processes))
        finally:
            for process in processes:
                await stop(process)
        # Only Discord's answer to two thread starts at once (160004) may show, never a fault.
        assert not [p for p in local.take_problems() if "160004" not in p]

        # Every server's check-in, each part exactly once, whichever process posted it.
        parts = [await posted_once(local, store, channel) for channel in channels.values()]
    assert sum(parts) >= 2 * SERVERS
    # Together the processes kept to the bot's one limit: Discord refused nothing.
    assert local.rate_limit_hits == 0


async def checked_in(store: Store, guild_id: int) -> bool:
    record = await store.latest_checkin(guild_id)
    return record is not None and record.state == "posted"
