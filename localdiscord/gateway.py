"""The gateway: HELLO, IDENTIFY/READY, heartbeats, dispatch with sequence numbers, RESUME."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from .model import JSON, World

HEARTBEAT_INTERVAL_MS = 41250


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


@dataclass(eq=False)
class _Connection:
    ws: web.WebSocketResponse
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)


class Gateway:
    """One gateway session; events sent while disconnected are replayed on RESUME."""

    def __init__(
        self, world: World, token: str, report: Callable[[str], None], notify: Callable[[], None]
    ) -> None:
        self.world = world
        self.token = token
        self._report = report
        self._notify = notify
        self.url = ""
        self.session_id: str | None = None
        self.seq = 0
        self.intents = 0
        self.identify_count = 0
        self.resume_count = 0
        self.replayed_count = 0
        self.history: list[tuple[int, str]] = []
        self._live: _Connection | None = None
        self._connections: set[_Connection] = set()

    @property
    def connected(self) -> bool:
        """True once the current socket has been identified or resumed."""
        return self._live is not None

    def dispatch(self, event: str, data: JSON) -> None:
        """Sends an event now, or keeps it for replay if the client is between sockets."""
        if self.session_id is None:
            # Not logged in yet: the READY/GUILD_CREATE snapshot will carry this state.
            return
        self.seq += 1
        frame = json.dumps({"op": Op.DISPATCH, "t": event, "s": self.seq, "d": data})
        self.history.append((self.seq, frame))
        if self._live is not None:
            self._live.queue.put_nowait(frame)

    async def drop(self, code: int = 4000) -> None:
        """Closes the live socket like Discord does before asking for a RESUME."""
        conn, self._live = self._live, None
        if conn is not None:
            await conn.ws.close(code=code)

    async def close_all(self) -> None:
        for conn in list(self._connections):
            await conn.ws.close(code=1001)

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
            if self._live is conn:
                self._live = None
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

    async def _identify(self, conn: _Connection, data: JSON) -> None:
        if not self._token_ok(data):
            await conn.ws.close(code=4004)
            return
        self.intents = int(data.get("intents", 0))
        self.session_id = uuid.uuid4().hex
        self.seq = 0
        self.history.clear()
        self.identify_count += 1
        self._live = conn
        bot = self.world.bot_user
        self.dispatch(
            "READY",
            {
                "v": 10,
                "user": {**bot.payload(), "verified": True, "mfa_enabled": False, "email": None},
                "guilds": [{"id": str(g), "unavailable": True} for g in self.world.guilds],
                "session_id": self.session_id,
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
            },
        )
        for guild in self.world.guilds.values():
            self.dispatch("GUILD_CREATE", guild.gateway_payload())
        self._notify()

    async def _resume(self, conn: _Connection, data: JSON) -> None:
        if not self._token_ok(data):
            await conn.ws.close(code=4004)
            return
        if data.get("session_id") != self.session_id or self.session_id is None:
            # Discord answers an unknown session with INVALID_SESSION(false): identify again.
            self._send(conn, {"op": Op.INVALID_SESSION, "d": False})
            return
        last = int(data.get("seq") or 0)
        for seq, frame in self.history:
            if seq > last:
                conn.queue.put_nowait(frame)
                self.replayed_count += 1
        self._live = conn
        self.resume_count += 1
        self.dispatch("RESUMED", {"_trace": ["local"]})
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
