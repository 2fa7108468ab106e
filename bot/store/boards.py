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


class BoardQueries(StoreCore):
    async def sync_credits(self, curriculum: Curriculum) -> None:
        """Mirror the time model into SQL so boards can sum points in one query."""
        rows = [
            (curriculum.id, video.id, int(which), video.pass_minutes(which))
            for _, video in curriculum.videos()
            for which in Pass
        ]
        async with self.transaction() as db:
            await db.execute("DELETE FROM video_credit WHERE curriculum_id = ?", (curriculum.id,))
            await db.executemany("INSERT INTO video_credit VALUES (?, ?, ?, ?)", rows)

    async def leaderboard(
        self, guild_id: int, curriculum_id: str, since: date | None = None
    ) -> list[BoardRow]:
        """Active members with at least one pass, by points, then by who got there first."""
        window = "AND p.study_date >= ?" if since else ""
        params: tuple[object, ...] = (curriculum_id, guild_id)
        if since:
            params += (since.isoformat(),)
        sql = f"""
            SELECT p.user_id, SUM(c.minutes) AS points, COUNT(*) AS n, MAX(p.logged_at) AS reached
            FROM passes AS p
            JOIN video_credit AS c
              ON c.curriculum_id = ? AND c.video_id = p.video_id AND c.pass = p.pass
            JOIN members AS m ON m.guild_id = p.guild_id AND m.user_id = p.user_id AND m.active = 1
            WHERE p.guild_id = ? {window}
            GROUP BY p.user_id
            ORDER BY points DESC, reached ASC, p.user_id ASC
        """
        async with self._lock:
            rows = await fetch_all(self._db, sql, params)
            return [BoardRow(r[0], r[1], r[2], r[3]) for r in rows]

    async def cohort_passes(
        self, guild_id: int
    ) -> tuple[list[tuple[int, datetime]], list[CohortPass]]:
        """Active members ((id, joined at), by join order) and every pass they hold, in one
        snapshot."""
        async with self.reading() as db:
            rows = await fetch_all(
                db,
                "SELECT user_id, joined_at FROM members WHERE guild_id = ? AND active = 1"
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
