"""The database as the tests look at it: one object over the real repositories, so a test can
read (or set up) any feature's tables. The bot itself never uses this."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from bot.db import Database, to_db_time
from bot.group.board import BoardRow
from bot.group.repo import BOARD_ORDER, GroupRepo
from bot.group.service import Group
from bot.learners.plan import credit
from bot.learners.repo import (
    LearnerRepo,
    LogResult,
)
from bot.learners.service import Learners
from bot.posts.repo import PostRepo
from bot.server.records import SETTINGS_COLUMNS, GuildSettings, settings_to_row
from bot.server.repo import ServerRepo
from bot.server.service import Servers
from bot.timekeeping import week_start
from curriculum import Curriculum, Roadmaps, default_curriculum

_BOARD_FROM_PASSES = f"""
    SELECT user_id, minutes, passes, reached_at FROM (
        SELECT p.user_id, sum(p.minutes) AS minutes, count(*) AS passes,
               max(p.logged_at) AS reached_at
        FROM passes AS p
        JOIN members AS m ON m.guild_id = p.guild_id AND m.user_id = p.user_id AND m.active = 1
        WHERE p.guild_id = :guild
        GROUP BY p.user_id
    ) AS sums
    ORDER BY {BOARD_ORDER}
"""


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.learners = LearnerRepo(db)
        self.servers = ServerRepo(db)
        self.groups = GroupRepo(db)
        self.posts = PostRepo(db)

    @classmethod
    async def open(cls, path: Path | str, *, migrate: bool = True) -> Self:
        return cls(await Database.open(path, migrate=migrate))

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __getattr__(self, name: str) -> Any:
        for owner in (self.db, self.learners, self.posts, self.groups):
            if hasattr(owner, name):
                return getattr(owner, name)
        raise AttributeError(name)

    # Reads only the tests need: the bot itself reads members through its snapshots.
    # Names the tests used before the tables had separate owners.
    async def guild_settings(self, guild_id: int) -> GuildSettings | None:
        return await self.servers.get(guild_id)

    async def all_guild_settings(self) -> list[GuildSettings]:
        return await self.servers.all()

    async def save_guild_settings(self, settings: GuildSettings, now: datetime) -> None:
        """Write every setting of a server (the bot writes only what /setup was given)."""
        columns = [column.strip() for column in SETTINGS_COLUMNS.split(",")]
        async with self.db.transaction() as db:
            await db.execute(
                f"INSERT INTO guild_settings ({SETTINGS_COLUMNS}, updated_at)"
                f" VALUES ({', '.join('?' for _ in columns)}, ?) ON CONFLICT (guild_id) DO UPDATE"
                f" SET {', '.join(f'{c} = excluded.{c}' for c in columns[1:])},"
                " updated_at = excluded.updated_at",
                (*settings_to_row(settings), to_db_time(now)),
            )

    async def update_guild_settings(
        self, defaults: GuildSettings, changes: dict[str, object], now: datetime
    ) -> GuildSettings:
        return await self.servers.update(defaults, changes, now)

    async def log_pass(
        self, guild_id: int, user_id: int, video_id: str, pass_no: int, **options: Any
    ) -> LogResult:
        """A pass with the points and week the bot would give it (the bundled roadmap)."""
        study_date: date = options["study_date"]
        options.setdefault("minutes", credit(default_curriculum(), [(video_id, pass_no)]))
        options.setdefault("week", week_start(study_date))
        return await self.learners.log_pass(guild_id, user_id, video_id, pass_no, **options)

    async def board_from_passes(self, guild_id: int) -> list[BoardRow]:
        """The all-time board summed from the passes' own points, in board order: what the kept
        totals must always equal."""
        rows = await self.db.rows(_BOARD_FROM_PASSES, {"guild": guild_id})
        return [BoardRow(r[0], r[1], r[2], r[3]) for r in rows]

    async def leaderboard(self, guild_id: int, week: date | None = None) -> list[BoardRow]:
        """A whole board in order, read a page at a time as the bot does."""
        rows: list[BoardRow] = []
        first = 1
        while True:
            page, size = await self.groups.board_page(
                guild_id, week, first=first, last=first + 99, caller=None
            )
            rows += [row for _, row in page]
            first += 100
            if first > size:
                return rows


class Study:
    """Every feature's service over one database, as the app wires them (without Discord), so a
    test can call any use case by name."""

    def __init__(
        self, store: Store, curriculum: Curriculum | Roadmaps, default_timezone: str = "UTC"
    ) -> None:
        roadmaps = curriculum if isinstance(curriculum, Roadmaps) else Roadmaps(curriculum)
        self.store = store
        self.servers = Servers(store.servers, roadmaps, default_timezone)
        self.learners = Learners(store.learners, self.servers, roadmaps)
        self.groups = Group(store.groups, self.servers, roadmaps)
        self.servers.passes = self.learners
        self.servers.totals = self.groups
        self.learners.others = [self.servers, store.posts]
        self.curriculum = roadmaps.default

    def __getattr__(self, name: str) -> Any:
        for service in (self.learners, self.groups, self.servers):
            if hasattr(service, name):
                return getattr(service, name)
        raise AttributeError(name)


@contextmanager
def write_lock_held(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process holding SQLite's write lock on `path` (its open transaction commits on
    the way out): writes from the bot's loop connection get SQLITE_BUSY meanwhile."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.execute("COMMIT")
        other.close()
