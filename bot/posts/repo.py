"""The SQL of `posts` (reservations that make each post happen exactly once) and `post_notes`
(what admins should know about a post that was turned off or given up), owned by this feature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db import Database, fetch_all, fetch_one, from_db_time, to_db_time

_POST_COLUMNS = (
    "guild_id, kind, period_key, nonce, reserved_at, due_at, channel_id, message_id, thread_id,"
    " parts_sent, posted_at, attempts, attempted_at"
)
_NOTE = (
    "INSERT INTO post_notes (guild_id, kind, note, at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (guild_id, kind) DO UPDATE SET note = excluded.note, at = excluded.at"
)


@dataclass(frozen=True, slots=True)
class PostRecord:
    guild_id: int
    kind: str  # 'daily' or 'checkin'
    period_key: str  # the local date (daily) or ISO week (check-in) the post is for
    nonce: str
    reserved_at: datetime
    due_at: datetime | None
    channel_id: int | None
    message_id: int | None  # the first message, once Discord accepted it
    thread_id: int | None  # where further parts go (the channel itself when no thread)
    parts_sent: int
    posted_at: datetime | None  # set once every part is out
    attempts: int = 0  # how many times the post was tried, the first try included
    attempted_at: datetime | None = None  # the latest try

    @property
    def done(self) -> bool:
        return self.posted_at is not None

    @property
    def last_attempt(self) -> datetime:
        return self.attempted_at or self.reserved_at


def _record(row: Any) -> PostRecord:
    return PostRecord(
        guild_id=row[0],
        kind=row[1],
        period_key=row[2],
        nonce=row[3],
        reserved_at=from_db_time(row[4]),
        due_at=from_db_time(row[5]) if row[5] else None,
        channel_id=row[6],
        message_id=row[7],
        thread_id=row[8],
        parts_sent=row[9],
        posted_at=from_db_time(row[10]) if row[10] else None,
        attempts=row[11],
        attempted_at=from_db_time(row[12]) if row[12] else None,
    )


class PostRepo:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def reserve_post(
        self,
        guild_id: int,
        kind: str,
        period_key: str,
        *,
        nonce: str,
        channel_id: int,
        due_at: datetime,
        now: datetime,
    ) -> tuple[PostRecord, bool]:
        """Claim (guild, kind, period) before sending, or count one more try of an unfinished
        claim; returns the record and whether this is its first try.

        A second claim of the same period gets the first one's record (and its nonce) back.
        """
        key = (guild_id, kind, period_key)
        async with self.database.transaction() as db:
            rows = await fetch_all(
                db,
                "INSERT INTO posts (guild_id, kind, period_key, nonce, reserved_at, due_at,"
                " channel_id, attempts, attempted_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)"
                " ON CONFLICT (guild_id, kind, period_key) DO UPDATE"
                " SET attempts = posts.attempts + 1, attempted_at = excluded.attempted_at"
                " WHERE posts.posted_at IS NULL"
                f" RETURNING {_POST_COLUMNS}",
                (*key, nonce, to_db_time(now), to_db_time(due_at), channel_id, to_db_time(now)),
            )
            row = rows[0] if rows else None
            if row:
                record = _record(row)
                return record, record.attempts == 1
            row = await fetch_one(
                db,
                f"SELECT {_POST_COLUMNS} FROM posts"
                " WHERE guild_id = ? AND kind = ? AND period_key = ?",
                key,
            )
        assert row is not None
        return _record(row), False

    async def post_record(self, guild_id: int, kind: str, period_key: str) -> PostRecord | None:
        row = await self.database.row(
            f"SELECT {_POST_COLUMNS} FROM posts WHERE guild_id = ? AND kind = ? AND period_key = ?",
            (guild_id, kind, period_key),
        )
        return _record(row) if row else None

    async def post_progress(
        self,
        guild_id: int,
        kind: str,
        period_key: str,
        *,
        message_id: int | None = None,
        thread_id: int | None = None,
        parts_sent: int | None = None,
    ) -> None:
        """Record one step of a post as soon as Discord accepted it (None leaves a value as is)."""
        async with self.database.transaction() as db:
            await db.execute(
                "UPDATE posts SET message_id = coalesce(?, message_id),"
                " thread_id = coalesce(?, thread_id), parts_sent = coalesce(?, parts_sent)"
                " WHERE guild_id = ? AND kind = ? AND period_key = ?",
                (message_id, thread_id, parts_sent, guild_id, kind, period_key),
            )

    async def finish_post(self, guild_id: int, kind: str, period_key: str, now: datetime) -> None:
        async with self.database.transaction() as db:
            await db.execute(
                "UPDATE posts SET posted_at = ? WHERE guild_id = ? AND kind = ? AND period_key = ?",
                (to_db_time(now), guild_id, kind, period_key),
            )

    async def unsent_posts(self) -> list[PostRecord]:
        """Reservations whose post is not (completely) out: a crash or an error stopped them."""
        rows = await self.database.rows(
            f"SELECT {_POST_COLUMNS} FROM posts WHERE posted_at IS NULL"
            " ORDER BY reserved_at, guild_id",
        )
        return [_record(row) for row in rows]

    async def drop_post(self, guild_id: int, kind: str, period_key: str) -> None:
        """Forget an unsent reservation (never a sent post)."""
        async with self.database.transaction() as db:
            await db.execute(
                "DELETE FROM posts WHERE guild_id = ? AND kind = ? AND period_key = ?"
                " AND posted_at IS NULL",
                (guild_id, kind, period_key),
            )

    async def disable_post(self, guild_id: int, kind: str, note: str, now: datetime) -> None:
        """After a fault that turns a kind of post off: leave admins a note, and forget its
        unsent reservations (so it can be posted again once an admin has fixed the channel).
        The switch itself is the server's setting, turned off next by the publisher."""
        async with self.database.transaction() as db:
            await db.execute(_NOTE, (guild_id, kind, note, to_db_time(now)))
            await db.execute(
                "DELETE FROM posts WHERE guild_id = ? AND kind = ? AND posted_at IS NULL"
                " AND message_id IS NULL",
                (guild_id, kind),
            )

    async def give_up_post(
        self, guild_id: int, kind: str, period_key: str, note: str, now: datetime
    ) -> None:
        """Stop retrying a partly sent post: keep it as its period's post (so it is never sent
        again) and leave admins a note."""
        async with self.database.transaction() as db:
            await db.execute(
                "UPDATE posts SET posted_at = ? WHERE guild_id = ? AND kind = ? AND period_key = ?",
                (to_db_time(now), guild_id, kind, period_key),
            )
            await db.execute(_NOTE, (guild_id, kind, note, to_db_time(now)))

    async def post_notes(self, guild_id: int) -> list[str]:
        rows = await self.database.rows(
            "SELECT note FROM post_notes WHERE guild_id = ? ORDER BY kind",
            (guild_id,),
        )
        return [str(row[0]) for row in rows]

    async def clear_post_note(self, guild_id: int, kind: str) -> None:
        async with self.database.transaction() as db:
            await db.execute(
                "DELETE FROM post_notes WHERE guild_id = ? AND kind = ?", (guild_id, kind)
            )

    async def erase_server(self, guild_id: int) -> None:
        """Every post and note of a server the bot left long ago."""
        async with self.database.transaction() as db:
            for table in ("posts", "post_notes"):
                await db.execute(f"DELETE FROM {table} WHERE guild_id = ?", (guild_id,))
