"""What the repositories need from a database, whichever engine is behind it.

Two implementations: `SQLiteDatabase` (one file, the embedded default) and `PostgresDatabase`
(an asyncpg pool, for deployments past one machine). Repositories write their SQL once, in the
dialect both accept: `?` or `:name` placeholders, times and dates as text, flags as 0/1."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

Params = tuple[Any, ...] | dict[str, Any]


class Cursor(Protocol):
    """What a write inside a transaction hands back: how many rows it changed."""

    @property
    def rowcount(self) -> int: ...


class Connection(Protocol):
    """The connection a transaction or a consistent read yields (aiosqlite's own, or an adapter
    over asyncpg's with the same methods)."""

    def execute(self, sql: str, parameters: Params = ..., /) -> Awaitable[Cursor]: ...

    def executemany(self, sql: str, parameters: Iterable[Params], /) -> Awaitable[Any]: ...

    def execute_fetchall(
        self, sql: str, parameters: Params = ..., /
    ) -> Awaitable[Iterable[Any]]: ...


class Database(Protocol):
    """The store every feature's repository runs its SQL through."""

    @classmethod
    async def open(cls, target: Path | str, /, *, migrate: bool = True) -> Database:
        """The database `target` names (`bot.db.target`: a PostgreSQL URL, or an SQLite file),
        opened and by default migrated; the caller closes it."""
        from bot.db.target import parse

        return await parse(target).open(migrate=migrate)

    # What the logs and messages call it: a file path, or a URL without its password.
    @property
    def name(self) -> str: ...

    async def rows(self, sql: str, params: Params = ()) -> list[Any]: ...

    async def row(self, sql: str, params: Params = ()) -> Any: ...

    # A statement that reads or writes a few rows through an index (logging a pass, reading a
    # member): SQLite runs it on the loop's own connection; PostgreSQL as any other.
    async def short_rows(self, sql: str, params: Params = ()) -> list[Any]: ...

    async def short_row(self, sql: str, params: Params = ()) -> Any: ...

    # A short write, committed before it returns. SQLite commits the writes that callers ask
    # for at the same moment together, a savepoint each (group commit); a write that fails
    # raises to its own caller only.
    async def short_write(self, sql: str, params: Params = ()) -> list[Any]: ...

    def transaction(self) -> AbstractAsyncContextManager[Connection]: ...

    def reading(self) -> AbstractAsyncContextManager[Connection]: ...

    async def upgrade(self) -> list[int]: ...

    async def schema_version(self) -> int: ...

    async def get_state(self, key: str) -> str | None: ...

    async def set_state(self, key: str, value: str) -> None: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> None: ...
