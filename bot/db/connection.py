"""The SQLite connection every feature's repository shares: opening, migrations, transactions,
backup, and the small key-value state of the deployment (`app_state`). The embedded default;
`bot.db.postgres` is the same interface (`bot.db.interface.Database`) over PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from bot import private_files
from bot.db import migrations
from bot.db.interface import Connection, Params

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000
# How often the write-ahead log is folded back into the database, off the command path.
CHECKPOINT_EVERY_SECONDS = 5.0
# Short writes asked for within this of one another commit together (about one commit's time);
# while they come one at a time, every PROBE_EVERY-th waits to see whether others join it.
GROUP_WINDOW_SECONDS = 0.001
PROBE_EVERY = 16
_DB_TIME = "%Y-%m-%d %H:%M:%S"


def to_db_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("database times must be timezone-aware")
    return moment.astimezone(UTC).strftime(_DB_TIME)


def from_db_time(text: str) -> datetime:
    # fromisoformat reads SQLite's 'YYYY-MM-DD HH:MM:SS' about 6x faster than strptime, which
    # matters when a command parses every pass a member logged; reading the offset with it costs
    # a fifth of a `replace(tzinfo=...)` afterwards.
    if len(text) == 19:
        return datetime.fromisoformat(text + "+00:00")
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def fetch_all(db: Connection, sql: str, params: Params = ()) -> list[Any]:
    """Rows of one statement in a single trip to the database thread (execute, fetch and close
    through a cursor would be three)."""
    return list(await db.execute_fetchall(sql, params))


async def fetch_one(db: Connection, sql: str, params: Params = ()) -> Any:
    rows = await fetch_all(db, sql, params)
    return rows[0] if rows else None


# The result codes of a database another connection holds: the short path hands over.
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def _busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:  # pragma: no cover - Python before 3.11
        return "locked" in str(error) or "busy" in str(error)
    return code & 0xFF in _BUSY_CODES


def _open_short(path: Path) -> sqlite3.Connection:
    short = sqlite3.connect(path, isolation_level=None)
    try:
        # Never wait on the loop: a busy database is the thread connection's to wait for.
        short.execute("PRAGMA busy_timeout = 0")
        short.execute("PRAGMA synchronous = NORMAL")
        short.execute("PRAGMA foreign_keys = ON")
        short.execute("PRAGMA wal_autocheckpoint = 0")
    except BaseException:
        short.close()
        raise
    return short


class SQLiteDatabase:
    """Owns one aiosqlite connection. Open it once at start-up and close it at shutdown; each
    feature's repository runs its SQL through it.

    Beside it, a plain sqlite3 connection on the event loop's own thread runs the short
    statements (`short_rows`): a few rows through an index, such as logging a pass or reading a
    member's, which cost less on the loop (~0.1-0.3 ms) than the two hops to aiosqlite's thread
    and back (~0.2-0.4 ms). It never waits for a lock (busy_timeout 0): when another connection
    holds the database, the statement goes to the thread connection instead, so a locked
    database cannot stall the loop. Scans and posts stay on the thread."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        # One connection is shared by every coroutine: without this lock two commands could
        # interleave statements inside one another's transaction.
        self._lock = asyncio.Lock()
        self._checkpoints: asyncio.Task[None] | None = None
        self._short: sqlite3.Connection | None = None
        self.handed_over = 0  # short statements that found the database busy and went to the thread
        # Short writes waiting for the next group commit (see `short_write`).
        self._writes: list[tuple[str, Params, asyncio.Future[list[Any]]]] = []
        self._handing: set[asyncio.Task[list[Any]]] = set()  # writes waiting on the thread
        self._last_write = -math.inf  # when the last short write was asked for (loop time)
        self._gathered = True  # the last group commit had more than one write
        self._alone = 0  # short writes committed on their own since the last group commit

    @property
    def name(self) -> str:
        return str(self.path)

    @classmethod
    async def open(cls, path: Path | str, *, migrate: bool = True) -> Self:
        path = Path(path)
        if str(path) != ":memory:":
            # Owner-only: SQLite gives the -wal and -shm files the same permissions.
            private_files.create_file(path)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction is never
        # opened behind our back by the sqlite3 module.
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA foreign_keys = ON")
            if migrate:
                await migrations.upgrade(db)
        except BaseException:
            await db.close()
            raise
        database = cls(db, path)
        if str(path) != ":memory:":
            # SQLite would otherwise checkpoint inside whichever commit crosses 1000 pages of
            # log, and that command would wait ~20 ms. A second connection checkpoints in its
            # own thread instead, without taking the lock every command needs.
            await db.execute("PRAGMA wal_autocheckpoint = 0")
            database._checkpoints = asyncio.create_task(database._checkpoint_forever())
            database._checkpoints.add_done_callback(database._checkpointer_stopped)
            database._short = _open_short(path)
        return database

    def _checkpointer_stopped(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        # It died: say so, and hand checkpoints back to SQLite so the log cannot grow forever.
        log.error("the WAL checkpointer stopped", exc_info=task.exception())
        task.get_loop().create_task(self._db.execute("PRAGMA wal_autocheckpoint = 1000"))
        if self._short is not None:
            self._short.execute("PRAGMA wal_autocheckpoint = 1000")

    async def _checkpoint_forever(self) -> None:
        async with aiosqlite.connect(self.path) as checkpointer:
            await checkpointer.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            while True:
                await asyncio.sleep(CHECKPOINT_EVERY_SECONDS)
                try:
                    # PASSIVE never blocks readers or writers; what it cannot copy now waits
                    # for the next round.
                    await checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except aiosqlite.Error:
                    log.warning("WAL checkpoint failed; will retry", exc_info=True)

    async def close(self) -> None:
        try:
            if self._checkpoints is not None and not self._checkpoints.done():
                self._checkpoints.cancel()
                # Wait for it to stop; its own cancellation (or failure) is not ours to raise.
                await asyncio.wait({self._checkpoints})
        finally:
            if self._short is not None:
                self._short.close()
                self._short = None
            # Always close: aiosqlite's thread would otherwise keep the process alive. The last
            # connection to close checkpoints the whole log itself.
            await self._db.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def rows(self, sql: str, params: Params = ()) -> list[Any]:
        """The rows of one statement, in one trip to the database thread. A single statement
        is its own transaction, so it needs no BEGIN/COMMIT around it."""
        async with self._lock:
            return await fetch_all(self._db, sql, params)

    async def row(self, sql: str, params: Params = ()) -> Any:
        """The first row of one statement, or None."""
        rows = await self.rows(sql, params)
        return rows[0] if rows else None

    async def short_rows(self, sql: str, params: Params = ()) -> list[Any]:
        """The rows of one short statement (a few rows through an index), run on the loop's
        own connection; on the thread connection when the database is busy. Its own
        transaction, committed before it returns, as with `rows`."""
        if self._short is not None:
            try:
                return self._short.execute(sql, params).fetchall()
            except sqlite3.OperationalError as error:
                if not _busy(error):
                    raise
                self.handed_over += 1
        return await self.rows(sql, params)

    async def short_row(self, sql: str, params: Params = ()) -> Any:
        rows = await self.short_rows(sql, params)
        return rows[0] if rows else None

    async def short_write(self, sql: str, params: Params = ()) -> list[Any]:
        """The rows of one short write (a few rows through an index), committed before it
        returns, as with `short_rows`; but the writes that callers ask for together commit
        together (group commit): every write requested before the loop next turns goes into
        one transaction, each in its own savepoint, so one that fails is rolled back alone
        and raises to its own caller while the others commit. A commit is most of a short
        write's cost, so under load this is several writes for the price of one.

        Waiting for the loop to turn costs a write ~0.05 ms, which buys nothing when nobody
        joins it: a write commits at once when the writer was last busy (asked for a write, or
        finishing one) more than GROUP_WINDOW_SECONDS ago, and while writes keep coming one by
        one (the last wait gathered nobody) it waits only every PROBE_EVERY writes, to notice
        when others come. The window counts from the end of the last write, not its start: on
        a slow machine, writes that queued behind one still commit together."""
        if self._short is None:
            return await self.rows(sql, params)
        loop = asyncio.get_running_loop()
        now = loop.time()
        recent, self._last_write = now - self._last_write < GROUP_WINDOW_SECONDS, now
        if not self._writes and not (recent and (self._gathered or self._alone >= PROBE_EVERY)):
            self._alone += 1
            try:
                return await self.short_rows(sql, params)
            finally:
                self._last_write = loop.time()
        self._alone = 0
        done: asyncio.Future[list[Any]] = loop.create_future()
        if not self._writes:
            # After the callbacks already due: every caller woken with this one joins in.
            done.get_loop().call_soon(self._commit_writes)
        self._writes.append((sql, params, done))
        return await done

    def _commit_writes(self) -> None:
        """One trip of the writer: runs on the loop, never waits (busy_timeout 0)."""
        writes = [write for write in self._writes if not write[2].cancelled()]
        self._writes = []
        self._gathered = len(writes) > 1
        short = self._short
        if short is None:  # closed meanwhile
            for write in writes:
                self._hand_over(*write)
            return
        try:
            outcomes, later = self._write_batch(short, writes)
        except BaseException as error:
            # Something failed outside any one write (the log, the disk): nothing of the batch
            # is kept, and every caller hears why rather than waiting forever.
            if short.in_transaction:
                short.execute("ROLLBACK")
            outcomes, later = [(done, error) for _, _, done in writes], []
        # Callers hear back only once their write is committed (or refused).
        for done, outcome in outcomes:
            if done.done():
                continue
            if isinstance(outcome, BaseException):
                done.set_exception(outcome)
            else:
                done.set_result(outcome)
        for write in later:
            self._hand_over(*write)
        # The writer was busy until now: a write asked for next counts as asked with these.
        self._last_write = asyncio.get_running_loop().time()

    @staticmethod
    def _write_batch(
        short: sqlite3.Connection, writes: list[tuple[str, Params, asyncio.Future[list[Any]]]]
    ) -> tuple[
        list[tuple[asyncio.Future[list[Any]], list[Any] | BaseException]],
        list[tuple[str, Params, asyncio.Future[list[Any]]]],
    ]:
        """Runs `writes` in one transaction, a savepoint each; returns each caller's rows or
        error, and the writes to hand to the thread connection (the database was busy)."""
        if not writes:
            return [], []
        if len(writes) == 1:
            # Nobody joined: no transaction around it to pay for.
            sql, params, done = writes[0]
            try:
                return [(done, short.execute(sql, params).fetchall())], []
            except sqlite3.OperationalError as error:
                if not _busy(error):
                    return [(done, error)], []
                return [], writes
            except (sqlite3.Error, ValueError, TypeError, OverflowError) as error:
                return [(done, error)], []
        try:
            short.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
            # Another connection is writing: each write waits its turn on the thread's.
            return [], writes
        outcomes: list[tuple[asyncio.Future[list[Any]], list[Any] | BaseException]] = []
        later = []
        for sql, params, done in writes:
            short.execute("SAVEPOINT write")
            try:
                rows = short.execute(sql, params).fetchall()
            except (sqlite3.Error, ValueError, TypeError, OverflowError) as error:
                # This write only: the others in the transaction stand.
                short.execute("ROLLBACK TO write")
                if isinstance(error, sqlite3.OperationalError) and _busy(error):
                    later.append((sql, params, done))
                else:
                    outcomes.append((done, error))
            else:
                outcomes.append((done, rows))
            short.execute("RELEASE write")
        short.execute("COMMIT")
        return outcomes, later

    def _hand_over(self, sql: str, params: Params, done: asyncio.Future[list[Any]]) -> None:
        """A write the loop's connection could not take: the thread connection waits for it."""
        self.handed_over += 1
        task = done.get_loop().create_task(self.rows(sql, params))
        self._handing.add(task)

        def settle(task: asyncio.Task[list[Any]]) -> None:
            self._handing.discard(task)
            if done.done():
                return
            if task.cancelled():
                done.cancel()
            elif (error := task.exception()) is not None:
                done.set_exception(error)
            else:
                done.set_result(task.result())

        task.add_done_callback(settle)

    async def trace(self, callback: Callable[[str], object] | None) -> None:
        """Call `callback` with every statement either connection runs (benchmarks' plans)."""
        await self._db.set_trace_callback(callback)  # type: ignore[arg-type]  # None: stop
        if self._short is not None:
            self._short.set_trace_callback(callback)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction: everything inside commits together or not at all."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.rollback()
                raise
            else:
                await self._db.commit()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """A consistent read: several SELECTs that see one snapshot of the database."""
        async with self._lock:
            await self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                await self._db.rollback()

    async def upgrade(self) -> list[int]:
        """Apply pending migrations; returns the versions applied."""
        async with self._lock:
            return await migrations.upgrade(self._db)

    async def schema_version(self) -> int:
        async with self._lock:
            return await migrations.current_version(self._db)

    async def get_state(self, key: str) -> str | None:
        row = await self.row("SELECT value FROM app_state WHERE key = ?", (key,))
        return str(row[0]) if row else None

    async def set_state(self, key: str, value: str) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO app_state (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    async def backup(self, destination: Path | str) -> None:
        """Copy the live database with SQLite's online backup API (safe while the bot runs)."""
        destination = Path(destination)
        private_files.create_file(destination)
        async with self._lock:
            target = await aiosqlite.connect(destination)
            try:
                await self._db.backup(target)
            finally:
                await target.close()
