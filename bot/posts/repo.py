"""The SQL of the outbox, owned by this feature: `posts` (one row a period: its reservation, state
and retry bookkeeping), `post_parts` (every message of a post, composed when it was reserved) and
`post_notes` (what admins should know, and whether they were told)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from bot.db import Connection, Database, fetch_all, fetch_one, from_db_time, to_db_time
from bot.pictures.checkin import alt_without
from bot.posts.messages import Composed, Outgoing

_POST_COLUMNS = (
    "guild_id, kind, period_key, nonce, reserved_at, due_at, channel_id, message_id, thread_id,"
    " parts_sent, posted_at, attempts, attempted_at, state, failures, next_try_at,"
    " window_start, window_end, thread_name, on_demand"
)
_KEY = "guild_id = ? AND kind = ? AND period_key = ?"
# What a stored post says instead of a mention of a member whose data was erased.
ERASED_MENTION = "someone"
# A check-in covers its days if it is still to be sent or any of it is out; one cancelled before
# anything went out leaves its days to the next check-in.
_COVERING = "kind = 'checkin' AND (state <> 'cancelled' OR message_id IS NOT NULL)"
_LAST_SEEN = "posts:last-seen"


def _shard_seen(shard: tuple[int, int]) -> str:
    return f"{_LAST_SEEN}:{shard[0]}/{shard[1]}"


@dataclass(frozen=True, slots=True)
class PostRecord:
    guild_id: int
    kind: str  # 'daily' or 'checkin'
    period_key: str  # the local date (daily), or a check-in's last day
    nonce: str
    reserved_at: datetime
    due_at: datetime | None
    channel_id: int | None  # where the first message went, once it went
    message_id: int | None  # the first message, once Discord accepted it
    thread_id: int | None  # where further parts go (the channel itself when no thread)
    parts_sent: int  # further parts out (the first message not counted)
    posted_at: datetime | None  # set once every part is out
    attempts: int = 0  # tries that failed (a 429 included)
    attempted_at: datetime | None = None  # the latest failed try
    state: str = "pending"  # pending, posted or cancelled (see the package's docstring)
    failures: int = 0  # failed tries that count toward giving up (429s do not)
    next_try_at: datetime | None = None
    window_start: date | None = None  # the days a check-in covers
    window_end: date | None = None
    thread_name: str | None = None
    # Asked for by an admin (`/checkin now`): the off switch, which is for the scheduled posts,
    # neither cancels it nor stops its retries.
    on_demand: bool = False

    @property
    def done(self) -> bool:
        return self.state != "pending"

    @property
    def key(self) -> tuple[int, str, str]:
        return self.guild_id, self.kind, self.period_key

    @property
    def due(self) -> datetime:
        return self.due_at or self.reserved_at


@dataclass(frozen=True, slots=True)
class PartRecord:
    part: int  # 1 is the first message
    body: Outgoing  # as sent, mark included
    state: str  # pending, sent or cancelled
    channel_id: int | None
    message_id: int | None


@dataclass(frozen=True, slots=True)
class Note:
    guild_id: int
    topic: str  # 'daily', 'checkin' or 'channel'
    text: str
    at: datetime


def _time(value: str | None) -> datetime | None:
    return from_db_time(value) if value else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _record(row: Any) -> PostRecord:
    return PostRecord(
        guild_id=row[0],
        kind=row[1],
        period_key=row[2],
        nonce=row[3],
        reserved_at=from_db_time(row[4]),
        due_at=_time(row[5]),
        channel_id=row[6],
        message_id=row[7],
        thread_id=row[8],
        parts_sent=row[9],
        posted_at=_time(row[10]),
        attempts=row[11],
        attempted_at=_time(row[12]),
        state=row[13],
        failures=row[14],
        next_try_at=_time(row[15]),
        window_start=_day(row[16]),
        window_end=_day(row[17]),
        thread_name=row[18],
        on_demand=bool(row[19]),
    )


async def _get(db: Connection, key: tuple[int, str, str]) -> PostRecord | None:
    row = await fetch_one(db, f"SELECT {_POST_COLUMNS} FROM posts WHERE {_KEY}", key)
    return _record(row) if row else None


async def _last_end(db: Connection, guild_id: int) -> date | None:
    row = await fetch_one(
        db, f"SELECT max(window_end) FROM posts WHERE guild_id = ? AND {_COVERING}", (guild_id,)
    )
    return _day(row[0]) if row else None


# A new note replaces the topic's older one; the admins are told again unless it says the same.
_NOTE = (
    "INSERT INTO post_notes (guild_id, topic, note, at, clears) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (guild_id, topic) DO UPDATE SET note = excluded.note, at = excluded.at,"
    " clears = excluded.clears,"
    " alerted_at = CASE WHEN post_notes.note = excluded.note THEN post_notes.alerted_at END"
)


class StaleWindow(Exception):
    """Another check-in was reserved since this one's window was worked out."""


class PostRepo:
    def __init__(self, database: Database) -> None:
        self.database = database

    # --- reserving ----------------------------------------------------------------------

    async def last_checkin_end(self, guild_id: int) -> date | None:
        """The last day covered by a check-in of the server (None before the first one)."""
        async with self.database.reading() as db:
            return await _last_end(db, guild_id)

    async def latest_checkin(self, guild_id: int) -> PostRecord | None:
        row = await self.database.row(
            f"SELECT {_POST_COLUMNS} FROM posts WHERE guild_id = ? AND {_COVERING}"
            " ORDER BY window_end DESC LIMIT 1",
            (guild_id,),
        )
        return _record(row) if row else None

    async def reserve(
        self,
        key: tuple[int, str, str],
        composed: Composed,
        *,
        nonce: str,
        due_at: datetime,
        now: datetime,
        next_try_at: datetime,
        window: tuple[date, date] | None = None,
        previous_end: date | None = None,
        on_demand: bool = False,
    ) -> tuple[PostRecord, bool]:
        """Claim a period and store every part of its post, in one transaction; returns the
        record and whether this call made it (a second claim gets the first one's record).

        A check-in's claim holds only if no other check-in was reserved since its window was
        worked out from `previous_end` (StaleWindow otherwise: work it out again)."""
        async with self.database.transaction() as db:
            existing = await _get(db, key)
            if existing is not None:
                return existing, False
            if window is not None and await _last_end(db, key[0]) != previous_end:
                raise StaleWindow(key)
            await db.execute(
                "INSERT INTO posts (guild_id, kind, period_key, nonce, reserved_at, due_at,"
                " next_try_at, window_start, window_end, thread_name, on_demand)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *key,
                    nonce,
                    to_db_time(now),
                    to_db_time(due_at),
                    to_db_time(next_try_at),
                    window[0].isoformat() if window else None,
                    window[1].isoformat() if window else None,
                    composed.thread_name,
                    int(on_demand),
                ),
            )
            await db.executemany(
                "INSERT INTO post_parts (guild_id, kind, period_key, part, body, file)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (*key, number, message.to_json(), message.file.data if message.file else None)
                    for number, message in enumerate(composed.messages, start=1)
                ],
            )
            record = await _get(db, key)
        assert record is not None
        return record, True

    # --- reading --------------------------------------------------------------------------

    async def post_record(self, guild_id: int, kind: str, period_key: str) -> PostRecord | None:
        row = await self.database.row(
            f"SELECT {_POST_COLUMNS} FROM posts WHERE {_KEY}", (guild_id, kind, period_key)
        )
        return _record(row) if row else None

    async def parts(self, key: tuple[int, str, str]) -> list[PartRecord]:
        rows = await self.database.rows(
            "SELECT part, body, state, channel_id, message_id, file FROM post_parts"
            f" WHERE {_KEY} ORDER BY part",
            key,
        )
        return [PartRecord(r[0], Outgoing.from_json(r[1], r[5]), r[2], r[3], r[4]) for r in rows]

    async def pending_posts(
        self, *, due_by: datetime | None = None, guild_id: int | None = None
    ) -> list[PostRecord]:
        """Posts with parts still to send: all of them, those whose next try has come
        (`due_by`), or one server's."""
        sql = f"SELECT {_POST_COLUMNS} FROM posts WHERE state = 'pending'"
        params: list[object] = []
        if due_by is not None:
            sql += " AND coalesce(next_try_at, '') <= ?"
            params.append(to_db_time(due_by))
        if guild_id is not None:
            sql += " AND guild_id = ?"
            params.append(guild_id)
        rows = await self.database.rows(sql + " ORDER BY reserved_at, guild_id", tuple(params))
        return [_record(row) for row in rows]

    async def unsent_posts(self) -> list[PostRecord]:
        return await self.pending_posts()

    # --- delivering -----------------------------------------------------------------------

    async def part_sent(
        self,
        key: tuple[int, str, str],
        part: int,
        channel_id: int,
        message_id: int,
        now: datetime,
    ) -> PostRecord:
        """Record one message as soon as Discord accepted it; the post is posted with its last."""
        async with self.database.transaction() as db:
            await db.execute(
                "UPDATE post_parts SET state = 'sent', channel_id = ?, message_id = ?, sent_at = ?"
                f" WHERE {_KEY} AND part = ?",
                (channel_id, message_id, to_db_time(now), *key, part),
            )
            if part == 1:
                await db.execute(
                    f"UPDATE posts SET channel_id = ?, message_id = ? WHERE {_KEY}",
                    (channel_id, message_id, *key),
                )
            else:
                await db.execute(
                    f"UPDATE posts SET parts_sent = ? WHERE {_KEY} AND parts_sent < ?",
                    (part - 1, *key, part - 1),
                )
            await db.execute(
                "UPDATE posts SET state = 'posted', posted_at = ?, next_try_at = NULL"
                f" WHERE {_KEY} AND state = 'pending' AND NOT EXISTS (SELECT 1 FROM post_parts AS p"
                " WHERE p.guild_id = posts.guild_id AND p.kind = posts.kind"
                " AND p.period_key = posts.period_key AND p.state = 'pending')",
                (to_db_time(now), *key),
            )
            record = await _get(db, key)
        assert record is not None
        return record

    async def set_thread(self, key: tuple[int, str, str], thread_id: int) -> PostRecord:
        async with self.database.transaction() as db:
            await db.execute(f"UPDATE posts SET thread_id = ? WHERE {_KEY}", (thread_id, *key))
            record = await _get(db, key)
        assert record is not None
        return record

    async def tried(
        self, key: tuple[int, str, str], now: datetime, next_try_at: datetime, *, failed: bool
    ) -> None:
        """A try that did not finish the post; `failed` counts it toward giving up."""
        async with self.database.transaction() as db:
            await db.execute(
                "UPDATE posts SET attempts = attempts + 1, attempted_at = ?,"
                f" failures = failures + ?, next_try_at = ? WHERE {_KEY} AND state = 'pending'",
                (to_db_time(now), int(failed), to_db_time(next_try_at), *key),
            )

    async def cancel(
        self,
        key: tuple[int, str, str],
        now: datetime,
        note: tuple[str, str, str] | None = None,
    ) -> None:
        """The rest of a post will never be sent; with `note` (topic, text, what clears it),
        leave it for the admins."""
        async with self.database.transaction() as db:
            await self._cancel(db, key, now)
            if note is not None:
                topic, text, clears = note
                await db.execute(_NOTE, (key[0], topic, text, to_db_time(now), clears))

    async def cancel_kind(self, guild_id: int, kind: str, now: datetime) -> int:
        """The off switch: cancel the server's pending scheduled posts of `kind` (one an admin
        asked for still goes out); returns how many."""
        async with self.database.transaction() as db:
            rows = await fetch_all(
                db,
                "SELECT period_key FROM posts WHERE guild_id = ? AND kind = ?"
                " AND state = 'pending' AND on_demand = 0",
                (guild_id, kind),
            )
            for row in rows:
                await self._cancel(db, (guild_id, kind, row[0]), now)
        return len(rows)

    @staticmethod
    async def _cancel(db: Connection, key: tuple[int, str, str], now: datetime) -> None:
        await db.execute(
            f"UPDATE post_parts SET state = 'cancelled' WHERE {_KEY} AND state = 'pending'", key
        )
        await db.execute(
            "UPDATE posts SET state = 'cancelled', posted_at = coalesce(posted_at, ?),"
            f" next_try_at = NULL WHERE {_KEY} AND state = 'pending'",
            (to_db_time(now), *key),
        )

    # --- signs of life ---------------------------------------------------------------------

    # Processes sharing the database each judge their own downtime, so a process keeps a row per
    # shard it runs (`posts:last-seen:<id>/<count>`; none when Discord picks the count). Every
    # process also keeps the one row of the whole bot, `posts:last-seen`: a process with no
    # known count reads only it, and it stands in for shards without a row of their own
    # (databases from before, a new shard count), as the latest sign of any process: never too
    # early to alert.

    async def seen(self, now: datetime, shards: Collection[tuple[int, int]] = ()) -> None:
        """A sign of life of the bot and of each (shard id, shard count) this process runs."""
        async with self.database.transaction() as db:
            for key in (_LAST_SEEN, *(_shard_seen(shard) for shard in shards)):
                await db.execute(
                    "INSERT INTO app_state (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, to_db_time(now)),
                )

    async def last_seen(self, shards: Collection[tuple[int, int]] = ()) -> datetime | None:
        """When these shards (none: the whole bot) were last seen running: the oldest of them.
        A shard without a row reads the bot's; with neither (nothing ever ran here), None: as if
        set up after the fact, so nothing is told rather than told falsely."""
        bot = await self.database.get_state(_LAST_SEEN)
        if not shards:
            return from_db_time(bot) if bot else None
        seen = [await self.database.get_state(_shard_seen(shard)) or bot for shard in shards]
        known = [from_db_time(value) for value in seen if value]
        return min(known) if known else None

    # --- notes for admins -------------------------------------------------------------------

    async def add_note(
        self, guild_id: int, topic: str, text: str, clears: str, now: datetime
    ) -> None:
        async with self.database.transaction() as db:
            await db.execute(_NOTE, (guild_id, topic, text, to_db_time(now), clears))

    async def clear_notes(self, guild_id: int, topic: str, clears: str) -> None:
        async with self.database.transaction() as db:
            await db.execute(
                "DELETE FROM post_notes WHERE guild_id = ? AND topic = ? AND clears = ?",
                (guild_id, topic, clears),
            )

    async def post_notes(self, guild_id: int) -> list[str]:
        rows = await self.database.rows(
            "SELECT note FROM post_notes WHERE guild_id = ? ORDER BY topic", (guild_id,)
        )
        return [str(row[0]) for row in rows]

    async def untold(self) -> list[Note]:
        rows = await self.database.rows(
            "SELECT guild_id, topic, note, at FROM post_notes WHERE alerted_at IS NULL"
            " ORDER BY at, guild_id"
        )
        return [Note(r[0], r[1], r[2], from_db_time(r[3])) for r in rows]

    async def told(self, note: Note, now: datetime) -> None:
        async with self.database.transaction() as db:
            await db.execute(
                "UPDATE post_notes SET alerted_at = ? WHERE guild_id = ? AND topic = ? AND at = ?",
                (to_db_time(now), note.guild_id, note.topic, to_db_time(note.at)),
            )

    async def forget_member(
        self, db: Connection, user_id: int, guild_id: int | None, names: Mapping[int, str]
    ) -> None:
        """Inside the transaction that erases a member: the stored parts of posts (sent or
        not) no longer mention them. A check-in composed before names them; the copy kept here
        says "someone" instead, and so does a part still to be sent. A message already in a
        channel is the server's and stays as it was.

        The check-in's chart draws members by the name kept for them in each server (`names`):
        its alt text says "someone" instead too. The picture draws the name and cannot be
        edited: a part already out (or never to go) keeps no copy of it, and one still to be
        sent goes without it, its numbers still in words."""
        mention = f"<@{user_id}>"
        where, params = ("", ()) if guild_id is None else (" AND guild_id = ?", (guild_id,))
        await db.execute(
            # replace() rather than SQLite's instr(): both engines have it, and it matches the
            # mention exactly (LIKE would take a `_` in it as a wildcard).
            "UPDATE post_parts SET body = replace(body, ?, ?)"
            f" WHERE replace(body, ?, '') <> body{where}",
            (mention, ERASED_MENTION, mention, *params),
        )
        if not names:
            return
        pictured = await fetch_all(
            db,
            "SELECT guild_id, kind, period_key, part, body, file, state FROM post_parts"
            f" WHERE file IS NOT NULL{where}",
            params,
        )
        for guild, kind, period_key, part, body, data, state in pictured:
            name = names.get(guild)
            message = Outgoing.from_json(body, data)
            if name is None or message.file is None:
                continue
            alt = alt_without(message.file.description, name, ERASED_MENTION)
            if alt == message.file.description:
                continue
            kept = (
                message.without_file()
                if state == "pending"
                else replace(message, file=replace(message.file, description=alt))
            )
            await db.execute(
                f"UPDATE post_parts SET body = ?, file = NULL WHERE {_KEY} AND part = ?",
                (kept.to_json(), guild, kind, period_key, part),
            )

    async def erase_server(self, guild_id: int) -> None:
        """Every post, stored part and note of a server the bot left long ago."""
        async with self.database.transaction() as db:
            for table in ("post_parts", "posts", "post_notes"):
                await db.execute(f"DELETE FROM {table} WHERE guild_id = ?", (guild_id,))
