"""Which database `TWOPASS_DATABASE` names: a `postgresql://` (or `postgres://`) URL selects
PostgreSQL; anything else is an SQLite file, as a path or an `sqlite:///path` URL (three
slashes and a relative path, four for an absolute one, as SQLAlchemy writes them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot import urls
from bot.db.interface import Database

_POSTGRES = ("postgresql://", "postgres://")
_SQLITE = "sqlite://"


@dataclass(frozen=True, slots=True)
class Target:
    path: Path | None = None  # an SQLite file
    url: str | None = None  # a PostgreSQL URL

    @property
    def is_postgres(self) -> bool:
        return self.url is not None

    def __str__(self) -> str:
        if self.url is not None:
            return urls.shown(self.url)
        return str(self.path)

    async def open(self, *, migrate: bool = True) -> Database:
        """Open (and by default migrate) the database; the caller closes it."""
        if self.url is not None:
            from bot.db.postgres import PostgresDatabase  # asyncpg only when it is used

            return await PostgresDatabase.open(self.url, migrate=migrate)
        from bot.db.connection import SQLiteDatabase

        assert self.path is not None
        return await SQLiteDatabase.open(self.path, migrate=migrate)


def parse(value: str | Path) -> Target:
    text = str(value).strip()
    if text.lower().startswith(_POSTGRES):
        return Target(url=text)
    if text.lower().startswith(_SQLITE):
        rest = text[len(_SQLITE) :]
        # sqlite:///relative.db, sqlite:////absolute.db
        return Target(path=Path(rest[1:] if rest.startswith("/") else rest))
    return Target(path=Path(text))
