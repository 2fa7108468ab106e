"""Queries for servers' settings, members and the passes they log."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import aiosqlite

from bot.store.core import StoreCore, fetch_all, fetch_one, from_db_time, to_db_time
from bot.store.records import GuildSettings, HistoryEntry, LoggedPass, Member


class LogOutcome(enum.Enum):
    LOGGED = "logged"
    ALREADY_LOGGED = "already_logged"
    NEEDS_FIRST_PASS = "needs_first_pass"
    NOT_A_MEMBER = "not_a_member"


class UndoOutcome(enum.Enum):
    UNDONE = "undone"
    NOT_LOGGED = "not_logged"
    SECOND_STILL_LOGGED = "second_still_logged"
    NOT_A_MEMBER = "not_a_member"


@dataclass(frozen=True, slots=True)
class LogResult:
    outcome: LogOutcome
    # The stored pass: the new one when logged, the earlier one when it already was.
    logged: LoggedPass | None = None


_SETTINGS_COLUMNS = (
    "guild_id, study_channel_id, timezone, checkin_weekday, checkin_time, daily_time, "
    "daily_enabled, checkin_enabled, curriculum_id, cohort_start, default_pace"
)
MEMBER_COLUMNS = (
    "guild_id, user_id, joined_at, pace_hours, timezone, active, reminders, plan_start,"
    " plan_credit, active_since"
)
_PASS_COLUMNS = "user_id, video_id, pass, logged_at, study_date, note, link"


# The settings an admin may change with /setup (column names, never user input, go in SQL).
_SETTABLE = frozenset(
    {
        "study_channel_id",
        "timezone",
        "checkin_weekday",
        "checkin_time",
        "daily_time",
        "daily_enabled",
        "checkin_enabled",
    }
)


def _to_db(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


async def _insert_defaults(
    db: aiosqlite.Connection, defaults: GuildSettings, now: datetime
) -> None:
    """A server's first settings row; the table's defaults fill the rest."""
    await db.execute(
        "INSERT INTO guild_settings (guild_id, timezone, cohort_start, default_pace, updated_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id) DO NOTHING",
        (
            defaults.guild_id,
            defaults.timezone,
            defaults.cohort_start.isoformat(),
            defaults.default_pace,
            to_db_time(now),
        ),
    )


def _settings(row: Any) -> GuildSettings:
    return GuildSettings(
        guild_id=row[0],
        study_channel_id=row[1],
        timezone=row[2],
        checkin_weekday=row[3],
        checkin_time=time.fromisoformat(row[4]),
        daily_time=time.fromisoformat(row[5]),
        daily_enabled=bool(row[6]),
        checkin_enabled=bool(row[7]),
        curriculum_id=row[8],
        cohort_start=date.fromisoformat(row[9]),
        default_pace=row[10],
    )


def member_from_row(row: Any) -> Member:
    """A Member from the columns of MEMBER_COLUMNS, in order."""
    return Member(
        row[0],
        row[1],
        from_db_time(row[2]),
        row[3],
        row[4],
        bool(row[5]),
        bool(row[6]),
        date.fromisoformat(row[7]) if row[7] else None,
        row[8],
        from_db_time(row[9]) if row[9] else None,
    )


def _pass(row: Any) -> LoggedPass:
    return LoggedPass(
        row[0], row[1], row[2], from_db_time(row[3]), date.fromisoformat(row[4]), row[5], row[6]
    )


def _prefixed(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{column.strip()}" for column in columns.split(","))


_SNAPSHOT_SQL = f"""
    SELECT {_prefixed("g", _SETTINGS_COLUMNS)}, {_prefixed("m", MEMBER_COLUMNS)},
           {_prefixed("p", _PASS_COLUMNS)}
    FROM (SELECT ? AS guild_id, ? AS user_id) AS asked
    LEFT JOIN guild_settings AS g ON g.guild_id = asked.guild_id
    LEFT JOIN members AS m ON m.guild_id = asked.guild_id AND m.user_id = asked.user_id
    LEFT JOIN passes AS p ON p.guild_id = asked.guild_id AND p.user_id = asked.user_id
    ORDER BY p.logged_at, p.video_id, p.pass
"""
_SETTINGS_WIDTH = len(_SETTINGS_COLUMNS.split(","))
_MEMBER_WIDTH = len(MEMBER_COLUMNS.split(","))

# One statement logs a pass: the rules that need data are folded into its WHERE, the history
# entry comes from a trigger (migration 0004), and RETURNING hands back the stored row.
_LOG_SQL = f"""
    INSERT INTO passes (guild_id, {_PASS_COLUMNS}, logged_by)
    SELECT :guild, :user, :video, :pass, :at, :day, :note, :link, :actor
    WHERE EXISTS (SELECT 1 FROM members WHERE guild_id = :guild AND user_id = :user AND active = 1)
      AND (:pass = 1 OR EXISTS (SELECT 1 FROM passes
            WHERE guild_id = :guild AND user_id = :user AND video_id = :video AND pass = 1))
    ON CONFLICT DO NOTHING
    RETURNING {_PASS_COLUMNS}
"""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one request needs to know about a member, read in a single query."""

    settings: GuildSettings | None
    member: Member | None
    passes: list[LoggedPass]


class StudyQueries(StoreCore):
    async def snapshot(self, guild_id: int, user_id: int) -> Snapshot:
        """The server's settings, the member and all their passes, in one round trip."""
        async with self._lock:
            rows = list(await self._db.execute_fetchall(_SNAPSHOT_SQL, (guild_id, user_id)))
        first = rows[0]
        split = _SETTINGS_WIDTH + _MEMBER_WIDTH
        settings = _settings(first[:_SETTINGS_WIDTH]) if first[0] is not None else None
        member = (
            member_from_row(first[_SETTINGS_WIDTH:split])
            if first[_SETTINGS_WIDTH] is not None
            else None
        )
        passes = [_pass(row[split:]) for row in rows if row[split] is not None]
        return Snapshot(settings, member, passes)

    # --- server settings -------------------------------------------------------------------

    async def guild_settings(self, guild_id: int) -> GuildSettings | None:
        async with self._lock:
            row = await fetch_one(
                self._db,
                f"SELECT {_SETTINGS_COLUMNS} FROM guild_settings WHERE guild_id = ?",
                (guild_id,),
            )
        return _settings(row) if row else None

    async def all_guild_settings(self) -> list[GuildSettings]:
        async with self._lock:
            rows = await fetch_all(
                self._db, f"SELECT {_SETTINGS_COLUMNS} FROM guild_settings ORDER BY guild_id"
            )
            return [_settings(row) for row in rows]

    async def save_guild_settings(self, settings: GuildSettings, now: datetime) -> None:
        async with self.transaction() as db:
            await db.execute(
                f"INSERT INTO guild_settings ({_SETTINGS_COLUMNS}, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET"
                " study_channel_id = excluded.study_channel_id, timezone = excluded.timezone,"
                " checkin_weekday = excluded.checkin_weekday,"
                " checkin_time = excluded.checkin_time, daily_time = excluded.daily_time,"
                " daily_enabled = excluded.daily_enabled,"
                " checkin_enabled = excluded.checkin_enabled,"
                " curriculum_id = excluded.curriculum_id, cohort_start = excluded.cohort_start,"
                " default_pace = excluded.default_pace,"
                " updated_at = excluded.updated_at",
                (
                    settings.guild_id,
                    settings.study_channel_id,
                    settings.timezone,
                    settings.checkin_weekday,
                    settings.checkin_time.strftime("%H:%M"),
                    settings.daily_time.strftime("%H:%M"),
                    int(settings.daily_enabled),
                    int(settings.checkin_enabled),
                    settings.curriculum_id,
                    settings.cohort_start.isoformat(),
                    settings.default_pace,
                    to_db_time(now),
                ),
            )

    async def ensure_guild_settings(self, defaults: GuildSettings, now: datetime) -> GuildSettings:
        """The server's settings, created from `defaults` the first time a server is used."""
        async with self.transaction() as db:
            await _insert_defaults(db, defaults, now)
            row = await fetch_one(
                db,
                f"SELECT {_SETTINGS_COLUMNS} FROM guild_settings WHERE guild_id = ?",
                (defaults.guild_id,),
            )
        return _settings(row)

    async def update_guild_settings(
        self, defaults: GuildSettings, changes: dict[str, object], now: datetime
    ) -> GuildSettings:
        """Create the server's row from `defaults` if needed, then set only `changes`."""
        unknown = changes.keys() - _SETTABLE
        if unknown:
            raise ValueError(f"not a setting that can be changed: {sorted(unknown)}")
        columns = sorted(changes)
        assignments = "".join(f"{column} = ?, " for column in columns)
        async with self.transaction() as db:
            await _insert_defaults(db, defaults, now)
            row = await fetch_one(
                db,
                f"UPDATE guild_settings SET {assignments}updated_at = ? WHERE guild_id = ?"
                f" RETURNING {_SETTINGS_COLUMNS}",
                (*(_to_db(changes[c]) for c in columns), to_db_time(now), defaults.guild_id),
            )
        return _settings(row)

    # --- members ---------------------------------------------------------------------------

    async def member(self, guild_id: int, user_id: int) -> Member | None:
        async with self._lock:
            row = await fetch_one(
                self._db,
                f"SELECT {MEMBER_COLUMNS} FROM members WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            )
        return member_from_row(row) if row else None

    async def join(
        self,
        guild_id: int,
        user_id: int,
        pace_hours: float,
        timezone: str,
        now: datetime,
        reminders: bool | None = None,
        plan: tuple[date, float] | None = None,
    ) -> tuple[Member, Member | None]:
        """Add or re-activate a member; returns (member now, member before or None).

        `plan` (start day, study minutes done by then) re-anchors the member's plan; None keeps
        the one they have."""
        plan_start, plan_credit = (plan[0].isoformat(), plan[1]) if plan else (None, None)
        async with self.transaction() as db:
            before_row = await fetch_one(
                db,
                f"SELECT {MEMBER_COLUMNS} FROM members WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            )
            after_row = await fetch_one(
                db,
                f"INSERT INTO members ({MEMBER_COLUMNS})"
                " VALUES (:guild, :user, :now, :pace, :zone, 1, coalesce(:reminders, 0),"
                " :plan_start, coalesce(:plan_credit, 0), :now)"
                " ON CONFLICT (guild_id, user_id) DO UPDATE SET"
                " active_since = CASE WHEN members.active THEN members.active_since"
                " ELSE excluded.active_since END,"
                " pace_hours = excluded.pace_hours, timezone = excluded.timezone, active = 1,"
                " reminders = coalesce(:reminders, reminders),"
                " plan_start = coalesce(:plan_start, plan_start),"
                " plan_credit = coalesce(:plan_credit, plan_credit)"
                f" RETURNING {MEMBER_COLUMNS}",
                {
                    "guild": guild_id,
                    "user": user_id,
                    "now": to_db_time(now),
                    "pace": pace_hours,
                    "zone": timezone,
                    "reminders": reminders,
                    "plan_start": plan_start,
                    "plan_credit": plan_credit,
                },
            )
        return member_from_row(after_row), (member_from_row(before_row) if before_row else None)

    async def set_active(self, guild_id: int, user_id: int, active: bool) -> bool:
        """Returns False when nothing changed: the user never joined, or already was so."""
        async with self._lock:
            # One statement: its own transaction, and one trip to the database thread.
            rows = await fetch_all(
                self._db,
                "UPDATE members SET active = ? WHERE guild_id = ? AND user_id = ? AND active != ?"
                " RETURNING 1",
                (int(active), guild_id, user_id, int(active)),
            )
        return bool(rows)

    # --- passes ----------------------------------------------------------------------------

    async def log_pass(
        self,
        guild_id: int,
        user_id: int,
        video_id: str,
        pass_no: int,
        *,
        now: datetime,
        study_date: date,
        note: str | None,
        link: str | None,
        actor_id: int,
    ) -> LogResult:
        """Record a pass (and, by trigger, its history entry) unless a rule forbids it."""
        params = {
            "guild": guild_id,
            "user": user_id,
            "video": video_id,
            "pass": pass_no,
            "at": to_db_time(now),
            "day": study_date.isoformat(),
            "note": note,
            "link": link,
            "actor": actor_id,
        }
        async with self._lock:
            row = await fetch_one(self._db, _LOG_SQL, params)
            if row:
                return LogResult(LogOutcome.LOGGED, _pass(row))
            # Refused: say why. Rare, so a second look is fine here.
            member = await fetch_one(
                self._db,
                "SELECT active FROM members WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            )
            existing = await fetch_one(
                self._db,
                f"SELECT {_PASS_COLUMNS} FROM passes"
                " WHERE guild_id = ? AND user_id = ? AND video_id = ? AND pass = ?",
                (guild_id, user_id, video_id, pass_no),
            )
        if not member or not member[0]:
            return LogResult(LogOutcome.NOT_A_MEMBER)
        if existing:
            return LogResult(LogOutcome.ALREADY_LOGGED, _pass(existing))
        return LogResult(LogOutcome.NEEDS_FIRST_PASS)

    async def undo_pass(
        self,
        guild_id: int,
        user_id: int,
        video_id: str,
        pass_no: int,
        *,
        now: datetime,
        actor_id: int,
    ) -> tuple[UndoOutcome, LoggedPass | None]:
        async with self.transaction() as db:
            if not await fetch_one(
                db, "SELECT 1 FROM members WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            ):
                return UndoOutcome.NOT_A_MEMBER, None
            if pass_no == 1 and await fetch_one(
                db,
                "SELECT 1 FROM passes"
                " WHERE guild_id = ? AND user_id = ? AND video_id = ? AND pass = 2",
                (guild_id, user_id, video_id),
            ):
                return UndoOutcome.SECOND_STILL_LOGGED, None
            row = await fetch_one(
                db,
                "DELETE FROM passes WHERE guild_id = ? AND user_id = ? AND video_id = ? AND pass = ?"
                f" RETURNING {_PASS_COLUMNS}",
                (guild_id, user_id, video_id, pass_no),
            )
            if not row:
                return UndoOutcome.NOT_LOGGED, None
            removed = _pass(row)
            await db.execute(
                "INSERT INTO pass_history (guild_id, user_id, video_id, pass, action, actor_id,"
                " at, study_date, note, link) VALUES (?, ?, ?, ?, 'undo', ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    user_id,
                    video_id,
                    pass_no,
                    actor_id,
                    to_db_time(now),
                    removed.study_date.isoformat(),
                    removed.note,
                    removed.link,
                ),
            )
        return UndoOutcome.UNDONE, removed

    async def passes_of(self, guild_id: int, user_id: int) -> list[LoggedPass]:
        async with self._lock:
            rows = await fetch_all(
                self._db,
                f"SELECT {_PASS_COLUMNS} FROM passes WHERE guild_id = ? AND user_id = ?"
                " ORDER BY logged_at, video_id, pass",
                (guild_id, user_id),
            )
            return [_pass(row) for row in rows]

    async def history_of(self, guild_id: int, user_id: int) -> list[HistoryEntry]:
        async with self._lock:
            rows = await fetch_all(
                self._db,
                "SELECT id, user_id, video_id, pass, action, actor_id, at, study_date, note, link"
                " FROM pass_history WHERE guild_id = ? AND user_id = ? ORDER BY id",
                (guild_id, user_id),
            )
        return [
            HistoryEntry(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                from_db_time(r[6]),
                date.fromisoformat(r[7]),
                r[8],
                r[9],
            )
            for r in rows
        ]
