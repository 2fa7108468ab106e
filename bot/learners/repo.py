"""The SQL of `members`, `passes`, `pass_history` and `pass_edits`, which this feature alone
writes."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple, NotRequired, TypedDict, Unpack

from bot.db import Connection, Database, fetch_all, fetch_one, from_db_time, to_db_time
from bot.learners.export import EditRow, Erased
from bot.learners.records import HistoryEntry, LoggedPass, Member, PassKey
from bot.server.records import (
    SETTINGS_COLUMNS,
    SETTINGS_WIDTH,
    GuildSettings,
    settings_from_row,
    stored_zone,
)


class LogOutcome(enum.Enum):
    LOGGED = "logged"
    ALREADY_LOGGED = "already_logged"
    NEEDS_FIRST_PASS = "needs_first_pass"
    NOT_A_MEMBER = "not_a_member"
    # Not logged, and not looked into: logged with an `Expected` that may no longer hold.
    NOT_AS_EXPECTED = "not_as_expected"


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
    # Every pass the member holds right after this one was logged (this one included).
    passes: Mapping[PassKey, Held] = field(default_factory=dict)

    @property
    def held(self) -> frozenset[PassKey]:
        return frozenset(self.passes)


MEMBER_COLUMNS = (
    "guild_id, user_id, joined_at, pace_hours, timezone, active, reminders, plan_start,"
    " plan_credit, active_since, display_name"
)
_PASS_COLUMNS = "user_id, video_id, pass, logged_at, study_date, note, link"
# What a read returns about a pass: the columns above, then what the rules stored with it.
_PASS_READ = f"{_PASS_COLUMNS}, minutes, week, spent_minutes, logged_by"


def member_from_row(row: Any) -> Member:
    """A Member from the columns of MEMBER_COLUMNS, in order."""
    return Member(
        row[0],
        row[1],
        from_db_time(row[2]),
        row[3],
        stored_zone(row[4]),
        bool(row[5]),
        bool(row[6]),
        date.fromisoformat(row[7]) if row[7] else None,
        row[8],
        from_db_time(row[9]) if row[9] else None,
        row[10],
    )


def _pass(row: Any) -> LoggedPass:
    return LoggedPass(
        row[0],
        row[1],
        row[2],
        from_db_time(row[3]),
        date.fromisoformat(row[4]),
        row[5],
        row[6],
        row[7],
        date.fromisoformat(row[8]) if row[8] else None,
        row[9],
        row[10] if row[10] != row[0] else None,
    )


_HISTORY_COLUMNS = (
    "id, user_id, video_id, pass, action, actor_id, at, study_date, note, link, minutes,"
    " spent_minutes"
)


def _history(row: Any) -> HistoryEntry:
    """A HistoryEntry from the columns of _HISTORY_COLUMNS, in order."""
    return HistoryEntry(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        from_db_time(row[6]),
        date.fromisoformat(row[7]),
        row[8],
        row[9],
        row[10],
        row[11],
    )


def _prefixed(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{column.strip()}" for column in columns.split(","))


# The server and member asked for (either may have no row yet).
_ASKED_MEMBER = """
    FROM (SELECT CAST(? AS BIGINT) AS guild_id, CAST(? AS BIGINT) AS user_id) AS asked
    LEFT JOIN guild_settings AS g ON g.guild_id = asked.guild_id
    LEFT JOIN members AS m ON m.guild_id = asked.guild_id AND m.user_id = asked.user_id
"""
_SNAPSHOT_SQL = f"""
    SELECT {_prefixed("g", SETTINGS_COLUMNS)}, {_prefixed("m", MEMBER_COLUMNS)},
           {_prefixed("p", _PASS_READ)}
    {_ASKED_MEMBER}
    LEFT JOIN passes AS p ON p.guild_id = asked.guild_id AND p.user_id = asked.user_id
    ORDER BY p.logged_at, p.video_id, p.pass
"""
# A pass as /today and /done read it: one word, "video:pass:day:week:minutes" (ids are
# [a-z0-9-]; days and weeks ISO dates). They show counts, streaks and the week's hours, not
# notes: a whole record per pass was most of their reading time.
_HELD_WORD = "video_id || ':' || pass || ':' || study_date || ':' || week || ':' || minutes"
# One row: the server's settings, the member, and the passes they hold.
VIEW_SQL = f"""
    SELECT {_prefixed("g", SETTINGS_COLUMNS)}, {_prefixed("m", MEMBER_COLUMNS)},
        (SELECT group_concat({_HELD_WORD}, ' ') FROM passes
         WHERE guild_id = asked.guild_id AND user_id = asked.user_id)
    {_ASKED_MEMBER}
"""
_MEMBER_WIDTH = len(MEMBER_COLUMNS.split(","))

# One statement logs a pass: the rules that need data are folded into its WHERE, the history
# entry comes from a trigger (migration 0004), and RETURNING hands back the stored row and every
# other pass the member holds: what it completed is decided from the database, so two last
# passes logged at once cannot both finish the roadmap. (The other passes, not all: a subquery
# in RETURNING sees the new row on SQLite but not on PostgreSQL.) A second pass is never dated
# before its first, as `Learners.log` checks first: a first pass dated after the member's today
# (they moved west since) counts as today's, so only a second pass dated today may follow it.
_LOG_TEMPLATE = f"""
    INSERT INTO passes (guild_id, {_PASS_COLUMNS}, logged_by, minutes, week, spent_minutes)
    SELECT :guild, :user, :video, :pass, :at, :day, :note, :link, :actor, :minutes, :week, :spent
    WHERE EXISTS (SELECT 1 FROM members
                  WHERE guild_id = :guild AND user_id = :user AND active = 1{{member}})
      {{server}}
      AND (:pass = 1 OR EXISTS (SELECT 1 FROM passes
            WHERE guild_id = :guild AND user_id = :user AND video_id = :video AND pass = 1
              AND (study_date <= :day OR :day >= :today)))
    ON CONFLICT DO NOTHING
    RETURNING {_PASS_READ},
        (SELECT group_concat({_HELD_WORD}, ' ') FROM passes
         WHERE guild_id = :guild AND user_id = :user AND NOT (video_id = :video AND pass = :pass))
"""
LOG_SQL = _LOG_TEMPLATE.format(member="", server="")
# The same, for a caller that computed the pass from what it remembered of the member's and the
# server's timezones and roadmap (`Expected`) instead of reading them: the write checks them.
_LOG_EXPECTING_SQL = _LOG_TEMPLATE.format(
    member=" AND timezone = :member_zone",
    server="AND EXISTS (SELECT 1 FROM guild_settings WHERE guild_id = :guild"
    " AND timezone = :server_zone AND curriculum_id = :roadmap)",
)


@dataclass(frozen=True, slots=True)
class Expected:
    """What a pass's day, week and points were computed from, remembered from an earlier read."""

    member_zone: str
    server_zone: str
    roadmap_id: str


class PassDetails(TypedDict):
    """What a new pass is logged with, beside whose and which it is."""

    now: datetime
    study_date: date
    note: str | None
    link: str | None
    actor_id: int
    minutes: float  # its points, as the rules computed them
    week: date  # the Monday of the week it counts in
    spent_minutes: NotRequired[int | None]  # what the member said it took
    # The member's today: a first pass dated after it (they moved west since) counts as today's.
    today: NotRequired[date | None]


def log_params(
    guild_id: int, user_id: int, video_id: str, pass_no: int, **details: Unpack[PassDetails]
) -> dict[str, object]:
    """The parameters of LOG_SQL (also what the store benchmark runs it with)."""
    study_date = details["study_date"]
    return {
        "guild": guild_id,
        "user": user_id,
        "video": video_id,
        "pass": pass_no,
        "at": to_db_time(details["now"]),
        "day": study_date.isoformat(),
        "note": details["note"],
        "link": details["link"],
        "actor": details["actor_id"],
        "minutes": details["minutes"],
        "week": details["week"].isoformat(),
        "spent": details.get("spent_minutes"),
        "today": (details.get("today") or study_date).isoformat(),
    }


class Held(NamedTuple):
    """A pass a member holds, as /today and /done need it (not the whole record)."""

    day: date  # its study date
    week: str  # the Monday it counts in, as stored
    minutes: float  # its points, as stored


def held_passes(words: str | None) -> dict[PassKey, Held]:
    """The passes a member holds, from "video:pass:day:week:minutes" words."""
    held: dict[PassKey, Held] = {}
    for word in words.split(" ") if words else ():
        video_id, pass_no, day, week, minutes = word.split(":")
        held[(video_id, int(pass_no))] = Held(date.fromisoformat(day), week, float(minutes))
    return held


@dataclass(frozen=True, slots=True)
class MemberView:
    """What /today and /done read about a member, in one row."""

    settings: GuildSettings | None
    member: Member | None
    passes: dict[PassKey, Held]  # each pass the member holds


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one request needs to know about a member, read in a single query."""

    settings: GuildSettings | None
    member: Member | None
    passes: list[LoggedPass]


class LearnerRepo:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def snapshot(self, guild_id: int, user_id: int) -> Snapshot:
        """The server's settings, the member and all their passes, in one round trip (a short
        read through the members' and passes' keys: on the loop's connection)."""
        rows = await self.database.short_rows(_SNAPSHOT_SQL, (guild_id, user_id))
        first = rows[0]
        split = SETTINGS_WIDTH + _MEMBER_WIDTH
        settings = settings_from_row(first[:SETTINGS_WIDTH]) if first[0] is not None else None
        member = (
            member_from_row(first[SETTINGS_WIDTH:split])
            if first[SETTINGS_WIDTH] is not None
            else None
        )
        passes = [_pass(row[split:]) for row in rows if row[split] is not None]
        return Snapshot(settings, member, passes)

    async def view(self, guild_id: int, user_id: int) -> MemberView:
        """The server's settings, the member and the passes they hold with their study days, in
        one row (a short read through the keys: on the loop's connection)."""
        rows = await self.database.short_rows(VIEW_SQL, (guild_id, user_id))
        row = rows[0]
        split = SETTINGS_WIDTH + _MEMBER_WIDTH
        return MemberView(
            settings_from_row(row[:SETTINGS_WIDTH]) if row[0] is not None else None,
            member_from_row(row[SETTINGS_WIDTH:split]) if row[SETTINGS_WIDTH] is not None else None,
            held_passes(row[split]),
        )

    # --- members ---------------------------------------------------------------------------

    async def member(self, guild_id: int, user_id: int) -> Member | None:
        row = await self.database.row(
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
        name: str | None = None,
    ) -> tuple[Member, Member | None]:
        """Add or re-activate a member; returns (member now, member before or None).

        `plan` (start day, study minutes done by then) re-anchors the member's plan; None keeps
        the one they have. `name` (their display name now) replaces the one kept, if given."""
        plan_start, plan_credit = (plan[0].isoformat(), plan[1]) if plan else (None, None)
        async with self.database.transaction() as db:
            before_row = await fetch_one(
                db,
                f"SELECT {MEMBER_COLUMNS} FROM members WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            )
            after_row = await fetch_one(
                db,
                f"INSERT INTO members ({MEMBER_COLUMNS})"
                " VALUES (:guild, :user, :now, :pace, :zone, 1, coalesce(:reminders, 0),"
                " :plan_start, coalesce(:plan_credit, 0), :now, :name)"
                " ON CONFLICT (guild_id, user_id) DO UPDATE SET"
                " active_since = CASE WHEN members.active = 1 THEN members.active_since"
                " ELSE excluded.active_since END,"
                " pace_hours = excluded.pace_hours, timezone = excluded.timezone, active = 1,"
                " reminders = coalesce(:reminders, members.reminders),"
                " plan_start = coalesce(:plan_start, members.plan_start),"
                " plan_credit = coalesce(:plan_credit, members.plan_credit),"
                " display_name = coalesce(:name, members.display_name)"
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
                    "name": name,
                },
            )
        return member_from_row(after_row), (member_from_row(before_row) if before_row else None)

    async def set_active(self, guild_id: int, user_id: int, active: bool) -> bool:
        """Returns False when nothing changed: the user never joined, or already was so."""
        rows = await self.database.rows(
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
        expected: Expected | None = None,
        **details: Unpack[PassDetails],
    ) -> LogResult:
        """Record a pass (and, by trigger, its history entry and the totals) unless a rule
        forbids it. `minutes` (its points) and `week` (the Monday of its study date) are stored
        on the row as the rules computed them, so SQL only ever sums them. With `expected`, only
        if the member's and the server's rows still say so (else NOT_AS_EXPECTED)."""
        params = log_params(guild_id, user_id, video_id, pass_no, **details)
        sql = LOG_SQL
        if expected is not None:
            sql = _LOG_EXPECTING_SQL
            params.update(
                member_zone=expected.member_zone,
                server_zone=expected.server_zone,
                roadmap=expected.roadmap_id,
            )
        # One short write through the keys (and its triggers'): on the loop's connection,
        # committed with whatever other passes are being logged at the same moment.
        rows = await self.database.short_write(sql, params)
        row = rows[0] if rows else None
        if row:
            held = held_passes(row[-1])
            held[(video_id, pass_no)] = Held(
                details["study_date"], details["week"].isoformat(), details["minutes"]
            )
            return LogResult(LogOutcome.LOGGED, _pass(row), held)
        if expected is not None:
            return LogResult(LogOutcome.NOT_AS_EXPECTED)
        # Refused: say why. Rare, so a second look is fine here.
        member = await self.database.short_row(
            "SELECT active FROM members WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        existing = await self.database.short_row(
            f"SELECT {_PASS_READ} FROM passes"
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
        async with self.database.transaction() as db:
            # As /done: a member who left cannot change their record until they /join again.
            if not await fetch_one(
                db,
                "SELECT 1 FROM members WHERE guild_id = ? AND user_id = ? AND active = 1",
                (guild_id, user_id),
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
                f" RETURNING {_PASS_READ}",
                (guild_id, user_id, video_id, pass_no),
            )
            if not row:
                return UndoOutcome.NOT_LOGGED, None
            removed = _pass(row)
            await db.execute(
                "INSERT INTO pass_history (guild_id, user_id, video_id, pass, action, actor_id,"
                " at, study_date, note, link, minutes, spent_minutes, week)"
                " VALUES (?, ?, ?, ?, 'undo', ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    removed.minutes,
                    removed.spent_minutes,
                    removed.week.isoformat() if removed.week else "",
                ),
            )
        return UndoOutcome.UNDONE, removed

    async def edit_pass(
        self,
        guild_id: int,
        user_id: int,
        video_id: str,
        pass_no: int,
        *,
        note: str | None,
        link: str | None,
        actor_id: int,
        now: datetime,
    ) -> tuple[LoggedPass, LoggedPass] | None:
        """Replace the note and/or link (None keeps it) of a logged pass and record the edit
        with what it said before; returns (before, after), or None when the pass is not logged
        or the member is not active."""
        where = (
            " WHERE guild_id = :guild AND user_id = :user AND video_id = :video AND pass = :pass"
            " AND EXISTS (SELECT 1 FROM members"
            " WHERE guild_id = :guild AND user_id = :user AND active = 1)"
        )
        params = {
            "guild": guild_id,
            "user": user_id,
            "video": video_id,
            "pass": pass_no,
            "note": note,
            "link": link,
        }
        async with self.database.transaction() as db:
            before = await fetch_one(db, f"SELECT {_PASS_READ} FROM passes{where}", params)
            if not before:
                return None
            after = await fetch_one(
                db,
                "UPDATE passes SET note = coalesce(:note, note), link = coalesce(:link, link)"
                f"{where} RETURNING {_PASS_READ}",
                params,
            )
            await db.execute(
                "INSERT INTO pass_edits (guild_id, user_id, video_id, pass, actor_id, at,"
                " note_before, link_before, note, link) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    user_id,
                    video_id,
                    pass_no,
                    actor_id,
                    to_db_time(now),
                    before[5],
                    before[6],
                    after[5],
                    after[6],
                ),
            )
        return _pass(before), _pass(after)

    async def edits_of(self, guild_id: int, user_id: int) -> list[tuple[str, int, int, str | None]]:
        """The member's note and link edits in order: (video, pass, who edited, note after)."""
        rows = await self.database.rows(
            "SELECT video_id, pass, actor_id, note FROM pass_edits"
            " WHERE guild_id = ? AND user_id = ? ORDER BY id",
            (guild_id, user_id),
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    async def spent_ratios(self, guild_id: int, pass_no: int) -> dict[str, tuple[float, int]]:
        """Per video: the sum of reported minutes of pass `pass_no` and how many reported it,
        among the server's passes (whoever logged them)."""
        rows = await self.database.rows(
            "SELECT video_id, sum(spent_minutes), count(*) FROM passes"
            " WHERE guild_id = ? AND pass = ? AND spent_minutes IS NOT NULL GROUP BY video_id",
            (guild_id, pass_no),
        )
        return {r[0]: (float(r[1]), int(r[2])) for r in rows}

    async def passes_of(self, guild_id: int, user_id: int) -> list[LoggedPass]:
        rows = await self.database.rows(
            f"SELECT {_PASS_READ} FROM passes WHERE guild_id = ? AND user_id = ?"
            " ORDER BY logged_at, video_id, pass",
            (guild_id, user_id),
        )
        return [_pass(row) for row in rows]

    async def history_of(self, guild_id: int, user_id: int) -> list[HistoryEntry]:
        rows = await self.database.rows(
            f"SELECT {_HISTORY_COLUMNS} FROM pass_history WHERE guild_id = ? AND user_id = ?"
            " ORDER BY id",
            (guild_id, user_id),
        )
        return [_history(r) for r in rows]

    async def active_members(self, guild_id: int) -> list[Member]:
        rows = await self.database.rows(
            f"SELECT {MEMBER_COLUMNS}"
            " FROM members WHERE guild_id = ? AND active = 1 ORDER BY joined_at, user_id",
            (guild_id,),
        )
        return [member_from_row(r) for r in rows]

    async def members_who_studied(self, guild_id: int, day: date) -> int:
        """How many active members logged a pass for `day` (their own calendar day)."""
        row = await self.database.row(
            "SELECT COUNT(DISTINCT p.user_id) FROM passes AS p"
            " JOIN members AS m ON m.guild_id = p.guild_id AND m.user_id = p.user_id"
            " WHERE p.guild_id = ? AND p.study_date = ? AND m.active = 1",
            (guild_id, day.isoformat()),
        )
        return int(row[0]) if row else 0

    async def erase_member(
        self,
        user_id: int,
        guild_id: int | None,
        then: Callable[[Connection, Mapping[int, str]], Awaitable[None]] | None = None,
    ) -> Erased:
        """Everything stored about a user in one server (every server when `guild_id` is
        None), and `then` (the other features' rows that name them, given the display name
        kept for them in each server), in one transaction. The totals follow from the passes'
        delete triggers."""
        async with self.database.transaction() as db:
            names = await _display_names(db, user_id, guild_id)
            erased = await _erase(db, user_id, guild_id)
            if then is not None:
                await then(db, names)
        return erased

    async def erase_server(self, guild_id: int) -> int:
        """Every member, pass, history entry and note edit of a server; returns the members
        erased."""
        async with self.database.transaction() as db:
            for table in ("passes", "pass_history", "pass_edits"):
                await db.execute(f"DELETE FROM {table} WHERE guild_id = ?", (guild_id,))
            cursor = await db.execute("DELETE FROM members WHERE guild_id = ?", (guild_id,))
            return max(cursor.rowcount, 0)

    async def export_rows(
        self, guild_id: int, user_id: int | None
    ) -> tuple[list[Member], list[LoggedPass], list[HistoryEntry], list[EditRow]]:
        """A member's rows in a server (or every member's), read in one snapshot."""
        who, params = (
            ("", (guild_id,))
            if user_id is None
            else (
                " AND user_id = ?",
                (guild_id, user_id),
            )
        )
        async with self.database.reading() as db:
            members = await fetch_all(
                db,
                f"SELECT {MEMBER_COLUMNS} FROM members WHERE guild_id = ?{who}"
                " ORDER BY joined_at, user_id",
                params,
            )
            passes = await fetch_all(
                db,
                f"SELECT {_PASS_READ} FROM passes"
                f" WHERE guild_id = ?{who} ORDER BY user_id, logged_at, video_id, pass",
                params,
            )
            history = await fetch_all(
                db,
                f"SELECT {_HISTORY_COLUMNS} FROM pass_history WHERE guild_id = ?{who} ORDER BY id",
                params,
            )
            edits = await fetch_all(
                db,
                "SELECT id, user_id, video_id, pass, actor_id, at, note_before, link_before,"
                f" note, link FROM pass_edits WHERE guild_id = ?{who} ORDER BY id",
                params,
            )
        return (
            [member_from_row(r) for r in members],
            [_pass(r) for r in passes],
            [_history(r) for r in history],
            [
                EditRow(r[0], r[1], r[2], r[3], r[4], from_db_time(r[5]), r[6], r[7], r[8], r[9])
                for r in edits
            ],
        )

    async def recredit(self, curriculum_id: str, minutes: dict[tuple[str, int], float]) -> int:
        """Give the passes (and their history) of every server on roadmap `curriculum_id` the
        points `minutes` says, after the roadmap's lengths changed; returns the passes changed.
        A pass on a video no longer on the roadmap is worth nothing, as in the time model."""
        changed = 0
        async with self.database.transaction() as db:
            for (video_id, pass_no), value in minutes.items():
                for table in ("passes", "pass_history"):
                    cursor = await db.execute(
                        f"UPDATE {table} SET minutes = ? WHERE video_id = ? AND pass = ?"
                        " AND minutes != ? AND guild_id IN"
                        " (SELECT guild_id FROM guild_settings WHERE curriculum_id = ?)",
                        (value, video_id, pass_no, value, curriculum_id),
                    )
                    if table == "passes":
                        changed += max(cursor.rowcount, 0)
            # Videos that left the roadmap are worth nothing, as in the time model.
            known = ", ".join("?" for _ in minutes) or "NULL"
            cursor = await db.execute(
                "UPDATE passes SET minutes = 0 WHERE minutes != 0"
                f" AND video_id || ':' || pass NOT IN ({known}) AND guild_id IN"
                " (SELECT guild_id FROM guild_settings WHERE curriculum_id = ?)",
                (*(f"{video}:{pass_no}" for video, pass_no in minutes), curriculum_id),
            )
            changed += max(cursor.rowcount, 0)
        return changed


# Who made a change, once that user's data was erased: the change stays in the other member's
# history, the name does not.
ERASED_ACTOR = 0


def _scope(guild_id: int | None) -> tuple[str, tuple[int, ...]]:
    return ("", ()) if guild_id is None else (" AND guild_id = ?", (guild_id,))


async def _display_names(db: Connection, user_id: int, guild_id: int | None) -> dict[int, str]:
    """The name kept for a user in each server (migration 0013), where one is."""
    where, extra = _scope(guild_id)
    rows = await fetch_all(
        db,
        "SELECT guild_id, display_name FROM members"
        f" WHERE user_id = ?{where} AND display_name IS NOT NULL",
        (user_id, *extra),
    )
    return {int(guild): str(name) for guild, name in rows}


async def _erase(db: Connection, user_id: int, guild_id: int | None) -> Erased:
    where, extra = _scope(guild_id)
    # The passes' delete trigger (migration 0009) takes the member off the kept totals too.
    cursor = await db.execute(f"DELETE FROM passes WHERE user_id = ?{where}", (user_id, *extra))
    passes = max(cursor.rowcount, 0)
    cursor = await db.execute(
        f"DELETE FROM pass_history WHERE user_id = ?{where}", (user_id, *extra)
    )
    history = max(cursor.rowcount, 0)
    # Their note and link corrections, with what the notes said before (migration 0011).
    cursor = await db.execute(f"DELETE FROM pass_edits WHERE user_id = ?{where}", (user_id, *extra))
    history += max(cursor.rowcount, 0)
    # Corrections they made to others' logs and notes: the entries, and the pass it logged.
    corrections = 0
    for table in ("pass_history", "pass_edits"):
        cursor = await db.execute(
            f"UPDATE {table} SET actor_id = ? WHERE actor_id = ?{where}",
            (ERASED_ACTOR, user_id, *extra),
        )
        corrections += max(cursor.rowcount, 0)
    await db.execute(
        f"UPDATE passes SET logged_by = ? WHERE logged_by = ?{where}",
        (ERASED_ACTOR, user_id, *extra),
    )
    cursor = await db.execute(f"DELETE FROM members WHERE user_id = ?{where}", (user_id, *extra))
    return Erased(max(cursor.rowcount, 0), passes, history, corrections)


def _credit_values(minutes: dict[tuple[str, int], float]) -> tuple[str, list[object]]:
    """A `credit(video_id, pass, minutes)` table for a WITH clause, and its parameters."""
    if not minutes:
        return "credit(video_id, pass, minutes) AS (SELECT NULL, NULL, NULL WHERE 0)", []
    rows = ", ".join("(?, ?, ?)" for _ in minutes)
    params: list[object] = []
    for (video_id, pass_no), value in minutes.items():
        params += [video_id, pass_no, value]
    return f"credit(video_id, pass, minutes) AS (VALUES {rows})", params


async def regrade_server(
    db: Connection,
    guild_id: int,
    minutes: dict[tuple[str, int], float],
    plan_starts: dict[str, date],
) -> int:
    """Inside the transaction that switches a server's roadmap: give its passes (and their
    history) the points `minutes` says, 0 for videos the roadmap lacks, and restart each
    member's plan on their day in `plan_starts` (by timezone) with the study they have on it.
    Returns how many members hold passes on videos the roadmap lacks."""
    credit, params = _credit_values(minutes)
    for table in ("passes", "pass_history"):
        await db.execute(
            f"WITH {credit} UPDATE {table} SET minutes = coalesce((SELECT c.minutes FROM credit"
            f" AS c WHERE c.video_id = {table}.video_id AND c.pass = {table}.pass), 0)"
            " WHERE guild_id = ?",
            (*params, guild_id),
        )
    members = await fetch_all(
        db, "SELECT user_id, timezone FROM members WHERE guild_id = ?", (guild_id,)
    )
    await db.executemany(
        "UPDATE members SET plan_start = ?, plan_credit = (SELECT coalesce(sum(minutes), 0)"
        " FROM passes WHERE guild_id = members.guild_id AND user_id = members.user_id)"
        " WHERE guild_id = ? AND user_id = ?",
        [(plan_starts[zone].isoformat(), guild_id, user) for user, zone in members],
    )
    row = await fetch_one(
        db,
        f"WITH {credit} SELECT count(DISTINCT p.user_id) FROM passes AS p"
        " WHERE p.guild_id = ? AND NOT EXISTS (SELECT 1 FROM credit AS c"
        " WHERE c.video_id = p.video_id AND c.pass = p.pass)",
        (*params, guild_id),
    )
    return int(row[0])


async def member_timezones(db: Connection, guild_id: int) -> list[str]:
    rows = await fetch_all(
        db, "SELECT DISTINCT timezone FROM members WHERE guild_id = ?", (guild_id,)
    )
    return [row[0] for row in rows]
