"""Queries behind the boards: points per member, the cohort's passes, and the credit table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.store.core import StoreCore, fetch_all, fetch_one, from_db_time
from curriculum import Curriculum, Pass


@dataclass(frozen=True, slots=True)
class BoardRow:
    user_id: int
    minutes: float  # estimated study minutes: the points
    passes: int
    reached_at: str  # when the member reached this score (ties go to whoever got there first)


@dataclass(frozen=True, slots=True)
class CohortPass:
    user_id: int
    video_id: str
    pass_no: int
    study_date: date


_BOARD_ALL_TIME = """
    SELECT t.user_id, t.minutes, t.passes, t.reached_at
    FROM member_points AS t
    JOIN members AS m ON m.guild_id = t.guild_id AND m.user_id = t.user_id AND m.active = 1
    WHERE t.guild_id = ?
    ORDER BY t.minutes DESC, t.reached_at ASC, t.user_id ASC
"""
_BOARD_WEEK = """
    SELECT t.user_id, t.minutes, t.passes, t.reached_at
    FROM member_week_points AS t
    JOIN members AS m ON m.guild_id = t.guild_id AND m.user_id = t.user_id AND m.active = 1
    WHERE t.guild_id = ? AND t.week = ?
    ORDER BY t.minutes DESC, t.reached_at ASC, t.user_id ASC
"""
# One page of a board, the caller's own line and the board's size, in one statement. The
# page is a LIMIT over the ordered totals and the caller's rank a count of who is ahead, so no
# per-member row reaches Python (a window over the whole board measured 2.5x slower).
_BOARD_PAGE = """
    WITH board AS (
        SELECT t.user_id, t.minutes, t.passes, t.reached_at
        FROM {table} AS t
        JOIN members AS m ON m.guild_id = t.guild_id AND m.user_id = t.user_id AND m.active = 1
        WHERE t.guild_id = :guild {week}
    ),
    me AS (SELECT minutes, reached_at, user_id FROM board WHERE user_id = :caller)
    SELECT 0, NULL, NULL, NULL, NULL, (SELECT count(*) FROM board)
    UNION ALL
    SELECT * FROM (
        SELECT :first - 1 + row_number() OVER (), user_id, minutes, passes, reached_at, NULL
        FROM (
            SELECT * FROM board ORDER BY minutes DESC, reached_at ASC, user_id ASC
            LIMIT :last - :first + 1 OFFSET :first - 1
        )
    )
    UNION ALL
    SELECT 1 + (
            SELECT count(*) FROM board AS ahead, me
            WHERE ahead.minutes > me.minutes
               OR (ahead.minutes = me.minutes AND (ahead.reached_at < me.reached_at
                   OR (ahead.reached_at = me.reached_at AND ahead.user_id < me.user_id)))
        ),
        user_id, minutes, passes, reached_at, NULL
    FROM board WHERE user_id = :caller
"""
_PAGE_ALL_TIME = _BOARD_PAGE.format(table="member_points", week="")
_PAGE_WEEK = _BOARD_PAGE.format(table="member_week_points", week="AND t.week = :week")

# Recompute the kept totals from every pass (migration 0007 keeps them current afterwards).
_REBUILD_TOTALS = (
    "DELETE FROM member_points",
    "DELETE FROM member_week_points",
    "INSERT INTO member_points (guild_id, user_id, minutes, passes, reached_at)"
    " SELECT guild_id, user_id, sum(minutes), count(*), max(logged_at)"
    " FROM pass_credit GROUP BY guild_id, user_id",
    "INSERT INTO member_week_points (guild_id, week, user_id, minutes, passes, reached_at)"
    " SELECT guild_id, week, user_id, sum(minutes), count(*), max(logged_at)"
    " FROM pass_credit GROUP BY guild_id, week, user_id",
)


class BoardQueries(StoreCore):
    async def sync_credits(self, curriculum: Curriculum) -> None:
        """Mirror the time model into SQL so boards can sum points in one query."""
        rows = [
            (curriculum.id, video.id, int(which), video.pass_minutes(which))
            for _, video in curriculum.videos()
            for which in Pass
        ]
        async with self.transaction() as db:
            stored = await fetch_all(
                db,
                "SELECT curriculum_id, video_id, pass, minutes FROM video_credit"
                " WHERE curriculum_id = ? ORDER BY video_id, pass",
                (curriculum.id,),
            )
            if sorted(stored) == sorted(rows):
                return  # the usual start-up: nothing to do
            await db.execute("DELETE FROM video_credit WHERE curriculum_id = ?", (curriculum.id,))
            await db.executemany("INSERT INTO video_credit VALUES (?, ?, ?, ?)", rows)
            # Lengths changed (or first start): the kept totals must follow the new credits.
            for statement in _REBUILD_TOTALS:
                await db.execute(statement)

    async def leaderboard(self, guild_id: int, week: date | None = None) -> list[BoardRow]:
        """Active members with at least one pass, by points then by who got there first: all
        time, or in the week starting on Monday `week`. Read from the kept totals."""
        params: tuple[object, ...]
        if week is None:
            sql, params = _BOARD_ALL_TIME, (guild_id,)
        else:
            sql, params = _BOARD_WEEK, (guild_id, week.isoformat())
        async with self._lock:
            rows = await fetch_all(self._db, sql, params)
        return [BoardRow(r[0], r[1], r[2], r[3]) for r in rows]

    async def board_page(
        self, guild_id: int, week: date | None, *, first: int, last: int, caller: int | None
    ) -> tuple[list[tuple[int, BoardRow]], int]:
        """Ranks `first`..`last` of a board (all time, or the week starting Monday `week`), plus
        the caller's own rank wherever it is, and how many are on the board."""
        params: dict[str, object] = {
            "guild": guild_id,
            "first": first,
            "last": last,
            "caller": caller,
        }
        sql = _PAGE_ALL_TIME
        if week is not None:
            sql, params["week"] = _PAGE_WEEK, week.isoformat()
        async with self._lock:
            rows = await fetch_all(self._db, sql, params)
        size = int(rows[0][5])
        # The caller's line comes twice when they are on the page itself.
        ranked = {r[0]: BoardRow(r[1], r[2], r[3], r[4]) for r in rows[1:]}
        return sorted(ranked.items()), size

    async def leaderboard_since(
        self, guild_id: int, curriculum_id: str, since: date
    ) -> list[BoardRow]:
        """Like `leaderboard`, over the passes studied on or after `since`, summed from the
        passes themselves (any window, not only calendar weeks)."""
        params = (curriculum_id, guild_id, since.isoformat())
        sql = """
            SELECT p.user_id, SUM(c.minutes) AS points, COUNT(*) AS n, MAX(p.logged_at) AS reached
            FROM passes AS p
            JOIN video_credit AS c
              ON c.curriculum_id = ? AND c.video_id = p.video_id AND c.pass = p.pass
            JOIN members AS m ON m.guild_id = p.guild_id AND m.user_id = p.user_id AND m.active = 1
            WHERE p.guild_id = ? AND p.study_date >= ?
            GROUP BY p.user_id
            ORDER BY points DESC, reached ASC, p.user_id ASC
        """
        async with self._lock:
            rows = await fetch_all(self._db, sql, params)
            return [BoardRow(r[0], r[1], r[2], r[3]) for r in rows]

    async def cohort_passes(
        self, guild_id: int
    ) -> tuple[list[tuple[int, datetime]], list[CohortPass]]:
        """Active members ((id, since when: joined or came back), by join order) and every
        pass they hold, in one snapshot."""
        async with self.reading() as db:
            rows = await fetch_all(
                db,
                "SELECT user_id, coalesce(active_since, joined_at) FROM members"
                " WHERE guild_id = ? AND active = 1"
                " ORDER BY joined_at, user_id",
                (guild_id,),
            )
            members = [(row[0], from_db_time(row[1])) for row in rows]
            rows = await fetch_all(
                db,
                "SELECT p.user_id, p.video_id, p.pass, p.study_date FROM passes AS p"
                " JOIN members AS m ON m.guild_id = p.guild_id AND m.user_id = p.user_id"
                " WHERE p.guild_id = ? AND m.active = 1",
                (guild_id,),
            )
            passes = [CohortPass(r[0], r[1], r[2], date.fromisoformat(r[3])) for r in rows]
        return members, passes

    async def get_state(self, key: str) -> str | None:
        async with self._lock:
            row = await fetch_one(self._db, "SELECT value FROM app_state WHERE key = ?", (key,))
        return str(row[0]) if row else None

    async def set_state(self, key: str, value: str) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO app_state (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
