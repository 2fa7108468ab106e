"""When the bot is removed from a server: its data is kept 30 days, in case it is invited back,
then a daily job erases every row of it. Driven through the local Discord with a moved clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest

from bot.db import Database
from bot.posts.schedule import PostKind
from bot.server.service import Servers
from curriculum import Pass, Roadmaps, default_curriculum
from localdiscord import LocalDiscord
from tests.conftest import NOW, Server, SteppedClock, make_bot
from tests.tables import Store, Study
from tests.test_journeys import text
from tests.test_members_data import all_tables, rows_naming, tables_naming


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(100):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def left_at(db: Database, guild_id: int) -> str | None:
    row = await db.row("SELECT left_at FROM guild_settings WHERE guild_id = ?", (guild_id,))
    assert row is not None
    return None if row[0] is None else str(row[0])


async def test_a_server_is_kept_30_days_after_removal_then_erased(server: Server) -> None:
    guild, db, bot = server.guild.id, server.store.db, server.bot
    await server.slash(server.admin, "setup channel", channel_=server.study)
    await server.slash(server.alice, "join")
    await server.slash(server.alice, "done", video="gpt", pass_="first", note="kept for now")
    await server.slash(server.alice, "done", video="gpt", pass_="first", note="kept, fixed")
    await server.slash(server.admin, "checkin now")
    assert bot.posts.next_fire(guild, PostKind.DAILY) is not None

    server.discord.remove_bot(server.guild)
    await eventually(lambda: _is_left(db, guild), "the server to be marked as left")
    assert bot.posts.next_fire(guild, PostKind.DAILY) is None  # no posts into a server it left

    # Invited back within 30 days: everything is as it was, posts included.
    server.clock.advance(days=29)
    assert await bot.erase_left_servers() == 0
    server.discord.add_bot(server.guild)
    await eventually(lambda: _is_back(db, guild), "the server to be back")
    assert bot.posts.next_fire(guild, PostKind.DAILY) is not None
    assert "1/38 passes" in text(await server.slash(server.alice, "progress"))
    # A note for the admins: the study channel was deleted.
    server.study.delete()
    await eventually(lambda: _has_note(db, guild), "a note about the deleted channel")
    # Every table holds a row of the server, but the bot's own bookkeeping: a table added
    # later is shown to be erased here too.
    assert await tables_naming(db, guild) | {"app_state"} == await all_tables(db)

    # Removed again, and not back after 30 days: the daily job erases every row of it.
    server.discord.remove_bot(server.guild)
    await eventually(lambda: _is_left(db, guild), "the server to be marked as left again")
    server.clock.advance(days=30, seconds=-1)
    assert await bot.erase_left_servers() == 0  # the count starts at the second removal
    assert await rows_naming(db, guild)
    server.clock.advance(seconds=1)
    assert await bot.erase_left_servers() == 1
    assert await rows_naming(db, guild) == []
    assert await Study(server.store, bot.roadmaps).check_totals() == []


async def _has_note(db: Database, guild_id: int) -> bool:
    return await db.row("SELECT 1 FROM post_notes WHERE guild_id = ?", (guild_id,)) is not None


async def _is_left(db: Database, guild_id: int) -> bool:
    return await left_at(db, guild_id) is not None


async def _is_back(db: Database, guild_id: int) -> bool:
    return await left_at(db, guild_id) is None


class RecordedPosts:
    """The posts' side of a settings change, recorded: which servers were rescheduled."""

    def __init__(self) -> None:
        self.changed: list[int] = []

    async def settings_changed(self, guild_id: int) -> None:
        self.changed.append(guild_id)

    async def study_channel_lost(self, guild_id: int, channel_id: int, now: datetime) -> None:
        return None

    async def notes(self, guild_id: int) -> list[str]:
        return []


async def test_servers_left_or_rejoined_while_offline_are_found_at_connection(
    store: Store,
) -> None:
    servers = Servers(store.servers, Roadmaps(default_curriculum()))
    posts = servers.posts = RecordedPosts()
    stays, removed, back, elsewhere, gone_before = 1, 2, 3, 4, 5
    for guild_id in (stays, removed, back, elsewhere, gone_before):
        await store.servers.ensure(servers.defaults(guild_id, NOW), NOW)
    await store.servers.mark_left(back, NOW - timedelta(days=3))
    await store.servers.mark_left(gone_before, NOW - timedelta(days=3))
    before = await left_at(store.db, gone_before)

    # Connected again: in `stays` and `back`; `elsewhere` belongs to another process's shards.
    await servers.reconcile({stays, back}, NOW, serves=lambda guild_id: guild_id != elsewhere)

    assert await left_at(store.db, stays) is None
    assert await left_at(store.db, removed) is not None
    assert await left_at(store.db, back) is None
    assert await left_at(store.db, elsewhere) is None  # not this process's to judge
    assert await left_at(store.db, gone_before) == before  # still counting from its removal
    assert sorted(posts.changed) == [removed, back]  # only what changed is rescheduled

    # A second connection with nothing changed reschedules nothing.
    posts.changed.clear()
    await servers.reconcile({stays, back}, NOW, serves=lambda guild_id: guild_id != elsewhere)
    assert posts.changed == []


async def test_a_server_that_invited_the_bot_back_while_it_was_down_is_not_erased(
    database_url: str,
) -> None:
    # Removed 31 days ago (past the 30 kept), invited back yesterday while the bot was stopped:
    # the daily erasure must wait for the connection's check, which finds it back.
    async with LocalDiscord() as local, await Store.open(database_url) as store:
        guild = local.add_guild("Study Hall")
        alice = guild.add_member("alice")
        study = Study(store, default_curriculum())
        await study.join(guild.id, alice.id, NOW - timedelta(days=40))
        await study.log(guild.id, alice.id, "gpt", Pass.FIRST, NOW - timedelta(days=40))
        await store.servers.mark_left(guild.id, NOW - timedelta(days=31))
        gone = local.add_guild("Gone")  # removed 31 days ago, and not back
        servers = Servers(store.servers, Roadmaps(default_curriculum()))
        await store.servers.ensure(servers.defaults(gone.id, NOW), NOW)
        await store.servers.mark_left(gone.id, NOW - timedelta(days=31))
        del local.world.guilds[gone.id]
        bot = make_bot(store, SteppedClock(NOW))
        async with local.running(bot):
            await bot.reconciled.wait()
            await eventually(
                lambda: _no_settings(store.db, gone.id), "the server that is gone to be erased"
            )
            assert await left_at(store.db, guild.id) is None
            assert [
                tuple(r)
                for r in await store.db.rows(
                    "SELECT user_id, video_id FROM passes WHERE guild_id = ?", (guild.id,)
                )
            ] == [(alice.id, "gpt")]


async def _no_settings(db: Database, guild_id: int) -> bool:
    return await db.row("SELECT 1 FROM guild_settings WHERE guild_id = ?", (guild_id,)) is None


@pytest.mark.sqlite_only  # the statements are read through SQLite's trace
async def test_a_connection_with_nothing_changed_only_reads(store: Store) -> None:
    servers = Servers(store.servers, Roadmaps(default_curriculum()))
    servers.posts = RecordedPosts()
    for guild_id in range(1, 51):
        await store.servers.ensure(servers.defaults(guild_id, NOW), NOW)
    await store.servers.mark_left(50, NOW)
    statements: list[str] = []
    await store.db.trace(statements.append)
    await servers.reconcile(set(range(1, 50)), NOW)
    await store.db.trace(None)
    assert statements and all(sql.lstrip().upper().startswith("SELECT") for sql in statements)
