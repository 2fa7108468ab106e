"""The gateway: HELLO, IDENTIFY/READY per shard, heartbeats, dispatch with sequence numbers
to the shard of each event's guild, RESUME."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from .model import JSON, World

HEARTBEAT_INTERVAL_MS = 41250
# Discord's limits: a shard may carry at most 2,500 guilds (close code 4011 past that), it
# recommends a shard per 1,000, and lets max_concurrency shards identify per 5 seconds.
MAX_GUILDS_PER_SHARD = 2500
RECOMMENDED_GUILDS_PER_SHARD = 1000
IDENTIFY_INTERVAL = 5.0
SESSION_START_TOTAL = 1000
DAY_MS = 86_400_000


class Op:
    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    PRESENCE_UPDATE = 3
    VOICE_STATE_UPDATE = 4
    RESUME = 6
    RECONNECT = 7
    REQUEST_GUILD_MEMBERS = 8
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that carries a guild: Discord's ``(guild_id >> 22) % shard_count``."""
    return (guild_id >> 22) % shard_count


def guild_of(event: str, data: JSON) -> int | None:
    """The guild an event belongs to, or None (DMs, the bot's own user): it decides the shard."""
    if event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"):
        raw = data.get("id")
    else:
        raw = data.get("guild_id")
    return None if raw is None else int(raw)


@dataclass(eq=False)
class _Connection:
    ws: web.WebSocketResponse
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)


@dataclass(eq=False)
class Session:
    """One shard's session: its own sequence numbers, history for RESUME and guilds."""

    id: str
    shard_id: int
    shard_count: int
    intents: int
    live: _Connection | None = None
    seq: int = 0
    history: list[tuple[int, str]] = field(default_factory=list)
    # Guilds whose events this session carried (READY's and those created since).
    guild_ids: set[int] = field(default_factory=set)

    def carries(self, guild_id: int) -> bool:
        return shard_of(guild_id, self.shard_count) == self.shard_id


class Gateway:
    """The gateway: one session per shard; an event goes to the session of its guild's shard
    (DMs and events without a guild to shard 0), and events sent while a shard is between
    sockets are replayed on its RESUME.

    Like Discord, an IDENTIFY whose shard would carry more than ``max_guilds_per_shard`` guilds
    is closed with 4011 (sharding required), an invalid ``shard`` with 4010, and only
    ``max_concurrency`` shards (those with different ``shard_id % max_concurrency``) may
    identify per ``identify_interval`` seconds: a shard identifying too soon after another of
    its bucket is recorded as a problem and answered INVALID_SESSION.
    """

    def __init__(
        self,
        world: World,
        token: str,
        report: Callable[[str], None],
        notify: Callable[[], None],
        *,
        max_guilds_per_shard: int = MAX_GUILDS_PER_SHARD,
        max_concurrency: int = 1,
        identify_interval: float = IDENTIFY_INTERVAL,
        session_start_total: int = SESSION_START_TOTAL,
    ) -> None:
        if max_guilds_per_shard < 1 or max_concurrency < 1 or identify_interval < 0:
            raise ValueError(
                "max_guilds_per_shard and max_concurrency must be at least 1, "
                "identify_interval at least 0"
            )
        self.world = world
        self.token = token
        self._report = report
        self._notify = notify
        self.max_guilds_per_shard = max_guilds_per_shard
        self.max_concurrency = max_concurrency
        self.identify_interval = identify_interval
        self.session_start_total = session_start_total
        self.session_starts = 0
        self._started = time.monotonic()
        self.url = ""
        self.intents = 0
        self.identify_count = 0
        self.resume_count = 0
        self.replayed_count = 0
        # (time.monotonic(), shard_id, shard_count) of every IDENTIFY that started a session.
        self.identifies: list[tuple[float, int, int]] = []
        self.sessions: dict[int, Session] = {}
        self._last_identify: dict[int, float] = {}
        self._connections: set[_Connection] = set()

    # ---- state -------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True once every shard's current socket has been identified or resumed."""
        return bool(self.sessions) and all(s.live is not None for s in self.sessions.values())

    @property
    def shard_count(self) -> int | None:
        """The shard count the client identified with (None before it did)."""
        return next(iter(self.sessions.values())).shard_count if self.sessions else None

    @property
    def session_id(self) -> str | None:
        """Shard 0's session (the only one of an unsharded client)."""
        session = self.sessions.get(0)
        return None if session is None else session.id

    def session_start_limit(self) -> JSON:
        """GET /gateway/bot's ``session_start_limit``: identifies left today, and the buckets."""
        elapsed_ms = int((time.monotonic() - self._started) * 1000)
        return {
            "total": self.session_start_total,
            "remaining": max(0, self.session_start_total - self.session_starts),
            "reset_after": max(0, DAY_MS - elapsed_ms),
            "max_concurrency": self.max_concurrency,
        }

    def shard_guilds(self, shard_id: int, shard_count: int) -> list[int]:
        """The guilds a shard carries, in the order they were created."""
        return [g for g in self.world.guilds if shard_of(g, shard_count) == shard_id]

    def session_for(self, guild_id: int | None) -> Session | None:
        """The session an event of ``guild_id`` goes to (shard 0 for None)."""
        if guild_id is None:
            return self.sessions.get(0)
        carriers = [s for s in self.sessions.values() if s.carries(guild_id)]
        # Live sessions first: another client may have left one of the same shard behind.
        return min(carriers, key=lambda s: s.live is None, default=None)

    # ---- sending -------------------------------------------------------------------------

    def dispatch(self, event: str, data: JSON) -> None:
        """Sends an event on its shard now, or keeps it for replay if that shard is between
        sockets. Nothing is sent to a shard nobody identified: the READY/GUILD_CREATE snapshot
        of a later IDENTIFY carries that state."""
        guild_id = guild_of(event, data)
        session = self.session_for(guild_id)
        if session is None:
            return
        if guild_id is not None:
            session.guild_ids.add(guild_id)
        self._send_on(session, event, data)

    @staticmethod
    def _send_on(session: Session, event: str, data: JSON) -> None:
        session.seq += 1
        frame = json.dumps({"op": Op.DISPATCH, "t": event, "s": session.seq, "d": data})
        session.history.append((session.seq, frame))
        if session.live is not None:
            session.live.queue.put_nowait(frame)

    async def drop(self, code: int = 4000, *, shard_id: int | None = None) -> None:
        """Closes the live sockets (one shard's, or all) like Discord does before a RESUME."""
        for session in list(self.sessions.values()):
            if shard_id is not None and session.shard_id != shard_id:
                continue
            conn, session.live = session.live, None
            if conn is not None:
                await conn.ws.close(code=code)

    async def close_all(self) -> None:
        for conn in list(self._connections):
            await conn.ws.close(code=1001)

    def new_client(self) -> None:
        """A client process starts: tests start one right after another, where real restarts
        take seconds, so earlier identifies no longer count against the buckets."""
        self._last_identify.clear()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = _Connection(ws)
        self._connections.add(conn)
        writer = asyncio.create_task(self._write(conn))
        self._send(
            conn,
            {
                "op": Op.HELLO,
                "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ["local"]},
            },
        )
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(conn, json.loads(msg.data))
                elif msg.type is WSMsgType.BINARY:
                    self._report("gateway: client sent a binary frame (expected JSON text)")
        finally:
            for session in self.sessions.values():
                if session.live is conn:
                    session.live = None
            self._connections.discard(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self._notify()
        return ws

    @staticmethod
    def _send(conn: _Connection, payload: JSON) -> None:
        conn.queue.put_nowait(json.dumps(payload))

    async def _write(self, conn: _Connection) -> None:
        # A single writer per socket keeps frames in sequence order.
        while True:
            frame = await conn.queue.get()
            if conn.ws.closed:
                return
            try:
                await conn.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                # The socket closed under us; unsent frames stay in history for a RESUME.
                return

    async def _on_frame(self, conn: _Connection, frame: JSON) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == Op.HEARTBEAT:
            self._send(conn, {"op": Op.HEARTBEAT_ACK})
        elif op == Op.IDENTIFY:
            await self._identify(conn, data or {})
        elif op == Op.RESUME:
            await self._resume(conn, data or {})
        elif op == Op.REQUEST_GUILD_MEMBERS:
            self._chunk(data or {})
        elif op in (Op.PRESENCE_UPDATE, Op.VOICE_STATE_UPDATE):
            pass
        else:
            self._report(f"gateway: unsupported opcode {op!r}")

    def _token_ok(self, data: JSON) -> bool:
        if data.get("token") == self.token:
            return True
        self._report("gateway: IDENTIFY/RESUME with a wrong token")
        return False

    @staticmethod
    def _shard(data: JSON) -> tuple[int, int] | None:
        shard = data.get("shard", [0, 1])
        if (
            not isinstance(shard, list)
            or len(shard) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in shard)
            or not 0 <= shard[0] < shard[1]
        ):
            return None
        return shard[0], shard[1]

    def _too_soon(self, shard_id: int) -> float | None:
        """Seconds since the last IDENTIFY of this shard's bucket, if inside the interval."""
        last = self._last_identify.get(shard_id % self.max_concurrency)
        if last is None:
            return None
        elapsed = time.monotonic() - last
        return elapsed if elapsed < self.identify_interval else None

    async def _identify(self, conn: _Connection, data: JSON) -> None:
        if not self._token_ok(data):
            await conn.ws.close(code=4004)
            return
        shard = self._shard(data)
        if shard is None:
            self._report(f"gateway: IDENTIFY with an invalid shard {data.get('shard')!r}")
            await conn.ws.close(code=4010)
            return
        shard_id, shard_count = shard
        guilds = self.shard_guilds(shard_id, shard_count)
        if len(guilds) > self.max_guilds_per_shard:
            self._report(
                f"gateway: shard [{shard_id}, {shard_count}] would carry {len(guilds)} guilds, "
                f"more than {self.max_guilds_per_shard}: closed with 4011 (sharding required)"
            )
            await conn.ws.close(code=4011)
            return
        elapsed = self._too_soon(shard_id)
        if elapsed is not None:
            self._report(
                f"gateway: shard {shard_id} identified {elapsed:.3f}s after another shard of "
                f"its bucket ({shard_id} % max_concurrency {self.max_concurrency}); Discord "
                f"allows one per {self.identify_interval}s: answered INVALID_SESSION"
            )
            self._send(conn, {"op": Op.INVALID_SESSION, "d": False})
            return
        now = time.monotonic()
        self._last_identify[shard_id % self.max_concurrency] = now
        self.identifies.append((now, shard_id, shard_count))
        self.session_starts += 1
        self.intents = int(data.get("intents", 0))
        self.identify_count += 1
        for other in list(self.sessions.values()):
            # A client that changed its shard count leaves sessions that no longer route.
            if other.shard_count != shard_count and other.live is None:
                del self.sessions[other.shard_id]
        session = Session(uuid.uuid4().hex, shard_id, shard_count, self.intents, live=conn)
        session.guild_ids.update(guilds)
        self.sessions[shard_id] = session
        bot = self.world.bot_user
        ready: JSON = {
            "v": 10,
            "user": {**bot.payload(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.url,
            "application": {"id": str(bot.id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
            "user_settings": {},
            "_trace": ["local"],
        }
        if "shard" in data:
            ready["shard"] = [shard_id, shard_count]
        self._send_on(session, "READY", ready)
        for guild_id in guilds:
            self._send_on(session, "GUILD_CREATE", self.world.guilds[guild_id].gateway_payload())
        self._notify()

    async def _resume(self, conn: _Connection, data: JSON) -> None:
        if not self._token_ok(data):
            await conn.ws.close(code=4004)
            return
        session = next((s for s in self.sessions.values() if s.id == data.get("session_id")), None)
        if session is None:
            # Discord answers an unknown session with INVALID_SESSION(false): identify again.
            self._send(conn, {"op": Op.INVALID_SESSION, "d": False})
            return
        last = int(data.get("seq") or 0)
        for seq, frame in session.history:
            if seq > last:
                conn.queue.put_nowait(frame)
                self.replayed_count += 1
        session.live = conn
        self.resume_count += 1
        self._send_on(session, "RESUMED", {"_trace": ["local"]})
        self._notify()

    def _chunk(self, data: JSON) -> None:
        guild = self.world.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        self.dispatch(
            "GUILD_MEMBERS_CHUNK",
            {
                "guild_id": str(guild.id),
                "members": [m.payload() for m in guild.members.values()],
                "chunk_index": 0,
                "chunk_count": 1,
                "nonce": data.get("nonce"),
            },
        )
