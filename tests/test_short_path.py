"""Short statements run on the event loop's own connection and never wait there: when another
connection holds the database, they go to the thread connection, which waits its turn, and the
command still answers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot import tree
from curriculum import Pass
from tests.conftest import Server
from tests.tables import write_lock_held

# The loop's own connection is SQLite's; PostgreSQL runs every statement the same way.
pytestmark = pytest.mark.sqlite_only


async def test_a_locked_database_hands_done_to_the_thread_and_the_command_succeeds(
    server: Server,
) -> None:
    await server.slash(server.alice, "join")
    db = server.store.db
    # Another process holds the write lock: the loop's connection would get SQLITE_BUSY.
    with write_lock_held(db.path):
        done = asyncio.create_task(server.slash(server.alice, "done", video="gpt", pass_="first"))
        # The loop is free meanwhile: the thread connection is the one waiting.
        for _ in range(20):
            await asyncio.sleep(0.01)
        assert not done.done()
        assert db.handed_over == 1
    reply = await done
    assert "did the **first pass**" in str(reply.embeds)
    assert await server.store.passes_of(server.guild.id, server.alice.id)


async def test_short_statements_see_what_the_thread_connection_committed(server: Server) -> None:
    db, guild, alice = server.store.db, server.guild.id, server.alice.id
    await server.slash(server.alice, "join")
    await server.slash(server.alice, "done", video="gpt", pass_="first")
    # /undo runs on the thread connection; the next /done reads on the loop's and sees it gone.
    undone = await server.slash(server.alice, "undo", video="gpt", pass_="first")
    assert "Removed" in undone.content
    again = await server.slash(server.alice, "done", video="gpt", pass_="first")
    assert "did the **first pass**" in str(again.embeds)
    assert db.handed_over == 0
    held = await server.store.passes_of(guild, alice)
    assert [(p.video_id, p.pass_no) for p in held] == [("gpt", int(Pass.FIRST))]


async def test_a_done_that_waits_for_the_database_is_acknowledged_then_answered_in_public(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Discord closes an interaction not acknowledged within 3 s, and a write may wait up to the
    # busy timeout (5 s): past ACKNOWLEDGE_AFTER_SECONDS the bot says it is thinking, as public
    # as the answer will be, and the answer completes it. Shortened here.
    monkeypatch.setattr(tree, "ACKNOWLEDGE_AFTER_SECONDS", 0.05)
    await server.slash(server.alice, "join")
    with write_lock_held(server.store.db.path):
        done = asyncio.create_task(server.slash(server.alice, "done", video="gpt", pass_="first"))
        await asyncio.sleep(0.3)
    reply = await done
    assert reply.deferred and not reply.ephemeral
    assert "did the **first pass**" in str(reply.embeds)
    # A quick one is answered directly, with no "thinking..." first.
    quick = await server.slash(server.alice, "done", video="gpt", pass_="second")
    assert not quick.deferred and "did the **second pass**" in str(quick.embeds)


async def test_a_slow_done_refused_after_its_acknowledgement_says_why_once(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The write waits past the acknowledgement, then finds the pass already there (logged by
    # another process meanwhile): the refusal is said once, privately, as every error is; the
    # public "thinking..." message gives way to it rather than showing it to the channel.
    monkeypatch.setattr(tree, "ACKNOWLEDGE_AFTER_SECONDS", 0.05)
    await server.slash(server.alice, "join")
    guild, alice = server.guild.id, server.alice.id
    with write_lock_held(server.store.db.path) as other:
        done = asyncio.create_task(server.slash(server.alice, "done", video="gpt", pass_="first"))
        await asyncio.sleep(0.3)
        other.execute(
            "INSERT INTO passes (guild_id, user_id, video_id, pass, logged_at, study_date,"
            " minutes, week) VALUES (?, ?, 'gpt', 1, '2026-03-02 11:00:00', '2026-03-02', 60,"
            " '2026-03-02')",
            (guild, alice),
        )
    reply = await done
    assert reply.deferred and reply.deleted  # the public "thinking..." is gone
    (said,) = reply.followups
    assert said.ephemeral and "already logged" in said.content
    assert not any(
        m.embeds or "already" in m.content for m in server.discord.channel_messages(server.study)
    )
    assert len(await server.store.passes_of(guild, alice)) == 1


async def test_a_slow_done_whose_answer_is_private_does_not_show_in_the_channel(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # /done again with a new note answers privately ("Updated your pass"); slow, it was first
    # acknowledged in public, as a log is answered.
    monkeypatch.setattr(tree, "ACKNOWLEDGE_AFTER_SECONDS", 0.05)
    await server.slash(server.alice, "join")
    await server.slash(server.alice, "done", video="gpt", pass_="first")
    posted = len(server.discord.channel_messages(server.study))
    with write_lock_held(server.store.db.path):
        edit = asyncio.create_task(
            server.slash(server.alice, "done", video="gpt", pass_="first", note="fixed")
        )
        await asyncio.sleep(0.3)
    reply = await edit
    assert reply.deferred and reply.deleted
    (said,) = reply.followups
    assert said.ephemeral and "Updated your first pass" in str(said.embeds)
    assert (
        len(server.discord.channel_messages(server.study)) == posted
    )  # nothing new in the channel


def test_the_acknowledgement_counts_from_when_discord_created_the_interaction() -> None:
    created = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    limit = tree.ACKNOWLEDGE_AFTER_SECONDS
    # A command that starts at once waits the whole time; one that waited its turn on a busy
    # loop for 1.5 s has only the rest; one already past it acknowledges at once.
    assert tree.acknowledge_delay(created, created) == limit
    assert tree.acknowledge_delay(created, created + timedelta(seconds=1.5)) == limit - 1.5
    assert tree.acknowledge_delay(created, created + timedelta(seconds=2.5)) == 0.0
    # An age the clocks cannot vouch for (a host clock behind Discord's, ids of a local sandbox
    # dated years back) falls back to counting from the start of the command.
    assert tree.acknowledge_delay(created, created - timedelta(seconds=2)) == limit
    assert tree.acknowledge_delay(created, created + timedelta(days=3650)) == limit
