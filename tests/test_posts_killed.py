"""The bot killed with SIGKILL at each step of a check-in (after the reservation, after a part was
recorded, after Discord accepted a part but before it was recorded), then started again; and two
bots on one database at once. Each bot is a process of its own (`tests/bot_process.py`) logged in
to the local Discord of the test: every part of the post appears exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.posts.messages import Mark, Outgoing
from bot.server.records import GuildSettings
from curriculum import Pass, default_curriculum
from localdiscord import Channel, LocalDiscord, rest
from localdiscord.model import Message
from tests.tables import Store, Study

ROOT = Path(__file__).resolve().parent.parent
DUE = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # a Monday: the check-in of 23 Feb - 1 Mar


async def start_bot(
    local: LocalDiscord, db: Path, at: datetime, die: str | None = None
) -> asyncio.subprocess.Process:
    command = [
        sys.executable,
        "-m",
        "tests.bot_process",
        "--db",
        str(db),
        "--base",
        local.api_base,
        "--gateway",
        local.gateway_url,
        "--token",
        local.token,
        "--at",
        at.isoformat(),
    ]
    if die:
        command += ["--die", die]
    # A process of its own: its identify does not count against the previous process's bucket
    # (real restarts take longer than Discord's 5 s between identifies).
    local.gateway.new_client()
    return await asyncio.create_subprocess_exec(
        *command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def until_idle(process: asyncio.subprocess.Process) -> None:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    assert line.strip() == b"idle", line


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
    await process.wait()


async def server_with_a_check_in_due(local: LocalDiscord, store: Store) -> Channel:
    guild = local.add_guild("Study Hall")
    channel = guild.add_text_channel("study")
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
    study = Study(store, default_curriculum(), "UTC")
    for user in range(1, 4):  # so that the check-in has a head, members, the map and a nudge
        await study.join(guild.id, user, DUE - timedelta(days=10), reminders=user == 3)
    for user in (1, 2):
        await study.log(guild.id, user, "micrograd", Pass.FIRST, DUE - timedelta(days=2))
    return channel


def every_part(local: LocalDiscord, channel: Channel) -> list[Message]:
    messages = local.channel_messages(channel)
    threads = [local.world.channels[m.id] for m in messages if m.id in local.world.channels]
    return messages + [m for t in threads for m in local.channel_messages(t)]


async def assert_posted_once(local: LocalDiscord, store: Store, channel: Channel) -> None:
    record = await store.latest_checkin(channel.guild.id)
    assert record is not None and record.state == "posted"
    parts = await store.parts(record.key)
    assert len(parts) >= 4 and all(p.state == "sent" for p in parts)
    posted = every_part(local, channel)
    found = Counter(
        p.part
        for p in parts
        for m in posted
        if Mark("checkin", record.period_key, p.part).on(Outgoing(m.content, tuple(m.embeds)))
    )
    assert found == Counter({p.part: 1 for p in parts})  # each part exactly once
    assert len(posted) == len(parts)  # and nothing else


@pytest.mark.parametrize(
    ("step", "restart_after"),
    [
        ("after-reserve", timedelta(minutes=1)),
        ("after-part-2", timedelta(minutes=1)),
        ("before-record-2", timedelta(minutes=1)),  # Discord still knows the nonce
        ("before-record-2", timedelta(minutes=40)),  # it forgot: the mark finds the message
    ],
)
async def test_a_bot_killed_at_any_step_of_a_check_in_posts_each_part_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, restart_after: timedelta
) -> None:
    db = tmp_path / "bot.sqlite3"
    async with LocalDiscord() as local, await Store.open(db) as store:
        channel = await server_with_a_check_in_due(local, store)
        first = await start_bot(local, db, DUE + timedelta(seconds=30), die=step)
        try:
            assert await asyncio.wait_for(first.wait(), 30) == -signal.SIGKILL
        finally:
            await stop(first)
        if restart_after > timedelta(minutes=5):
            monkeypatch.setattr(rest, "NONCE_WINDOW_SECONDS", 0.0)
        again = await start_bot(local, db, DUE + restart_after)
        try:
            await until_idle(again)
        finally:
            await stop(again)
        await assert_posted_once(local, store, channel)
        looked = local.requests_to("GET", "/channels/{channel_id}/messages")
        assert bool(looked) is (restart_after > timedelta(minutes=5))


async def test_two_bots_on_one_database_post_each_part_once(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    # Two processes of one bot identify at the same moment, which Discord would space 5 s apart
    # (one shard per bucket); the race under test is the database's, not the gateway's.
    async with LocalDiscord(identify_interval=0.0) as local, await Store.open(db) as store:
        channel = await server_with_a_check_in_due(local, store)
        bots = [await start_bot(local, db, DUE + timedelta(seconds=30)) for _ in range(2)]
        try:
            await asyncio.gather(*(until_idle(bot) for bot in bots))
        finally:
            for bot in bots:
                await stop(bot)
        # When both start the check-in's thread at once, Discord refuses the second start
        # (160004) and that bot adopts the thread: the one rejection this race may show.
        assert all("160004" in problem for problem in local.take_problems())
        await assert_posted_once(local, store, channel)
