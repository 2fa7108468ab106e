from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import date, time, timedelta
from pathlib import Path

import aiosqlite
import pytest

from bot.db import connection as core
from bot.db import migrations
from bot.learners.repo import LogOutcome, UndoOutcome
from bot.server.records import GuildSettings
from tests.conftest import NOW
from tests.tables import Store

GUILD, ALICE, BOB = 100, 1, 2


async def test_fresh_database_reaches_latest_schema(store: Store) -> None:
    assert await store.schema_version() == migrations.LATEST


async def test_a_fresh_sqlite_database_logs_ahead_and_checks_keys(sqlite_store: Store) -> None:
    store = sqlite_store
    async with store.reading() as db, db.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"  # type: ignore[index]
    async with store.reading() as db, db.execute("PRAGMA foreign_keys") as cur:
        assert (await cur.fetchone())[0] == 1  # type: ignore[index]


async def test_database_from_the_first_migration_upgrades(db_path: Path) -> None:
    async with aiosqlite.connect(db_path, isolation_level=None) as db:
        await migrations.upgrade(db, target=1)
        await db.execute(
            "INSERT INTO members VALUES (?, ?, '2026-01-01 00:00:00', 5.0, 'UTC', 1)",
            (GUILD, ALICE),
        )
    async with await Store.open(db_path) as store:
        assert await store.schema_version() == migrations.LATEST
        member = await store.member(GUILD, ALICE)
        assert member is not None and member.pace_hours == 5.0


async def test_a_failing_migration_leaves_nothing_behind(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = migrations.available()
    broken = migrations.Migration(
        len(real) + 1, "9999_broken.sql", "CREATE TABLE half (x); INSERT INTO nowhere VALUES (1);"
    )
    monkeypatch.setattr(migrations, "available", lambda: [*real, broken])
    monkeypatch.setattr(migrations, "LATEST", broken.version)
    async with aiosqlite.connect(db_path, isolation_level=None) as db:
        with pytest.raises(sqlite3.OperationalError, match="nowhere"):
            await migrations.upgrade(db, target=broken.version)
        assert await migrations.current_version(db) == len(real)
        async with db.execute("SELECT name FROM sqlite_master WHERE name = 'half'") as cur:
            assert await cur.fetchone() is None


async def test_newer_database_is_refused(db_path: Path) -> None:
    async with aiosqlite.connect(db_path) as db:
        await db.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    with pytest.raises(RuntimeError, match="newer than this code"):
        await Store.open(db_path)


async def test_guild_settings_round_trip(store: Store) -> None:
    assert await store.guild_settings(GUILD) is None
    settings = GuildSettings(
        guild_id=GUILD,
        study_channel_id=555,
        timezone="Europe/Paris",
        checkin_weekday=6,
        checkin_time=time(18, 30),
        daily_time=time(8),
        daily_enabled=True,
        checkin_enabled=False,
        curriculum_id="ml-engineer",
        cohort_start=date(2026, 3, 2),
        default_pace=6.0,
    )
    await store.save_guild_settings(settings, NOW)
    assert await store.guild_settings(GUILD) == settings
    assert await store.all_guild_settings() == [settings]


async def test_join_twice_updates_and_leave_keeps_member(store: Store) -> None:
    member, before = await store.join(GUILD, ALICE, 5, "UTC", NOW)
    assert before is None and member.active and member.pace_hours == 5
    member, before = await store.join(GUILD, ALICE, 8, "Asia/Tokyo", NOW + timedelta(days=3))
    assert before is not None and before.pace_hours == 5
    assert member.pace_hours == 8 and member.timezone == "Asia/Tokyo"
    assert member.joined_at == NOW  # re-joining keeps the original start
    assert await store.set_active(GUILD, ALICE, False)
    left = await store.member(GUILD, ALICE)
    assert left is not None and not left.active
    assert not await store.set_active(GUILD, BOB, False)
    assert not await store.set_active(GUILD, ALICE, False)  # already left: nothing to change


async def _log(
    store: Store, video: str, pass_no: int, user: int = ALICE, days: int = 0
) -> LogOutcome:
    result = await store.log_pass(
        GUILD,
        user,
        video,
        pass_no,
        now=NOW + timedelta(days=days),
        study_date=(NOW + timedelta(days=days)).date(),
        note=None,
        link=None,
        actor_id=user,
    )
    return result.outcome


async def test_pass_rules_are_enforced_in_one_transaction(store: Store) -> None:
    assert await _log(store, "micrograd", 1) is LogOutcome.NOT_A_MEMBER
    await store.join(GUILD, ALICE, 5, "UTC", NOW)
    assert await _log(store, "micrograd", 2) is LogOutcome.NEEDS_FIRST_PASS
    assert await _log(store, "micrograd", 1) is LogOutcome.LOGGED
    again = await store.log_pass(
        GUILD,
        ALICE,
        "micrograd",
        1,
        now=NOW + timedelta(hours=5),
        study_date=NOW.date(),
        note="x",
        link=None,
        actor_id=ALICE,
    )
    assert again.outcome is LogOutcome.ALREADY_LOGGED
    assert again.logged is not None and again.logged.logged_at == NOW and again.logged.note is None
    assert await _log(store, "micrograd", 2, days=1) is LogOutcome.LOGGED
    assert [p.pass_no for p in await store.passes_of(GUILD, ALICE)] == [1, 2]
    # Nothing was written for the refused attempts: one history entry per accepted log.
    assert [h.action for h in await store.history_of(GUILD, ALICE)] == ["log", "log"]


async def test_undo_keeps_history(store: Store) -> None:
    await store.join(GUILD, ALICE, 5, "UTC", NOW)
    await _log(store, "gpt", 1)
    await _log(store, "gpt", 2)
    outcome, _ = await store.undo_pass(GUILD, ALICE, "gpt", 1, now=NOW, actor_id=ALICE)
    assert outcome is UndoOutcome.SECOND_STILL_LOGGED
    outcome, removed = await store.undo_pass(GUILD, ALICE, "gpt", 2, now=NOW, actor_id=ALICE)
    assert outcome is UndoOutcome.UNDONE and removed is not None and removed.pass_no == 2
    outcome, _ = await store.undo_pass(GUILD, ALICE, "gpt", 2, now=NOW, actor_id=ALICE)
    assert outcome is UndoOutcome.NOT_LOGGED
    assert [(h.action, h.pass_no) for h in await store.history_of(GUILD, ALICE)] == [
        ("log", 1),
        ("log", 2),
        ("undo", 2),
    ]


async def test_backup_while_open_holds_the_same_rows(sqlite_store: Store, tmp_path: Path) -> None:
    store = sqlite_store
    await store.join(GUILD, ALICE, 5, "UTC", NOW)
    await _log(store, "micrograd", 1)
    copy = tmp_path / "backup" / "copy.sqlite3"
    await store.backup(copy)
    # The store stays usable after the backup, and the copy is a complete database of its own.
    await _log(store, "gpt", 1)
    async with await Store.open(copy) as restored:
        assert await restored.schema_version() == migrations.LATEST
        assert [p.video_id for p in await restored.passes_of(GUILD, ALICE)] == ["micrograd"]
        assert await restored.member(GUILD, ALICE) == await store.member(GUILD, ALICE)


async def test_update_guild_settings_touches_only_the_named_columns(store: Store) -> None:
    defaults = GuildSettings(
        guild_id=GUILD,
        study_channel_id=None,
        timezone="UTC",
        checkin_weekday=0,
        checkin_time=time(18),
        daily_time=time(9),
        daily_enabled=True,
        checkin_enabled=True,
        curriculum_id="ml-engineer",
        cohort_start=date(2026, 3, 2),
        default_pace=5.0,
    )
    created = await store.update_guild_settings(defaults, {"study_channel_id": 7}, NOW)
    assert created.study_channel_id == 7 and created.daily_enabled
    await store.save_guild_settings(replace(created, daily_enabled=False), NOW)
    # A stale picture of the row (daily on) must not come back with an unrelated change.
    updated = await store.update_guild_settings(defaults, {"checkin_time": time(20, 15)}, NOW)
    assert not updated.daily_enabled and updated.checkin_time == time(20, 15)
    assert updated.study_channel_id == 7
    with pytest.raises(ValueError, match="can be changed"):
        await store.update_guild_settings(defaults, {"guild_id; DROP TABLE members": 1}, NOW)


def _in_main_file(path: Path) -> list[tuple[int, int]]:
    """What the database file itself holds, ignoring the write-ahead log."""
    reader = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return reader.execute("SELECT guild_id, user_id FROM members").fetchall()
    finally:
        reader.close()


async def test_the_log_is_checkpointed_in_the_background_not_by_a_command(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core, "CHECKPOINT_EVERY_SECONDS", 3600)
    async with await Store.open(db_path):
        pass  # closing the last connection folds the schema into the file
    async with await Store.open(db_path) as store:
        for user in range(2000):  # over 1000 pages of log: SQLite would checkpoint by itself
            await store.join(GUILD, user, 5, "UTC", NOW)
        assert _in_main_file(db_path) == []  # still only in the log: no command checkpointed
    monkeypatch.setattr(core, "CHECKPOINT_EVERY_SECONDS", 0.01)
    async with await Store.open(db_path) as store:
        await store.join(GUILD, 99, 5, "UTC", NOW)
        for _ in range(200):
            if (GUILD, 99) in _in_main_file(db_path):
                break
            await asyncio.sleep(0.01)
        assert (GUILD, 99) in _in_main_file(db_path)


async def test_a_dead_checkpointer_is_reported_and_close_still_closes(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(self: core.SQLiteDatabase) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(core.SQLiteDatabase, "_checkpoint_forever", broken)
    store = await Store.open(db_path)
    await asyncio.sleep(0.05)
    assert "WAL checkpointer stopped" in caplog.text
    await store.join(GUILD, ALICE, 5, "UTC", NOW)  # the store keeps working
    await store.close()  # and closes without raising the checkpointer's error
    with pytest.raises(ValueError):  # closed for real: aiosqlite refuses further use
        await store.member(GUILD, ALICE)
