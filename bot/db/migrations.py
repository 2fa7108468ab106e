"""Numbered SQL migrations, applied in order; the schema version lives in PRAGMA user_version."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

import aiosqlite

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    folder = resources.files("bot.db") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps: {found}")
    return found


LATEST = len(available())


class SchemaTooNew(RuntimeError):
    """The database was written by a newer twopass than this one."""

    def __init__(self, version: int) -> None:
        super().__init__(
            f"the database is at schema version {version}, newer than this code ({LATEST}); "
            "upgrade twopass instead of downgrading the database"
        )
        self.version = version


async def current_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def upgrade(db: aiosqlite.Connection, target: int = LATEST) -> list[int]:
    """Bring the database to `target`; each migration is one transaction with its version bump."""
    version = await current_version(db)
    if version > LATEST:
        raise SchemaTooNew(version)
    applied = []
    for migration in available():
        if version < migration.version <= target:
            log.info("applying migration %s", migration.name)
            # executescript would COMMIT halfway on its own; one explicit transaction keeps the
            # schema change and the version bump together.
            script = f"BEGIN IMMEDIATE;\n{migration.sql}\nPRAGMA user_version = {migration.version};\nCOMMIT;"
            try:
                await db.executescript(script)
            except Exception:
                if db.in_transaction:
                    await db.rollback()
                raise
            applied.append(migration.version)
    return applied
