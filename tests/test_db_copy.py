"""`twopass db copy`: a group's whole history moves from SQLite to PostgreSQL and back, checked
by row counts and the totals check, and the copy goes on working as a live database."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot.db.copy import counts
from curriculum import default_curriculum
from tests.conftest import NOW
from tests.tables import Store, Study
from tests.test_settings_and_cli import run_cli

GUILD, ALICE, BOB, ADMIN = 100, 1, 2, 9


async def _history_of_a_small_group(store: Store) -> None:
    study = Study(store, default_curriculum())
    await study.servers.ensure(GUILD, NOW)
    await store.join(GUILD, ALICE, 5, "Europe/Berlin", NOW)
    await store.join(GUILD, BOB, 3, "UTC", NOW)
    for days, (user, video, pass_no) in enumerate(
        [
            (ALICE, "neural-network", 1),
            (ALICE, "neural-network", 2),
            (BOB, "neural-network", 1),
            (BOB, "gradient-descent", 1),
            (ALICE, "gradient-descent", 1),
        ]
    ):
        moment = NOW + timedelta(days=days)
        await store.log_pass(
            GUILD,
            user,
            video,
            pass_no,
            now=moment,
            study_date=moment.date(),
            note=f"note {days}",
            link=None,
            actor_id=user,
        )
    await store.learners.undo_pass(GUILD, BOB, "gradient-descent", 1, now=NOW, actor_id=ADMIN)
    await store.learners.edit_pass(
        GUILD, ALICE, "neural-network", 2, note="typed it all", link=None, actor_id=ALICE, now=NOW
    )
    await store.set_state("posts:last-seen", "2026-03-02 12:00:00")


async def _what_members_see(store: Store) -> dict[str, Any]:
    return {
        "passes": [await store.passes_of(GUILD, user) for user in (ALICE, BOB)],
        "history": [await store.history_of(GUILD, user) for user in (ALICE, BOB)],
        "edits": await store.learners.edits_of(GUILD, ALICE),
        "all time": await store.leaderboard(GUILD),
        "week": await store.leaderboard(GUILD, date(2026, 3, 2)),
        "settings": await store.guild_settings(GUILD),
        "state": await store.get_state("posts:last-seen"),
    }


async def test_a_group_moves_to_postgresql_and_back_with_all_its_history(
    tmp_path: Path, postgres_url: str
) -> None:
    sqlite_file = tmp_path / "group.sqlite3"
    async with await Store.open(sqlite_file) as store:
        await _history_of_a_small_group(store)
        before = await _what_members_see(store)
        rows = await counts(store.db)
    assert rows["passes"] == 4 and rows["pass_history"] == 6 and rows["pass_edits"] == 1

    there = run_cli(tmp_path, "db", "copy", str(sqlite_file), postgres_url)
    assert there.returncode == 0, there.stderr
    assert "the row counts match and the totals agree with the history" in there.stdout
    async with await Store.open(postgres_url) as moved:
        assert await _what_members_see(moved) == before
        assert await counts(moved.db) == rows
        # A live database from here on: the history goes on after the copied entries.
        moment = NOW + timedelta(days=6)
        await moved.log_pass(
            GUILD,
            BOB,
            "gradient-descent",
            1,
            now=moment,
            study_date=moment.date(),
            note=None,
            link=None,
            actor_id=BOB,
        )
        history = await moved.history_of(GUILD, BOB)
        assert [entry.action for entry in history][-1] == "log"
        assert history[-1].id > max(e.id for h in before["history"] for e in h)
        after_postgres = await _what_members_see(moved)

    back = tmp_path / "back.sqlite3"
    returned = run_cli(tmp_path, "db", "copy", postgres_url, f"sqlite:///{back}")
    assert returned.returncode == 0, returned.stderr
    async with await Store.open(back) as restored:
        assert await _what_members_see(restored) == after_postgres


async def test_a_copy_into_a_database_that_holds_data_writes_nothing(
    tmp_path: Path, postgres_url: str
) -> None:
    source, full = tmp_path / "source.sqlite3", tmp_path / "full.sqlite3"
    for path in (source, full):
        async with await Store.open(path) as store:
            await _history_of_a_small_group(store)
    async with await Store.open(full) as store:
        rows = await counts(store.db)

    refused = run_cli(tmp_path, "db", "copy", str(source), str(full))
    assert refused.returncode == 2
    assert "already holds data" in refused.stderr and "empty database" in refused.stderr
    async with await Store.open(full) as store:
        assert await counts(store.db) == rows

    missing = run_cli(tmp_path, "db", "copy", str(tmp_path / "nowhere.sqlite3"), postgres_url)
    assert missing.returncode == 2 and "no database at" in missing.stderr
