"""An in-memory Discord for scheduled posts: records every message and honours nonces."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from bot.posting import ChannelGone, NotAllowed, Outgoing


class Crash(BaseException):
    """The process dies here (not an error the bot could catch and handle)."""


@dataclass
class Sent:
    id: int
    channel_id: int
    message: Outgoing
    nonce: str


@dataclass
class FakePoster:
    messages: list[Sent] = field(default_factory=list)
    threads: dict[int, int] = field(default_factory=dict)  # thread id -> parent channel
    gone: set[int] = field(default_factory=set)  # channels that were deleted (404)
    forbidden: set[int] = field(default_factory=set)  # channels the bot may not post in (403)
    no_threads: set[int] = field(default_factory=set)  # channels where threads are not allowed
    crash_after_send: int | None = None  # die right after Discord accepted the n-th send
    hold: dict[int, asyncio.Event] = field(default_factory=dict)  # channel -> wait before sending
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _by_nonce: dict[str, int] = field(default_factory=dict)
    sends: int = 0

    def in_channel(self, channel_id: int) -> list[Sent]:
        return [m for m in self.messages if m.channel_id == channel_id]

    async def send(self, channel_id: int, message: Outgoing, nonce: str) -> int:
        if channel_id in self.hold:
            await self.hold[channel_id].wait()
        parent = self.threads.get(channel_id, channel_id)
        if parent in self.gone:
            raise ChannelGone("404 Not Found (error code: 10003): Unknown Channel")
        if parent in self.forbidden:
            raise NotAllowed("403 Forbidden (error code: 50013): Missing Permissions")
        self.sends += 1
        if nonce in self._by_nonce:  # Discord answers a repeated nonce with the first message
            message_id = self._by_nonce[nonce]
        else:
            message_id = next(self._ids)
            self._by_nonce[nonce] = message_id
            self.messages.append(Sent(message_id, channel_id, message, nonce))
        if self.crash_after_send == self.sends:
            raise Crash()
        return message_id

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int | None:
        if channel_id in self.no_threads:
            return None
        assert any(m.id == message_id and m.channel_id == channel_id for m in self.messages)
        assert len(name) <= 100
        self.threads[message_id] = channel_id  # a thread takes its starter message's id
        return message_id
