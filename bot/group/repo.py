"""The SQL of the kept totals (`member_points`, `member_week_points`), which this feature owns;
the triggers on `passes` (migration 0009) keep them current. Reads of members and passes for the
group's views are here too."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from bot.db import Connection, Database, fetch_all, from_db_time
from bot.group.board import BoardRow, CohortPass, Totals
from bot.timekeeping import week_start

# The one board order: most points first, then whoever reached the score first, then by id;
# written as the board indexes hold it (migration 0014), so SQLite reads a page straight off the
# index instead of sorting the server.
BOARD_ORDER = "minutes DESC, reached_at, user_id"

# One page of a board, the caller's own line and the board's size, in one statement, each part
# an index read: the page a LIMIT over the board index, the size a kept counter, the caller's
# rank a count of the index range ahead of them (more minutes; or as many, reached earlier). No
# step sorts or reads a whole server's board.
_BOARD_PAGE = f"""
    WITH me AS (
        SELECT user_id, minutes, passes, reached_at FROM {{table}}
        WHERE guild_id = :guild {{week}} AND user_id = :caller AND active = 1
    )
    SELECT 0, NULL, NULL, NULL, NULL, coalesce((
        SELECT members FROM board_sizes WHERE guild_id = :guild AND week = :board
    ), 0)
    UNION ALL
    SELECT * FROM (
        SELECT :first - 1 + row_number() OVER (), user_id, minutes, passes, reached_at,
               CAST(NULL AS BIGINT)
        FROM (
            SELECT user_id, minutes, passes, reached_at FROM {{table}}
            WHERE guild_id = :guild {{week}} AND active = 1
            ORDER BY {BOARD_ORDER}
            LIMIT :last - :first + 1 OFFSET :first - 1
        ) AS ordered
    ) AS page
    UNION ALL
    SELECT 1 + (
            SELECT count(*) FROM {{table}} AS ahead
            WHERE ahead.guild_id = :guild {{ahead_week}} AND ahead.active = 1
              AND ahead.minutes > me.minutes
        ) + (
            SELECT count(*) FROM {{table}} AS ahead
            WHERE ahead.guild_id = :guild {{ahead_week}} AND ahead.active = 1
              AND ahead.minutes = me.minutes
              AND (ahead.reached_at, ahead.user_id) < (me.reached_at, me.user_id)
        ),
        user_id, minutes, passes, reached_at, NULL
    FROM me
"""
_PAGE_ALL_TIME = _BOARD_PAGE.format(table="member_points", week="", ahead_week="")
_PAGE_WEEK = _BOARD_PAGE.format(
    table="member_week_points", week="AND week = :week", ahead_week="AND ahead.week = :week"
)

# The kept totals, recomputed from the passes' own points.
# (Each total takes its member's standing; the board sizes follow by trigger.)
_ACTIVE = (
    "coalesce((SELECT m.active FROM members AS m"
    " WHERE m.guild_id = p.guild_id AND m.user_id = p.user_id), 0)"
)
_REBUILD_TOTALS = (
    "DELETE FROM member_points",
    "DELETE FROM member_week_points",
    "DELETE FROM board_sizes",
    "INSERT INTO member_points (guild_id, user_id, minutes, passes, reached_at, active)"
    f" SELECT guild_id, user_id, sum(minutes), count(*), max(logged_at), {_ACTIVE}"
    " FROM passes AS p GROUP BY guild_id, user_id",
    "INSERT INTO member_week_points (guild_id, week, user_id, minutes, passes, reached_at,"
    f" active) SELECT guild_id, week, user_id, sum(minutes), count(*), max(logged_at), {_ACTIVE}"
    " FROM passes AS p GROUP BY guild_id, week, user_id",
)


async def rebuild_server_totals(db: Connection, guild_id: int) -> None:
    """One server's kept totals from its passes' points, inside the caller's transaction (the
    switch of its roadmap, which changed them)."""
    for statement in _REBUILD_TOTALS:
        where = " WHERE guild_id = ?"
        if statement.startswith("DELETE"):
            await db.execute(statement + where, (guild_id,))
        else:
            head, group_by = statement.split(" GROUP BY ")
            await db.execute(f"{head}{where} GROUP BY {group_by}", (guild_id,))


class GroupRepo:
    def __init__(self, database: Database) -> None:
        self.database = database

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
            "board": "",  # the all-time board's key among the kept sizes
        }
        sql = _PAGE_ALL_TIME
        if week is not None:
            sql, params["week"] = _PAGE_WEEK, week.isoformat()
            params["board"] = params["week"]
        rows = await self.database.rows(sql, params)
        size = int(rows[0][5])
        # The caller's line comes twice when they are on the page itself.
        ranked = {r[0]: BoardRow(r[1], r[2], r[3], r[4]) for r in rows[1:]}
        return sorted(ranked.items()), size

    async def cohort_passes(
        self, guild_id: int
    ) -> tuple[list[tuple[int, datetime]], list[CohortPass]]:
        """Active members ((id, since when: joined or came back), by join order) and every
        pass they hold, in one snapshot."""
        async with self.database.reading() as db:
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
                "SELECT p.user_id, p.video_id, p.pass, p.study_date, p.minutes, p.logged_at,"
                " p.week"
                " FROM passes AS p"
                " JOIN members AS m ON m.guild_id = p.guild_id AND m.user_id = p.user_id"
                " WHERE p.guild_id = ? AND m.active = 1",
                (guild_id,),
            )
            passes = [
                CohortPass(r[0], r[1], r[2], date.fromisoformat(r[3]), r[4], r[5], r[6])
                for r in rows
            ]
        return members, passes

    async def names(self, guild_id: int) -> dict[int, str]:
        """The display names active members last gave (at /join), for pictures."""
        rows = await self.database.rows(
            "SELECT user_id, display_name FROM members"
            " WHERE guild_id = ? AND active = 1 AND display_name IS NOT NULL",
            (guild_id,),
        )
        return {row[0]: row[1] for row in rows}

    async def rebuild_totals(self) -> None:
        async with self.database.transaction() as db:
            for statement in _REBUILD_TOTALS:
                await db.execute(statement)

    async def kept_totals(self) -> tuple[list[Totals], list[Totals]]:
        """Every kept total: all time (week None), then per week."""
        async with self.database.reading() as db:
            all_time = await fetch_all(
                db, "SELECT guild_id, NULL, user_id, minutes, passes FROM member_points"
            )
            weekly = await fetch_all(
                db, "SELECT guild_id, week, user_id, minutes, passes FROM member_week_points"
            )
        return _totals(all_time), _totals(weekly)

    async def history(self) -> list[tuple[int, int, str, int, str, date, float]]:
        """Every history entry in order: (guild, user, video, pass, action, the Monday of the
        week it counted in, points). Entries from before weeks were stored count in the week of
        their study day."""
        rows = await self.database.rows(
            "SELECT guild_id, user_id, video_id, pass, action, study_date, minutes, week"
            " FROM pass_history ORDER BY id"
        )
        return [
            (
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                date.fromisoformat(r[7]) if r[7] else week_start(date.fromisoformat(r[5])),
                r[6],
            )
            for r in rows
        ]


def _totals(rows: Sequence[tuple[int, str | None, int, float, int]]) -> list[Totals]:
    return [
        Totals(r[0], date.fromisoformat(r[1]) if r[1] else None, r[2], r[3], r[4]) for r in rows
    ]
