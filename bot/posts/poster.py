"""The Discord side of scheduled posts: sends payloads by channel id over REST (no cache needed,
so it works before the gateway is ready) and turns Discord's refusals into `PostFault`s.

Every request waits for a token of one bucket shared by all posts (`bot.posts.throttle`), so a
minute at which many servers post stays under Discord's global limit. Interaction replies do not
go through here: Discord exempts them from the global limit, and they stay immediate.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Final, Literal, TypeVar

import discord

from bot.posts.messages import Mark, Outgoing
from bot.posts.publisher import ChannelGone, MissingAccess, RateLimited, ThreadGone
from bot.posts.throttle import Throttle, TokenBucket

T = TypeVar("T")

log = logging.getLogger(__name__)

THREAD_ALREADY_EXISTS = 160004  # Discord's code when a message already has a thread
UNKNOWN_MESSAGE = 10008  # Discord's code for a message that does not exist (or was deleted)
ARCHIVE_AFTER_MINUTES: Final[Literal[10080]] = (
    10080  # a week: the thread lives until the next check-in
)
PAGE = 100  # Discord's most messages per history request
LOOKUP_PAGES = 20  # how far a lookup reads (2000 messages) before it gives up
# discord.py retries a 429 itself, 5 times. When it gives up, the request is made again after
# Discord's retry-after, this many more times, before the post fails (and is retried soon).
RATE_LIMIT_ROUNDS = 3
TOO_MANY_REQUESTS = 429


def retry_after(error: discord.HTTPException) -> tuple[float, bool]:
    """How long Discord asked to wait after a 429 discord.py gave up on (1 s if it did not say),
    and whether the limit was the bot's global one rather than one route's."""
    headers = getattr(error.response, "headers", None) or {}
    is_global = headers.get("X-RateLimit-Global", "").lower() == "true"
    for name in ("X-RateLimit-Reset-After", "Retry-After"):
        try:
            return max(float(headers[name]), 0.0), is_global
        except (KeyError, TypeError, ValueError):
            continue
    return 1.0, is_global


class DiscordPoster:
    def __init__(
        self,
        client: discord.Client,
        throttle: Throttle | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        # One bucket for every post of this bot: pass the same one to every poster.
        self.throttle: Throttle = throttle if throttle is not None else TokenBucket()
        self._sleep = sleep

    async def _request(self, call: Callable[[], Awaitable[T]]) -> T:
        """One REST request when the bucket allows, made again after a 429 discord.py gave up
        on. Every request here is safe to repeat: sends carry their nonce, a second thread start
        is answered "already exists", a history read changes nothing."""
        for round_ in range(1, RATE_LIMIT_ROUNDS + 1):
            await self.throttle.acquire()
            try:
                return await call()
            except discord.HTTPException as error:
                if error.status != TOO_MANY_REQUESTS:
                    raise
                wait, is_global = retry_after(error)
                if round_ == RATE_LIMIT_ROUNDS:
                    if is_global:
                        self.throttle.pause(wait)
                    raise RateLimited(str(error), wait) from error
                log.warning(
                    "Discord kept answering 429 (%s); trying again in %.2f s",
                    "global" if is_global else "this route",
                    wait,
                )
                if is_global:
                    self.throttle.pause(wait)  # every post waits, not only this one
                else:
                    await self._sleep(wait)
        raise AssertionError("unreachable")

    async def send(self, channel_id: int, message: Outgoing, nonce: str) -> int:
        channel = self.client.get_partial_messageable(channel_id)
        embeds = [discord.Embed.from_dict(e) for e in message.embeds]
        upload = message.file

        def send() -> Awaitable[discord.Message]:
            # A fresh File each try: discord.py closes it after a send. With a file the request
            # is a multipart upload; the nonce and its enforcement ride in its JSON part.
            file = (
                discord.File(
                    io.BytesIO(upload.data), upload.filename, description=upload.description
                )
                if upload is not None
                else discord.utils.MISSING
            )
            return channel.send(
                content=message.content or None, embeds=embeds, file=file, nonce=nonce
            )

        try:
            # With a nonce discord.py also sets enforce_nonce: Discord answers a repeat with the
            # message it already created instead of a second one (for a few minutes).
            sent = await self._request(send)
        except discord.NotFound as error:
            raise ChannelGone(str(error)) from error
        except discord.Forbidden as error:
            raise MissingAccess(str(error)) from error
        return sent.id

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int | None:
        try:
            # Straight over REST: PartialMessage.create_thread needs the guild in the cache,
            # which a start-up catch-up runs before.
            thread = await self._request(
                lambda: self.client.http.start_thread_with_message(
                    channel_id, message_id, name=name, auto_archive_duration=ARCHIVE_AFTER_MINUTES
                )
            )
        except discord.Forbidden:
            return None  # not allowed to start threads here: the parts go to the channel
        except discord.NotFound as error:
            if error.code == UNKNOWN_MESSAGE:
                raise ThreadGone(str(error)) from error  # the message, not the channel
            raise ChannelGone(str(error)) from error
        except discord.HTTPException as error:
            if error.code == THREAD_ALREADY_EXISTS:
                return message_id  # a thread started from a message has the message's id
            raise
        return int(thread["id"])

    async def open_dm(self, user_id: int) -> int:
        try:
            data = await self._request(lambda: self.client.http.start_private_message(user_id))
        except discord.Forbidden as error:
            raise MissingAccess(str(error)) from error
        except discord.NotFound as error:
            raise ChannelGone(str(error)) from error
        return int(data["id"])

    async def find(self, channel_id: int, since: datetime, mark: Mark) -> int | None:
        me = self.client.user.id if self.client.user else None
        after = discord.utils.time_snowflake(since)
        for _ in range(LOOKUP_PAGES):
            try:
                page = await self._request(
                    partial(self.client.http.logs_from, channel_id, PAGE, after=after)
                )
            except discord.NotFound as error:
                raise ChannelGone(str(error)) from error
            except discord.Forbidden as error:
                log.warning(
                    "cannot read the history of channel %s to find %s: %s", channel_id, mark, error
                )
                return None
            for data in page:
                if me is not None and int(data["author"]["id"]) != me:
                    continue
                embeds = tuple(dict(e) for e in data.get("embeds") or ())
                found = Outgoing(str(data.get("content") or ""), embeds)
                if mark.on(found):
                    return int(data["id"])
            if len(page) < PAGE:
                return None
            after = max(int(data["id"]) for data in page)
        log.warning(
            "gave up looking for %s in channel %s after %s messages",
            mark,
            channel_id,
            PAGE * LOOKUP_PAGES,
        )
        return None
