"""Stopping and restoring: the real `twopass run` process stopped by SIGTERM, and a backup taken
while members log passes, restored and checked."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from datetime import timedelta
from pathlib import Path

from bot.tree import SHUTTING_DOWN
from curriculum import default_curriculum
from localdiscord import LocalDiscord
from tests.conftest import NOW, Server, SteppedClock, make_bot
from tests.tables import Store
from tests.test_posts_e2e import DUE, POST_MESSAGE, bot_at, settings_for

ROOT = Path(__file__).resolve().parent.parent
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
VIDEOS = tuple(video.id for phase in default_curriculum().phases for video in phase.videos)


def _env(database: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWOPASS_", "DISCORD_"))}
    env.update(TWOPASS_DATABASE=str(database), TWOPASS_LOG_LEVEL="INFO", **extra)
    return env


async def _twopass(database: Path, *args: str) -> tuple[int, str]:
    """`twopass ARGS` as a user runs it, without holding up the event loop the bot runs on."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=database.parent,  # no .env there
        env=_env(database),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


def _closed_cleanly(database: Path) -> list[tuple[str, int]]:
    """The passes in a database that was closed properly: its write-ahead log checkpointed into
    the file and removed, and the file intact."""
    assert not Path(f"{database}-wal").exists()
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return db.execute("SELECT video_id, pass FROM passes").fetchall()


async def test_sigterm_answers_the_command_in_flight_then_exits_cleanly(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    async with LocalDiscord() as local:
        guild = local.add_guild("Study Hall")
        study = guild.add_text_channel("study")
        alice = guild.add_member("alice")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "tests" / "run_local.py"),
            local.api_base,
            local.gateway_url,
            "run",
            cwd=tmp_path,
            env=_env(database, DISCORD_TOKEN=local.token),
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await local.wait_until(
                lambda: local.commands.sync_count > 0 and local.gateway.connected,
                30,
                what="the bot to log in",
            )
            await local.slash(alice, "join", channel=study)
            # Hold the answer up: Discord asks the bot to retry its reply in a second, and the
            # supervisor's SIGTERM arrives meanwhile.
            local.rate_limit("POST", CALLBACK, retry_after=1.0)
            answer = asyncio.create_task(
                local.slash(alice, "done", channel=study, video="gpt", pass_="first")
            )
            await local.wait_until(lambda: local.rate_limit_hits == 1, what="the held-up reply")
            proc.send_signal(signal.SIGTERM)
            reply = await answer
            code = await asyncio.wait_for(proc.wait(), 10)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert proc.stderr is not None
        log = (await proc.stderr.read()).decode()

    assert code == 0, log
    assert "received SIGTERM" in log and "stopped" in log
    assert not reply.ephemeral and "first pass" in str(reply.embeds)
    assert _closed_cleanly(database) == [("gpt", 1)]


async def test_a_post_in_flight_when_the_bot_stops_is_sent_and_recorded(database_url: str) -> None:
    due = DUE.replace(hour=9)
    async with LocalDiscord() as local, await Store.open(database_url) as store:
        guild = local.add_guild("Study Hall")
        channel = guild.add_text_channel("study")
        await store.save_guild_settings(
            settings_for(guild.id, channel.id, daily=True, checkin=False), due
        )
        # Discord holds the daily post back for a second; the bot is stopped meanwhile.
        local.rate_limit("POST", POST_MESSAGE, retry_after=1.0)
        async with local.running(bot_at(store, due + timedelta(minutes=5))):
            await local.wait_until(lambda: local.rate_limit_hits == 1, what="the held-up post")
        record = await store.post_record(guild.id, "daily", due.date().isoformat())
        assert record is not None and record.done
        assert [m.id for m in local.channel_messages(channel)] == [record.message_id]


async def test_while_stopping_a_new_command_is_told_to_come_back(server: Server) -> None:
    server.bot.tree.refuse_new()  # type: ignore[attr-defined]
    reply = await server.slash(server.alice, "join")
    assert reply.ephemeral and reply.content == SHUTTING_DOWN
    assert await server.store.member(server.guild.id, server.alice.id) is None


CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"


async def test_an_erase_clicked_as_the_bot_stops_is_answered_before_it_goes(
    tmp_path: Path,
) -> None:
    async with LocalDiscord() as local, await Store.open(tmp_path / "bot.sqlite3") as store:
        guild = local.add_guild("Study Hall")
        study = guild.add_text_channel("study")
        alice = guild.add_member("alice")
        async with local.running(make_bot(store, SteppedClock(NOW))):
            await local.slash(alice, "join", channel=study)
            prompt = await local.slash(alice, "forget", channel=study)
            # Discord holds the click's answer back for a second; the bot is stopped meanwhile.
            local.rate_limit("POST", CALLBACK, retry_after=1.0)
            click = asyncio.create_task(local.click(alice, prompt, label="Erase"))
            await local.wait_until(lambda: local.rate_limit_hits == 1, what="the held-up answer")
        reply = await click
        assert reply.content.startswith("Erased. Your data in this server is gone")
        assert await store.member(guild.id, alice.id) is None


async def test_while_stopping_a_click_is_told_to_come_back(server: Server) -> None:
    await server.slash(server.alice, "join")
    prompt = await server.slash(server.alice, "forget")
    server.bot.tree.refuse_new()  # type: ignore[attr-defined]
    reply = await server.discord.click(server.alice, prompt, label="Erase")
    assert reply.ephemeral and reply.content == SHUTTING_DOWN
    assert await server.store.member(server.guild.id, server.alice.id) is not None


async def test_a_backup_taken_while_members_log_restores_every_acknowledged_pass(
    tmp_path: Path,
) -> None:
    live, copy = tmp_path / "live.sqlite3", tmp_path / "copy.sqlite3"
    async with LocalDiscord() as local:
        guild = local.add_guild("Study Hall")
        study = guild.add_text_channel("study")
        members = [guild.add_member(f"member{n}") for n in range(6)]
        clock = SteppedClock(NOW)

        async def log_all(videos: tuple[str, ...]) -> list[tuple[int, str]]:
            acknowledged = []
            for video in videos:
                replies = await asyncio.gather(
                    *(
                        local.slash(m, "done", channel=study, video=video, pass_="first")
                        for m in members
                    )
                )
                acknowledged += [
                    (m.id, video)
                    for m, r in zip(members, replies, strict=True)
                    if not r.ephemeral and "first pass" in str(r.embeds)
                ]
            return acknowledged

        async with await Store.open(live) as store, local.running(make_bot(store, clock)):
            for m in members:
                await local.slash(m, "join", channel=study)
            before = await log_all(VIDEOS[:2])
            # Members keep logging while the backup runs.
            backup = asyncio.create_task(_twopass(live, "db", "backup", str(copy)))
            during = []
            for video in VIDEOS[2:]:
                if backup.done():
                    break
                during += await log_all((video,))
            code, out = await backup
            assert code == 0, out
        assert len(before) == len(members) * 2 and during

        code, out = await _twopass(copy, "db", "check")
        assert code == 0 and "the totals agree with the history" in out, out

        # A bot started on the copy knows every pass acknowledged before the backup began.
        async with await Store.open(copy) as restored, local.running(make_bot(restored, clock)):
            for member_id, video in before:
                stored = await restored.passes_of(guild.id, member_id)
                assert (video, 1) in {(p.video_id, p.pass_no) for p in stored}
            again = await local.slash(
                members[0], "done", channel=study, video=VIDEOS[0], pass_="first"
            )
            assert again.ephemeral and "already logged" in again.content
            board = await local.slash(members[0], "leaderboard", channel=study, period="all time")
            assert all(m.mention in str(board.embeds) for m in members)
