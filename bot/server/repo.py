"""The SQL of `guild_settings`, which this feature alone writes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, time

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
        "cohort_start",
        "default_pace",
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
    if isinstance(value, date):
        return value.isoformat()
    return value


async def insert_defaults(db: Connection, defaults: GuildSettings, now: datetime) -> None:
    """A server's first settings row, every column from `defaults` (the table's own DEFAULTs are
    never relied on: one definition of a new server, in `bot.server.rules`)."""
    await db.execute(
        f"INSERT INTO guild_settings ({SETTINGS_COLUMNS}, updated_at)"
        f" VALUES ({_PLACEHOLDERS}, ?) ON CONFLICT (guild_id) DO NOTHING",
        (*settings_to_row(defaults), to_db_time(now)),
    )


async def forget_admin(db: Connection, user_id: int, guild_id: int | None) -> None:
    """Inside the transaction that erases a member (in one server, or every one when
    `guild_id` is None): no server names them as who ran /setup last."""
    where, params = (
        ("", (user_id,)) if guild_id is None else (" AND guild_id = ?", (user_id, guild_id))
    )
    await db.execute(f"UPDATE guild_settings SET setup_by = NULL WHERE setup_by = ?{where}", params)


class ServerRepo:
    def __init__(self, database: Database) -> None:
        self.database = database

    # A server the bot was removed from is not read as a server: no posts are scheduled for it
    # while its data waits out the retention period.

    async def get(self, guild_id: int) -> GuildSettings | None:
        row = await self.database.row(
            f"SELECT {SETTINGS_COLUMNS} FROM guild_settings WHERE guild_id = ? AND left_at IS NULL",
            (guild_id,),
        )
        return settings_from_row(row) if row else None

    async def all(self) -> list[GuildSettings]:
        rows = await self.database.rows(
            f"SELECT {SETTINGS_COLUMNS} FROM guild_settings WHERE left_at IS NULL ORDER BY guild_id"
        )
        return [settings_from_row(row) for row in rows]

    async def mark_left(self, guild_id: int, now: datetime) -> bool:
        """The bot was removed from the server; False if it has no settings (nothing stored)
        or was already marked."""
        rows = await self.database.rows(
            "UPDATE guild_settings SET left_at = ? WHERE guild_id = ? AND left_at IS NULL"
            " RETURNING 1",
            (to_db_time(now), guild_id),
        )
        return bool(rows)

    async def mark_back(self, guild_id: int) -> bool:
        """The bot is in the server again; True if it had been marked as left."""
        rows = await self.database.rows(
            "UPDATE guild_settings SET left_at = NULL WHERE guild_id = ? AND left_at IS NOT NULL"
            " RETURNING 1",
            (guild_id,),
        )
        return bool(rows)

    async def known(self) -> list[tuple[int, bool]]:
        """Every server with settings, and whether it is marked as left."""
        rows = await self.database.rows(
            "SELECT guild_id, left_at IS NOT NULL FROM guild_settings ORDER BY guild_id"
        )
        return [(row[0], bool(row[1])) for row in rows]

    async def left_before(self, cutoff: datetime) -> list[int]:
        rows = await self.database.rows(
            "SELECT guild_id FROM guild_settings WHERE left_at <= ? ORDER BY guild_id",
            (to_db_time(cutoff),),
        )
        return [row[0] for row in rows]

    async def delete(self, guild_id: int) -> None:
        await self.database.rows("DELETE FROM guild_settings WHERE guild_id = ?", (guild_id,))

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

    async def set_roadmap(
        self,
        defaults: GuildSettings,
        roadmap_id: str,
        now: datetime,
        then: Callable[[Connection], Awaitable[int]],
    ) -> tuple[str, GuildSettings, int]:
        """Put the server on roadmap `roadmap_id` and run `then` (what the other features change
        with it) in the same transaction. Returns the roadmap id before, the settings after and
        what `then` returned."""
        async with self.database.transaction() as db:
            await insert_defaults(db, defaults, now)
            before = await fetch_one(
                db,
                "SELECT curriculum_id FROM guild_settings WHERE guild_id = ?",
                (defaults.guild_id,),
            )
            row = await fetch_one(
                db,
                "UPDATE guild_settings SET curriculum_id = ?, updated_at = ? WHERE guild_id = ?"
                f" RETURNING {SETTINGS_COLUMNS}",
                (roadmap_id, to_db_time(now), defaults.guild_id),
            )
            result = await then(db)
        return str(before[0]), settings_from_row(row), result

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
