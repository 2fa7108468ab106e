"""Every rule written once: a pass's points and week are computed by the rules when it is logged
and stored with it; SQL only sums them. The totals can be rebuilt from the history."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import aiosqlite

from bot.db import migrations
from bot.group.board import Period
from bot.learners.plan import credit
from bot.learners.repo import LogOutcome
from bot.timekeeping import week_start
from curriculum import Pass, default_curriculum
from tests.conftest import NOW
from tests.tables import Store, Study

GUILD, ALICE, BOB = 100, 1, 2
ROADMAP = default_curriculum()


async def test_a_pass_carries_the_points_and_week_the_rules_gave_it(store: Store) -> None:
    study = Study(store, ROADMAP)
    await study.join(GUILD, ALICE, NOW)
    await study.log(GUILD, ALICE, "gpt", Pass.FIRST, NOW, on="yesterday")  # Sunday 1 March
    row = await store.db.row(
        "SELECT minutes, week FROM passes WHERE guild_id = ? AND user_id = ?", (GUILD, ALICE)
    )
    assert row == (credit(ROADMAP, [("gpt", 1)]), week_start(date(2026, 3, 1)).isoformat())
    assert row[1] == "2026-02-23"  # the Monday before that Sunday


async def test_a_server_on_another_roadmap_scores_its_hours(store: Store) -> None:
    # Before points were stored on the pass, SQL looked them up under the server's roadmap id,
    # which a new server's row never set: 0 h on the board while /progress counted them.
    other = ROADMAP.model_copy(update={"id": "my-own-path"})
    study = Study(store, other)
    await study.join(GUILD, ALICE, NOW)
    await study.log(GUILD, ALICE, "gpt", Pass.FIRST, NOW)
    settings = await store.guild_settings(GUILD)
    assert settings is not None and settings.curriculum_id == "my-own-path"
    board = await study.leaderboard(GUILD, Period.ALL_TIME, NOW, caller=ALICE)
    progress = await study.progress_of(GUILD, ALICE, NOW)
    assert board.caller is not None
    assert board.caller.hours * 60 == progress.progress.minutes_done == 116


async def test_a_log_racing_a_leave_is_refused(store: Store) -> None:
    # /done read the member as active, then /leave committed before its INSERT: the INSERT's
    # own check must refuse it, or a member who left would gain a pass and a board line.
    await store.join(GUILD, ALICE, 5.0, "UTC", NOW)
    assert await store.set_active(GUILD, ALICE, False)
    result = await store.log_pass(
        GUILD, ALICE, "gpt", 1, now=NOW, study_date=NOW.date(), note=None, link=None, actor_id=ALICE
    )
    assert result.outcome is LogOutcome.NOT_A_MEMBER
    assert await store.passes_of(GUILD, ALICE) == []
    assert await store.history_of(GUILD, ALICE) == []


async def test_totals_check_against_the_history(store: Store) -> None:
    study = Study(store, ROADMAP)
    for user in (ALICE, BOB):
        await study.join(GUILD, user, NOW)
        await study.log(GUILD, user, "gpt", Pass.FIRST, NOW)
        await study.log(GUILD, user, "gpt", Pass.SECOND, NOW + timedelta(days=7))
    await study.undo(GUILD, BOB, "gpt", Pass.SECOND, NOW + timedelta(days=8))
    assert await study.check_totals() == []
    async with store.db.transaction() as db:
        await db.execute("UPDATE member_points SET minutes = 1 WHERE user_id = ?", (BOB,))
        await db.execute("DELETE FROM member_week_points WHERE user_id = ?", (ALICE,))
    problems = await study.check_totals(fix=True)
    assert len(problems) == 3  # Bob's all-time total, Alice's two weeks
    assert any(f"member {BOB}, all time" in line for line in problems)
    assert await study.check_totals() == []
    board = await study.leaderboard(GUILD, Period.ALL_TIME, NOW, caller=BOB)
    assert board.caller is not None and board.caller.hours * 60 == 116


def test_db_check_command(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"

    async def create() -> None:
        async with await Store.open(path):
            pass

    asyncio.run(create())
    env = {"TWOPASS_DATABASE": str(path), "PATH": "/usr/bin:/bin"}

    def check(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "db", "check", *extra],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
        )

    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO members (guild_id, user_id, joined_at, pace_hours, timezone)"
            " VALUES (1, 2, '2026-03-02 12:00:00', 5, 'UTC')"
        )
        db.execute(
            "INSERT INTO passes (guild_id, user_id, video_id, pass, logged_at, study_date, minutes,"
            " week) VALUES (1, 2, 'gpt', 1, '2026-03-02 12:00:00', '2026-03-02', 116, '2026-03-02')"
        )
        db.execute("UPDATE member_points SET minutes = 5")
    found = check()
    assert found.returncode == 1, found.stderr
    assert "history says 1 passes / 116 min, totals say 1 passes / 5 min" in found.stdout
    fixed = check("--fix")
    assert fixed.returncode == 0 and "rebuilt" in fixed.stdout
    clean = check()
    assert clean.returncode == 0 and "agree with the history" in clean.stdout


async def test_upgrading_to_stored_points_keeps_the_boards(db_path: Path) -> None:
    async with aiosqlite.connect(db_path, isolation_level=None) as db:
        await migrations.upgrade(db, target=8)
        await db.execute(
            "INSERT INTO guild_settings (guild_id, cohort_start, updated_at)"
            " VALUES (?, '2026-03-01', '2026-03-01 00:00:00')",
            (GUILD,),
        )
        await db.execute(
            "INSERT INTO video_credit VALUES ('ml-engineer', 'gpt', 1, 116),"
            " ('ml-engineer', 'gpt', 2, 290)"
        )
        await db.execute(
            "INSERT INTO members (guild_id, user_id, joined_at, pace_hours, timezone)"
            " VALUES (?, ?, '2026-03-01 00:00:00', 5, 'UTC')",
            (GUILD, ALICE),
        )
        for pass_no, day in ((1, "2026-03-01"), (2, "2026-03-04")):
            await db.execute(
                "INSERT INTO passes (guild_id, user_id, video_id, pass, logged_at, study_date)"
                " VALUES (?, ?, 'gpt', ?, ?, ?)",
                (GUILD, ALICE, pass_no, f"{day} 10:00:00", day),
            )
    async with await Store.open(db_path) as store:
        rows = await store.db.rows("SELECT pass, minutes, week FROM passes ORDER BY pass")
        assert rows == [(1, 116.0, "2026-02-23"), (2, 290.0, "2026-03-02")]
        assert [r.minutes for r in await store.leaderboard(GUILD)] == [406]
        assert [r.minutes for r in await store.leaderboard(GUILD, date(2026, 3, 2))] == [290]
        assert await Study(store, ROADMAP).check_totals() == []
