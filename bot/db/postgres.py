"""The PostgreSQL store: the interface of `bot.db.interface.Database` over an asyncpg pool, for
a deployment that outgrows one machine (several bot processes, one database).

The repositories' SQL is written once. This module runs it on PostgreSQL as it is: placeholders
(`?`, `?NNN`, `:name`) become `$n`, and SQLite's `group_concat` is PostgreSQL's `string_agg`.
The schema (`bot/db/pg_migrations/`) keeps SQLite's column types as text and 0/1 flags, so every
row reads back as it does from SQLite and no repository knows which engine it talks to.

Every write, a transaction or a single statement, holds one advisory lock per schema while it
runs, as every write on SQLite holds its one write lock: what the repositories decide from what
they read stays true across processes without retry loops (a post reserved once; two last
passes logged at once celebrate the roadmap once, since the second one's statement starts after
the first committed and sees it). Reads take no lock and run side by side. The price is one
writer at a time per schema, as on SQLite; a write is a few milliseconds."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeAlias

import asyncpg

from bot import urls
from bot.db.interface import Params
from bot.db.migrations import LATEST, Migration, SchemaTooNew

log = logging.getLogger(__name__)

# What the pool lends: a connection behind a proxy that returns it when released.
_Pooled: TypeAlias = "asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Advisory lock keys (the first half of a two-key lock; the second is the schema's hash), so two
# deployments in two schemas of one database never wait for each other.
_WRITE_LOCK = 0x74_70_77  # "tpw"
_MIGRATE_LOCK = 0x74_70_6D  # "tpm"
_LOCK = "SELECT pg_advisory_xact_lock({key}, hashtext(current_schema()))"
_BEGIN_WRITE = "BEGIN; " + _LOCK.format(key=_WRITE_LOCK)
_BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

# A commit returns before its log is flushed to disk: the durability SQLite has in WAL mode with
# synchronous=NORMAL (a crash of the machine may lose the last moment's commits, never corrupt),
# and /done does not wait ~3 ms for an fsync. `?synchronous_commit=on` in the URL waits.
_DURABILITY = {"synchronous_commit": "off"}

_VERSIONS_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version     INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
    )
"""


def available() -> list[Migration]:
    """The PostgreSQL migrations: consecutive numbers ending at the SQLite ones' LATEST, each a
    twin of the SQLite migration with its number (the first one is the whole schema so far)."""
    folder = resources.files("bot.db") / "pg_migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if not found or versions != list(range(versions[0], LATEST + 1)):
        raise RuntimeError(
            f"PostgreSQL migrations must be numbered without gaps up to {LATEST}: {versions}"
        )
    return found


class UnreadableURL(ValueError):
    """asyncpg cannot read the URL (a port that is no number, a password with an unencoded
    `/`, an unknown `sslmode`). Its own message may quote the URL, password included."""


# --- SQL as the repositories write it, as PostgreSQL reads it ---------------------------------

_TOKENS = re.compile(
    r"""
    (?P<skip>'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|::)  # literals, quoted names, comments, casts
    | \?(?P<number>\d+)                                   # ?1: SQLite's numbered placeholder
    | (?P<positional>\?)                                  # ?
    | (?<![:\w]):(?P<name>[A-Za-z_]\w*)                   # :name
    | (?P<function>\bgroup_concat\s*\()                   # SQLite's name for string_agg
    """,
    re.VERBOSE | re.IGNORECASE,
)


_WRITES = re.compile(
    r"^\s*(?:INSERT|UPDATE|DELETE)\b|^\s*WITH\b.*\b(?:INSERT|UPDATE|DELETE)\b", re.I | re.S
)


@functools.lru_cache(maxsize=1024)
def writes(sql: str) -> bool:
    """Whether a statement changes rows (and so takes the write lock)."""
    return _WRITES.search(sql) is not None


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> tuple[str, tuple[str, ...]]:
    """PostgreSQL's text for `sql` and, for named placeholders, the names in `$n` order."""
    names: list[str] = []
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if match["skip"] is not None:
            return match[0]
        if match["number"] is not None:
            return f"${int(match['number'])}"
        if match["positional"] is not None:
            count += 1
            return f"${count}"
        if match["name"] is not None:
            if match["name"] not in names:
                names.append(match["name"])
            return f"${names.index(match['name']) + 1}"
        return "string_agg("

    text = _TOKENS.sub(replace, sql)
    if names and count:
        raise ValueError(f"mixed ? and :name placeholders in {sql!r}")
    return text, tuple(names)


def _arguments(names: tuple[str, ...], params: Params | Iterable[Any]) -> list[Any]:
    if isinstance(params, dict):
        return [params[name] for name in names]
    return list(params)


def _rowcount(status: str) -> int:
    # asyncpg returns the command tag: 'UPDATE 3', 'INSERT 0 1', 'DELETE 0'.
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


class _Status:
    __slots__ = ("rowcount",)

    def __init__(self, rowcount: int) -> None:
        self.rowcount = rowcount


class PostgresConnection:
    """One pooled connection inside a transaction, with the methods the repositories call on
    aiosqlite's connection."""

    def __init__(self, connection: _Pooled) -> None:
        self._connection = connection

    async def execute(self, sql: str, parameters: Params = ()) -> _Status:
        text, names = translate(sql)
        status = await self._connection.execute(text, *_arguments(names, parameters))
        return _Status(_rowcount(status))

    async def executemany(self, sql: str, parameters: Iterable[Params]) -> None:
        text, names = translate(sql)
        await self._connection.executemany(text, [_arguments(names, p) for p in parameters])

    async def execute_fetchall(self, sql: str, parameters: Params = ()) -> list[Any]:
        text, names = translate(sql)
        return list(await self._connection.fetch(text, *_arguments(names, parameters)))

    async def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Any]) -> None:
        """Many rows at once through COPY (`twopass db copy`, benchmarks' data sets)."""
        await self._connection.copy_records_to_table(
            table, columns=list(columns), records=(tuple(row) for row in rows)
        )


class PostgresDatabase:
    """An asyncpg pool behind the same methods as `SQLiteDatabase`."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = url

    @property
    def name(self) -> str:
        return urls.shown(self.url)

    @classmethod
    async def open(cls, url: Path | str, *, migrate: bool = True, max_size: int = 10) -> Self:
        url = str(url)
        # Query parameters other than libpq's own become settings of every connection, so
        # `?search_path=name` puts the bot's tables in a schema of its own.
        settings = {} if "synchronous_commit=" in url else _DURABILITY
        if urls.split(url) is None:
            raise UnreadableURL()
        try:
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=max_size, server_settings=settings
            )
        except (ValueError, OverflowError):
            # asyncpg reads the URL as it connects: a ValueError (its ClientConfigurationError
            # too) or a port out of range is the URL's fault, not the server's.
            raise UnreadableURL() from None
        database = cls(pool, url)
        try:
            if migrate:
                await database.upgrade()
        except BaseException:
            await pool.close()
            raise
        return database

    async def close(self) -> None:
        await self._pool.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        await self.close()

    async def rows(self, sql: str, params: Params = ()) -> list[Any]:
        """The rows of one statement, on whichever pooled connection is free; a write holds
        the write lock (see the module's docstring), and its snapshot starts once it has it."""
        text, names = translate(sql)
        arguments = _arguments(names, params)
        if not writes(sql):
            return list(await self._pool.fetch(text, *arguments))
        async with self._pool.acquire() as connection:
            await connection.execute(_BEGIN_WRITE)
            try:
                rows = await connection.fetch(text, *arguments)
            except BaseException:
                await connection.execute("ROLLBACK")
                raise
            await connection.execute("COMMIT")
        return list(rows)

    async def row(self, sql: str, params: Params = ()) -> Any:
        rows = await self.rows(sql, params)
        return rows[0] if rows else None

    # No thread hop to save here: a short statement is a statement (and a short write commits
    # on its own; the server's own group commit is PostgreSQL's business).
    short_rows = rows
    short_row = row
    short_write = rows

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresConnection]:
        """One write transaction, one at a time per schema (see the module's docstring)."""
        async with self._pool.acquire() as connection:
            await connection.execute(_BEGIN_WRITE)
            try:
                yield PostgresConnection(connection)
            except BaseException:
                await connection.execute("ROLLBACK")
                raise
            else:
                await connection.execute("COMMIT")

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[PostgresConnection]:
        """A consistent read: several SELECTs that see one snapshot of the database."""
        async with self._pool.acquire() as connection:
            await connection.execute(_BEGIN_READ)
            try:
                yield PostgresConnection(connection)
            finally:
                await connection.execute("ROLLBACK")

    async def schema_version(self) -> int:
        async with self._pool.acquire() as connection:
            return await _current_version(connection)

    async def upgrade(self) -> list[int]:
        """Apply pending migrations, each in one transaction with its version; a second
        process starting at the same moment waits, then finds nothing left to do."""
        applied: list[int] = []
        async with self._pool.acquire() as connection:
            version = await _current_version(connection)
            if version > LATEST:
                raise SchemaTooNew(version)
            for migration in available():
                if migration.version <= version:
                    continue
                async with connection.transaction():
                    await connection.execute(_LOCK.format(key=_MIGRATE_LOCK))
                    await connection.execute(_VERSIONS_TABLE)
                    if await _current_version(connection) >= migration.version:
                        continue
                    log.info("applying PostgreSQL migration %s", migration.name)
                    await connection.execute(migration.sql)
                    await connection.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        migration.version,
                        migration.name,
                    )
                applied.append(migration.version)
        return applied

    async def get_state(self, key: str) -> str | None:
        row = await self.row("SELECT value FROM app_state WHERE key = ?", (key,))
        return str(row[0]) if row else None

    async def set_state(self, key: str, value: str) -> None:
        await self.rows(
            "INSERT INTO app_state (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


async def _current_version(connection: _Pooled) -> int:
    if not await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
        return 0
    version = await connection.fetchval("SELECT max(version) FROM schema_migrations")
    return int(version or 0)
