"""The SQL of `guild_settings`, which this feature alone writes."""

from __future__ import annotations

from datetime import datetime, time

from bot.db import Connection, Database, fetch_all, fetch_one, to_db_time
from bot.server.records import (
    SETTINGS_COLUMNS,
    GuildSettings,
    settings_from_row,
    settings_to_row,
)

# The settings an admin may change with /setup (column names, never user input, go in SQL).
SETTABLE = frozenset(
    {
        "study_channel_id",
        "timezone",
        "checkin_weekday",
        "checkin_time",
        "daily_time",
        "daily_enabled",
        "checkin_enabled",
        "admin_channel_id",
        "setup_by",
    }
)
# The flag that turns each kind of scheduled post on or off.
POST_SWITCH = {"daily": "daily_enabled", "checkin": "checkin_enabled"}

_PLACEHOLDERS = ", ".join("?" for _ in SETTINGS_COLUMNS.split(","))


def _to_db(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


async def insert_defaults(db: Connection, defaults: GuildSettings, now: datetime) -> None:
    """A server's first settings row, every column from `defaults` (the table's own DEFAULTs are
    never relied on: one definition of a new server, in `bot.server.rules`)."""
    await db.execute(
        f"INSERT INTO guild_settings ({SETTINGS_COLUMNS}, updated_at)"
        f" VALUES ({_PLACEHOLDERS}, ?) ON CONFLICT (guild_id) DO NOTHING",
        (*settings_to_row(defaults), to_db_time(now)),
    )


class ServerRepo:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def get(self, guild_id: int) -> GuildSettings | None:
        row = await self.database.row(
            f"SELECT {SETTINGS_COLUMNS} FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        return settings_from_row(row) if row else None

    async def all(self) -> list[GuildSettings]:
        rows = await self.database.rows(
            f"SELECT {SETTINGS_COLUMNS} FROM guild_settings ORDER BY guild_id"
        )
        return [settings_from_row(row) for row in rows]

    async def ensure(self, defaults: GuildSettings, now: datetime) -> GuildSettings:
        """The server's settings, created from `defaults` the first time a server is used."""
        async with self.database.transaction() as db:
            await insert_defaults(db, defaults, now)
            row = await fetch_one(
                db,
                f"SELECT {SETTINGS_COLUMNS} FROM guild_settings WHERE guild_id = ?",
                (defaults.guild_id,),
            )
        return settings_from_row(row)

    async def update(
        self, defaults: GuildSettings, changes: dict[str, object], now: datetime
    ) -> GuildSettings:
        """Create the server's row from `defaults` if needed, then set only `changes`: a
        concurrent change to another setting is never overwritten."""
        unknown = changes.keys() - SETTABLE
        if unknown:
            raise ValueError(f"not a setting that can be changed: {sorted(unknown)}")
        columns = sorted(changes)
        assignments = "".join(f"{column} = ?, " for column in columns)
        async with self.database.transaction() as db:
            await insert_defaults(db, defaults, now)
            row = await fetch_one(
                db,
                f"UPDATE guild_settings SET {assignments}updated_at = ? WHERE guild_id = ?"
                f" RETURNING {SETTINGS_COLUMNS}",
                (*(_to_db(changes[c]) for c in columns), to_db_time(now), defaults.guild_id),
            )
        return settings_from_row(row)

    async def forget_channel(self, guild_id: int, channel_id: int, now: datetime) -> bool:
        """A deleted channel is no longer the study or admin channel; whether it was either."""
        async with self.database.transaction() as db:
            rows = await fetch_all(
                db,
                "UPDATE guild_settings SET"
                " study_channel_id = nullif(study_channel_id, ?1),"
                " admin_channel_id = nullif(admin_channel_id, ?1), updated_at = ?2"
                " WHERE guild_id = ?3 AND ?1 IN (study_channel_id, admin_channel_id)"
                " RETURNING 1",
                (channel_id, to_db_time(now), guild_id),
            )
        return bool(rows)

    async def turn_off_post(self, guild_id: int, kind: str, now: datetime) -> None:
        column = POST_SWITCH[kind]
        async with self.database.transaction() as db:
            await db.execute(
                f"UPDATE guild_settings SET {column} = 0, updated_at = ? WHERE guild_id = ?",
                (to_db_time(now), guild_id),
            )
