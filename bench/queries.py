"""Item 3: /leaderboard (all time, this week) and /progress on the big database, through
Group.leaderboard and Learners.progress_of, with the query plan of every statement they run.

Servers are drawn the way users meet them: a random member's server, so large servers come up
in proportion to their members. The largest server is also timed on its own.
"""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import backend, dataset
from bench.config import NOW, Scale
from bench.stats import latency_summary
from bot.db import Database
from bot.group.board import Period
from bot.group.repo import GroupRepo
from bot.group.service import Group
from bot.learners.repo import LearnerRepo
from bot.learners.service import Learners
from bot.server.repo import ServerRepo
from bot.server.service import Servers
from curriculum import default_curriculum
from curriculum.roadmaps import Roadmaps

LARGEST_RUNS = 20


class Statements:
    """Every SQL statement the database runs while `active` is set, by operation."""

    def __init__(self) -> None:
        self.active: str | None = None
        self.seen: dict[str, list[str]] = {}

        self._shapes: set[tuple[str, str]] = set()

    def __call__(self, sql: str) -> None:
        if self.active is None:
            return
        # The trace has the values bound in: one example of each statement's shape is kept.
        shape = re.sub(r"'[^']*'|\b\d+(?:\.\d+)?\b", "?", " ".join(sql.split()))
        if (self.active, shape) not in self._shapes:
            self._shapes.add((self.active, shape))
            self.seen.setdefault(self.active, []).append(sql)


async def _time(runs: int, call: Callable[[int], Awaitable[Any]]) -> list[float]:
    out = []
    for index in range(runs):
        started = time.perf_counter()
        await call(index)
        out.append(time.perf_counter() - started)
    return out


def _passes_aliases(sql: str) -> set[str]:
    aliases = {"passes"}
    for match in re.finditer(r"\bpasses\s+(?:AS\s+)?(\w+)", sql, re.IGNORECASE):
        word = match.group(1)
        if word.upper() not in {"WHERE", "ON", "JOIN", "GROUP", "ORDER", "LEFT", "INNER", "SET"}:
            aliases.add(word)
    return aliases


# The tables a server's board lives in (and the members it filters on).
BOARD_TABLES = ("member_points", "member_week_points", "members", "passes")


def _table_of(name: str, sql: str, tables: set[str]) -> str:
    """The table a plan's name stands for: itself, or what the statement aliased to it."""
    if name in tables:
        return name
    for match in re.finditer(rf"\b(\w+)\s+(?:AS\s+)?{re.escape(name)}\b", sql, re.IGNORECASE):
        if match.group(1) in tables:
            return match.group(1)
    return name


def _scans_a_board(line: str, sql: str, tables: set[str]) -> bool:
    """A step that reads a whole table, or a whole server's part of a board table: a SEARCH
    narrowed only by server, week and standing, in a statement with no LIMIT to stop it (the
    ranges a page or a rank reads are narrowed further, or cut short)."""
    match = re.match(r"(SCAN|SEARCH) (\w+)(?: AS \w+)?(.*)", line)
    if match is None:
        return False
    step, name, rest = match.groups()
    table = _table_of(name, sql, tables)
    if step == "SCAN":
        return table in tables
    constraint = re.search(r"\(([^()]*)\)\s*$", rest)
    if table not in BOARD_TABLES or constraint is None:
        return False
    columns = {part.split("=")[0].strip() for part in constraint.group(1).split(" AND ")}
    whole = all("=" in part for part in constraint.group(1).split(" AND ")) and columns <= {
        "guild_id",
        "week",
        "active",
    }
    return whole and re.search(r"\bLIMIT\b", sql, re.IGNORECASE) is None


def explain(path: Path, statements: dict[str, list[str]]) -> list[dict[str, Any]]:
    """EXPLAIN QUERY PLAN of each statement, with full scans of passes flagged."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    out = []
    try:
        # Real tables: a SCAN of a subquery or a one-row constant is no scan of data.
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for operation, sqls in statements.items():
            for sql in sqls:
                if not sql.lstrip().upper().startswith(("SELECT", "WITH", "INSERT", "UPDATE")):
                    continue
                try:
                    rows = db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
                except sqlite3.Error as error:
                    out.append({"operation": operation, "sql": sql, "error": str(error)})
                    continue
                aliases = _passes_aliases(sql)
                plan = [str(row[3]) for row in rows]
                board_scans = [line for line in plan if _scans_a_board(line, sql, tables)]
                full_scans = [
                    line
                    for line in plan
                    if re.match(r"SCAN (\w+)", line)
                    and re.match(r"SCAN (\w+)", line).group(1) in aliases  # type: ignore[union-attr]
                    and "USING" not in line
                ]
                index_scans = [
                    line
                    for line in plan
                    if re.match(r"SCAN (\w+) USING", line)
                    and re.match(r"SCAN (\w+)", line).group(1) in aliases  # type: ignore[union-attr]
                ]
                out.append(
                    {
                        "operation": operation,
                        "sql": " ".join(sql.split()),
                        "plan": plan,
                        "full_scan_of_passes": full_scans,
                        "full_index_scan_of_passes": index_scans,
                        "temp_btree": [line for line in plan if "TEMP B-TREE" in line],
                        "board_scans": board_scans,
                    }
                )
    finally:
        db.close()
    return out


async def _run(data: dataset.Dataset, scale: Scale, seed: int, path: Path) -> dict[str, Any]:
    rng = random.Random(seed + 2)
    sizes = dataset.server_sizes(data.path)
    largest = sizes[0][0]
    members = dataset.learners(data.path, scale.queries, seed + 3)
    servers = [(m.guild_id, m.user_id) for m in members]
    rng.shuffle(servers)
    in_largest = [(largest, u) for u in dataset.members_of(data.path, largest, LARGEST_RUNS, seed)]
    statements = Statements()
    results: dict[str, Any] = {"largest_server": {"guild_id": largest, "members": sizes[0][1]}}
    results["backend"] = backend.name()
    async with (
        backend.database_at(path, results) as location,
        await Database.open(location) as database,
    ):
        curriculum = default_curriculum()
        roadmaps = Roadmaps(curriculum)
        settings = Servers(ServerRepo(database), roadmaps, "UTC")
        group = Group(GroupRepo(database), settings, roadmaps)
        learners = Learners(LearnerRepo(database), settings, roadmaps)
        # Query plans are SQLite's (EXPLAIN QUERY PLAN): only traced there.
        if backend.name() == "sqlite":
            await database.trace(statements)  # type: ignore[attr-defined]

        async def board(
            period: Period, where: list[tuple[int, int]]
        ) -> Callable[[int], Awaitable[Any]]:
            # As the command runs it: the caller's own rank comes with the page.
            async def call(i: int) -> Any:
                guild, caller = where[i % len(where)]
                return await group.leaderboard(guild, period, NOW, caller=caller)

            return call

        async def progress(i: int) -> Any:
            who = members[i]
            return await learners.progress_of(who.guild_id, who.user_id, NOW)

        # Warm the page cache the way a running bot has it warm.
        for period in Period:
            await (await board(period, servers))(0)

        timings: dict[str, list[float]] = {}
        for name, period in (
            ("leaderboard_all", Period.ALL_TIME),
            ("leaderboard_week", Period.WEEK),
        ):
            statements.active = name
            timings[name] = await _time(scale.queries, await board(period, servers))
            statements.active = None
            timings[f"{name}_largest"] = await _time(
                LARGEST_RUNS * 5, await board(period, in_largest)
            )
        statements.active = "progress"
        timings["progress"] = await _time(len(members), progress)
        statements.active = None
        rows = await group.leaderboard(largest, Period.ALL_TIME, NOW, caller=in_largest[0][1])
        results["largest_server"]["board_rows_all_time"] = rows.size
        if backend.name() == "sqlite":
            await database.trace(None)  # type: ignore[attr-defined]
    for name, values in timings.items():
        results[name] = latency_summary(values)
    if backend.name() != "sqlite":
        return results  # the plans below are SQLite's; PostgreSQL's are read with EXPLAIN
    plans = explain(path, statements.seen)
    results["plans"] = plans
    results["full_scans_of_passes"] = sum(len(p.get("full_scan_of_passes", [])) for p in plans)
    results["full_index_scans_of_passes"] = sum(
        len(p.get("full_index_scan_of_passes", [])) for p in plans
    )
    results["sorts"] = sum(len(p.get("temp_btree", [])) for p in plans)
    # A sort in a board's statement sorts the server's board; /progress sorts one member's
    # passes (38 rows at most), which is reported apart.
    results["board_sorts"] = sum(
        len(p.get("temp_btree", [])) for p in plans if p["operation"].startswith("leaderboard")
    )
    results["sorts"] -= results["board_sorts"]
    results["board_scans"] = sum(len(p.get("board_scans", [])) for p in plans)
    return results


def run(scale: Scale, seed: int) -> dict[str, Any]:
    data = dataset.ensure(scale, seed)
    with tempfile.TemporaryDirectory(prefix="twopass-bench-") as folder:
        path = data.copy_to(Path(folder))
        return asyncio.run(_run(data, scale, seed, path))
