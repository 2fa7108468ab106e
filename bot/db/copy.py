"""`twopass db copy SRC DEST`: every row of every table from one database to another, SQLite to
PostgreSQL or back, so a group that outgrows one machine keeps its history.

Both engines have the same tables with the same columns (the PostgreSQL migrations are twins of
the SQLite ones), so rows move as they are. The destination must be empty and at the same
schema version; everything is written in one transaction, then the row counts are compared."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.db.interface import Connection, Database
from bot.db.migrations import LATEST
from bot.db.postgres import PostgresConnection, PostgresDatabase

# Parents before the tables whose foreign keys point at them; the rest follow in name order,
# and last what triggers on the others keep (the board sizes follow the totals).
_FIRST = ("guild_settings", "members", "posts", "passes")
_LAST = ("board_sizes",)
# What the triggers on `passes` (and on the totals) write as rows arrive; the source's own rows
# replace them.
_MADE_BY_TRIGGERS = ("pass_history", "member_points", "member_week_points", "board_sizes")


class CopyRefused(Exception):
    """The copy cannot start; the message says why and what to do."""


async def tables(database: Database) -> list[str]:
    """The schema's tables (its bookkeeping ones aside), parents first."""
    if isinstance(database, PostgresDatabase):
        rows = await database.rows(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            " AND table_name <> 'schema_migrations'"
        )
    else:
        rows = await database.rows(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    names = {str(row[0]) for row in rows}
    middle = sorted(names - set(_FIRST) - set(_LAST))
    return [n for n in _FIRST if n in names] + middle + [n for n in _LAST if n in names]


async def columns(database: Database, table: str) -> list[str]:
    if isinstance(database, PostgresDatabase):
        rows = await database.rows(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ?"
            " ORDER BY ordinal_position",
            (table,),
        )
    else:
        rows = await database.rows("SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,))
    return [str(row[0]) for row in rows]


async def counts(database: Database) -> dict[str, int]:
    """Rows per table, in one snapshot."""
    names = await tables(database)
    async with database.reading() as db:
        found = {}
        for name in names:
            rows = list(await db.execute_fetchall(f"SELECT count(*) FROM {name}"))
            found[name] = int(rows[0][0])
    return found


async def _insert(db: Connection, table: str, names: Sequence[str], rows: list[Any]) -> None:
    if not rows:
        return
    if isinstance(db, PostgresConnection):
        await db.copy_rows(table, names, rows)  # COPY: an order faster than INSERTs
        return
    marks = ", ".join("?" for _ in names)
    await db.executemany(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
        [tuple(row) for row in rows],
    )


async def copy(source: Database, destination: Database) -> dict[str, int]:
    """Copy every row; returns the rows copied per table. Raises CopyRefused before writing
    anything when the schemas differ or the destination already holds data."""
    for database in (source, destination):
        version = await database.schema_version()
        if version != LATEST:
            raise CopyRefused(
                f"{database.name} is at schema version {version}, not {LATEST}: "
                "run `twopass db upgrade` on it first"
            )
    names = await tables(source)
    if names != await tables(destination):
        raise CopyRefused(f"{source.name} and {destination.name} have different tables")
    held = {name: n for name, n in (await counts(destination)).items() if n}
    if held:
        raise CopyRefused(
            f"{destination.name} already holds data ({', '.join(sorted(held))}); "
            "copy into a new, empty database"
        )
    wanted = {name: await columns(source, name) for name in names}
    copied: dict[str, int] = {}
    async with source.reading() as reader, destination.transaction() as writer:
        postgres = isinstance(destination, PostgresDatabase)
        if postgres:
            # The history and totals come from the source as they are: no trigger re-derives
            # them (the table's owner may switch its own triggers off, inside this transaction).
            await writer.execute("ALTER TABLE passes DISABLE TRIGGER USER")
        for name in names:
            rows = list(
                await reader.execute_fetchall(f"SELECT {', '.join(wanted[name])} FROM {name}")
            )
            if name in _MADE_BY_TRIGGERS:
                await writer.execute(f"DELETE FROM {name}")
            await _insert(writer, name, wanted[name], rows)
            copied[name] = len(rows)
        if postgres:
            await writer.execute("ALTER TABLE passes ENABLE TRIGGER USER")
            # Ids were copied as they were: new rows continue after the highest.
            for name in names:
                if "id" in wanted[name]:
                    await writer.execute(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                        f" (SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"
                    )
    return copied
