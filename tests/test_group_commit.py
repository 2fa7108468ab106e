"""Passes logged at the same moment commit together (one transaction, a savepoint each): each
caller still gets its own outcome, and one write that fails takes none of the others with it."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.learners.repo import LogOutcome, LogResult
from tests.tables import Store, write_lock_held

# Group commit is SQLite's short path: PostgreSQL commits each short write on its own.
pytestmark = pytest.mark.sqlite_only

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
GUILD = 1
ALICE, BOB, CAROL, DAVE = 11, 12, 13, 14


async def _members(store: Store, *users: int) -> None:
    for user in users:
        await store.learners.join(GUILD, user, 5.0, "UTC", NOW)


def _log(store: Store, user: int, video: str, pass_no: int) -> Any:
    return store.log_pass(
        GUILD,
        user,
        video,
        pass_no,
        now=NOW,
        study_date=NOW.date(),
        note=None,
        link=None,
        actor_id=user,
    )


def _statements(store: Store, seen: list[str]) -> Any:
    return store.db.trace(lambda sql: seen.append(sql.strip().split()[0].upper()))


async def test_concurrent_logs_share_one_commit_and_each_gets_its_own_outcome(
    store: Store,
) -> None:
    await _members(store, ALICE, BOB, DAVE)
    seen: list[str] = []
    await _statements(store, seen)
    results: list[LogResult] = await asyncio.gather(
        _log(store, ALICE, "gpt", 1),
        _log(store, BOB, "gpt", 2),  # no first pass yet
        _log(store, CAROL, "gpt", 1),  # never joined
        _log(store, DAVE, "gpt", 1),
        _log(store, ALICE, "gpt", 1),  # the same pass again, in the same batch
        _log(store, DAVE, "gpt", 2),  # after the first, in the same batch
    )
    await store.db.trace(None)
    assert [r.outcome for r in results] == [
        LogOutcome.LOGGED,
        LogOutcome.NEEDS_FIRST_PASS,
        LogOutcome.NOT_A_MEMBER,
        LogOutcome.LOGGED,
        LogOutcome.ALREADY_LOGGED,
        LogOutcome.LOGGED,
    ]
    # The second pass saw the first one logged earlier in the same transaction.
    assert results[5].held == {("gpt", 1), ("gpt", 2)}
    # The first of the burst commits at once (nobody was writing); the five that came while
    # it did share one trip of the writer.
    assert seen.count("BEGIN") == 1
    assert seen.count("COMMIT") == 1
    assert seen.count("SAVEPOINT") == 5
    held = {
        user: {(p.video_id, p.pass_no) for p in await store.passes_of(GUILD, user)}
        for user in (ALICE, BOB, CAROL, DAVE)
    }
    assert held == {ALICE: {("gpt", 1)}, BOB: set(), CAROL: set(), DAVE: {("gpt", 1), ("gpt", 2)}}
    # Each logged pass has its one history entry, by the trigger, inside the savepoint.
    assert [h.video_id for h in await store.history_of(GUILD, DAVE)] == ["gpt", "gpt"]
    assert len(await store.history_of(GUILD, ALICE)) == 1


async def test_a_write_that_fails_is_rolled_back_alone_and_raises_to_its_caller(
    store: Store,
) -> None:
    await _members(store, ALICE, BOB)
    db = store.db
    results = await asyncio.gather(
        _log(store, ALICE, "gpt", 1),
        db.short_write("INSERT INTO app_state (key, value) VALUES (?, ?) RETURNING key", ("a", 1)),
        # NOT NULL: refused by the database itself, mid-batch.
        db.short_write("INSERT INTO app_state (key, value) VALUES (?, NULL)", ("b",)),
        _log(store, BOB, "gpt", 1),
        return_exceptions=True,
    )
    assert isinstance(results[0], LogResult) and results[0].outcome is LogOutcome.LOGGED
    assert results[1] == [("a",)]
    assert isinstance(results[2], sqlite3.IntegrityError)
    assert isinstance(results[3], LogResult) and results[3].outcome is LogOutcome.LOGGED
    assert await db.get_state("a") == "1"
    assert await db.get_state("b") is None
    assert await store.passes_of(GUILD, ALICE) and await store.passes_of(GUILD, BOB)


async def test_a_busy_database_hands_the_batch_to_the_thread_and_every_write_lands(
    store: Store,
) -> None:
    await _members(store, ALICE, BOB, DAVE)
    db = store.db
    # Another process holds the write lock: the loop's connection cannot begin.
    with write_lock_held(db.path):
        logs = asyncio.gather(*(_log(store, user, "gpt", 1) for user in (ALICE, BOB, DAVE)))
        for _ in range(10):
            await asyncio.sleep(0.01)
        assert not logs.done()
        assert db.handed_over == 3
    results = await logs
    assert [r.outcome for r in results] == [LogOutcome.LOGGED] * 3


async def test_a_caller_that_gives_up_before_the_commit_writes_nothing(store: Store) -> None:
    await _members(store, ALICE, BOB)
    kept = asyncio.ensure_future(_log(store, ALICE, "gpt", 1))
    dropped = asyncio.ensure_future(_log(store, BOB, "gpt", 1))
    await asyncio.sleep(0)  # both are waiting for the commit
    dropped.cancel()
    assert (await kept).outcome is LogOutcome.LOGGED
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert not await store.passes_of(GUILD, BOB)


async def test_a_lone_write_commits_at_once_without_a_transaction_around_it(store: Store) -> None:
    await _members(store, ALICE, BOB)
    seen: list[str] = []
    await _statements(store, seen)
    assert (await _log(store, ALICE, "gpt", 1)).outcome is LogOutcome.LOGGED
    await asyncio.sleep(0.01)  # well past the group window: nobody else is writing
    assert (await _log(store, BOB, "gpt", 1)).outcome is LogOutcome.LOGGED
    await store.db.trace(None)
    assert seen.count("INSERT") >= 2
    assert not {"BEGIN", "SAVEPOINT", "COMMIT"} & set(seen)
