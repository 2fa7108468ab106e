"""An in-memory Discord for scheduled posts: records every message and honours nonces for five
minutes, as Discord does."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.posts.messages import Mark, Outgoing
from bot.posts.publisher import ChannelGone, MissingAccess, RateLimited, ThreadGone

NONCE_WINDOW = timedelta(seconds=300)  # how long Discord answers a repeated nonce with its message


class Crash(BaseException):
    """The process dies here (not an error the bot could catch and handle)."""


class ServerError(Exception):
    """Discord failed the request without creating anything."""


class LostReply(Exception):
    """Discord created the message but its answer never arrived (a timeout, a 5xx)."""


def real_time() -> datetime:
    return datetime.now(UTC)


@dataclass
class Sent:
    id: int
    channel_id: int
    message: Outgoing
    nonce: str
    at: datetime


@dataclass
class FakePoster:
    clock: Callable[[], datetime] = real_time
    messages: list[Sent] = field(default_factory=list)
    threads: dict[int, int] = field(default_factory=dict)  # thread id -> parent channel
    gone: set[int] = field(default_factory=set)  # channels or threads that were deleted (404)
    deleted: set[int] = field(default_factory=set)  # messages that were deleted
    forbidden: set[int] = field(default_factory=set)  # channels the bot may not post in (403)
    no_threads: set[int] = field(default_factory=set)  # channels where threads are not allowed
    crash_after_send: int | None = None  # die right after Discord accepted the n-th send
    lose_replies: int = 0  # Discord creates the next n messages, but the bot never hears back
    fail_from: int | None = None  # the n-th send and every later one fail (a 500, nothing sent)
    hold: dict[int, asyncio.Event] = field(default_factory=dict)  # channel -> wait before sending
    rate_limited: int = 0  # the next n sends get 429s until the poster gives up (nothing sent)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _by_nonce: dict[tuple[int, str], Sent] = field(default_factory=dict)
    sends: int = 0
    lookups: int = 0
    in_flight: int = 0  # sends under way (waiting in `hold` included)
    most_in_flight: int = 0

    def in_channel(self, channel_id: int) -> list[Sent]:
        return [m for m in self.messages if m.channel_id == channel_id]

    def _check(self, channel_id: int) -> None:
        parent = self.threads.get(channel_id, channel_id)
        if channel_id in self.gone or parent in self.gone:
            raise ChannelGone("404 Not Found (error code: 10003): Unknown Channel")
        if channel_id in self.forbidden or parent in self.forbidden:
            raise MissingAccess("403 Forbidden (error code: 50013): Missing Permissions")

    async def send(self, channel_id: int, message: Outgoing, nonce: str) -> int:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self._send(channel_id, message, nonce)
        finally:
            self.in_flight -= 1

    async def _send(self, channel_id: int, message: Outgoing, nonce: str) -> int:
        if channel_id in self.hold:
            await self.hold[channel_id].wait()
        if self.rate_limited:
            self.rate_limited -= 1
            raise RateLimited(
                "429 Too Many Requests (error code: 0): You are being rate limited.", 1
            )
        self._check(channel_id)
        self.sends += 1
        if self.fail_from is not None and self.sends >= self.fail_from:
            raise ServerError("500 Internal Server Error")
        now = self.clock()
        # Discord answers a nonce it saw in the last few minutes with the message it created.
        seen = self._by_nonce.get((channel_id, nonce))
        if seen is not None and now - seen.at < NONCE_WINDOW:
            message_id = seen.id
        else:
            sent = Sent(next(self._ids), channel_id, message, nonce, now)
            self._by_nonce[(channel_id, nonce)] = sent
            self.messages.append(sent)
            message_id = sent.id
        if self.crash_after_send == self.sends:
            raise Crash()
        if self.lose_replies:
            self.lose_replies -= 1
            raise LostReply("503 Service Unavailable")
        return message_id

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int | None:
        self._check(channel_id)
        if channel_id in self.no_threads:
            return None
        if message_id in self.deleted:
            raise ThreadGone("404 Not Found (error code: 10008): Unknown Message")
        assert any(m.id == message_id and m.channel_id == channel_id for m in self.messages)
        assert len(name) <= 100
        self.threads[message_id] = channel_id  # a thread takes its starter message's id
        return message_id

    async def find(self, channel_id: int, since: datetime, mark: Mark) -> int | None:
        self._check(channel_id)
        self.lookups += 1
        for sent in self.messages:
            if sent.id in self.deleted or sent.channel_id != channel_id or sent.at <= since:
                continue
            if mark.on(sent.message):
                return sent.id
        return None
