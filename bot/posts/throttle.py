"""A token bucket for the bot's own REST requests, so a burst of scheduled posts stays under
Discord's global limit (50 requests/s per bot) instead of running into it: discord.py has no
global limiter of its own and learns of the limit only from the 429s.

Pure asyncio; the clock and the sleep are injectable so tests run in virtual time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Under Discord's 50 requests/s, leaving 2/s (120 a minute) for the rest of the bot's requests:
# interaction callbacks are outside the global limit, follow-ups and command syncs are not. At
# 45/s a fan-out took 1.11x its floor (requests / 50 s); at 48/s it comes within 1.1x, 0 429s.
DEFAULT_RATE = 48.0
DEFAULT_BURST = 5
_SLACK = 1e-9  # seconds: sums of intervals are not exact in floating point


class Throttle(Protocol):
    async def acquire(self) -> None:
        """Wait for this request's turn."""

    def pause(self, seconds: float) -> None:
        """Discord answered a global 429: hold every request back `seconds`."""


class TokenBucket:
    """At most `burst` requests at once, then `rate` per second, granted in the order asked.

    `acquire()` waits for a token. `pause(seconds)` holds every request back that long, for a
    429 that got through anyway.
    """

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not rate > 0 or not math.isfinite(rate):
            raise ValueError(f"rate must be a positive number of requests per second, not {rate}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        # The bucket as a "theoretical arrival time" (GCRA): a request may go once the clock is
        # within `tolerance` of it, and each request moves it one interval on.
        self._due = -math.inf
        self._paused_until = -math.inf
        self._turn = asyncio.Lock()  # first come, first served; one waiter sleeps at a time
        self.granted = 0
        self.waited = 0  # requests that had to wait for their token

    async def acquire(self) -> None:
        async with self._turn:
            waited = False
            while True:
                now = self._clock()
                ready = max(self._due - self._tolerance, self._paused_until)
                if ready <= now + _SLACK:
                    break
                waited = True
                await self._sleep(ready - now)
            self._due = max(self._due, now) + self._interval
            self.granted += 1
            self.waited += waited

    def pause(self, seconds: float) -> None:
        """Discord said to wait: nothing more goes out for `seconds`, and then at the rate."""
        if seconds > 0:
            until = self._clock() + seconds
            self._paused_until = max(self._paused_until, until)
            # Start again from an empty bucket, not with a burst.
            self._due = max(self._due, until + self._tolerance)


# The same GCRA as `TokenBucket`, kept in Redis for every process of the bot, on Redis's clock.
# Each call reserves the next slot and answers how long to wait for it (microseconds), so a
# request costs one round trip and the processes are served in the order they asked. A pause
# (a 429 that got through) moves the shared slot past it first, so every process waits.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, tolerance, pause = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
if pause > 0 then due = math.max(due, now + pause + tolerance) end
due = math.max(due, now)
local wait = math.max(due - tolerance - now, 0)
due = due + interval
redis.call('SET', KEYS[1], string.format('%.0f', due), 'PX', math.ceil((due - now) / 1000) + 1000)
return wait
"""
# How long one Redis call may take before this process paces itself, and how often it then
# tries Redis again.
REDIS_TIMEOUT = 1.0
REDIS_RETRY = 5.0


class SharedBucket:
    """One bucket for every process of a bot, in Redis at `url` under `key`.

    While Redis cannot be reached, requests go through `fallback`, this process's even share of
    the rate (one WARNING line when that starts); Redis is tried again every `REDIS_RETRY`
    seconds and used again as soon as it answers.
    """

    def __init__(
        self,
        url: str,
        fallback: TokenBucket,
        *,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        key: str = "twopass:rate",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        probe = TokenBucket(rate, burst)  # the same checks on the numbers
        self.rate, self.burst = probe.rate, probe.burst
        self.fallback = fallback
        self.key = key
        self._redis = aioredis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        self._script = self._redis.register_script(_GCRA)
        self._interval_us = round(1_000_000 / rate)
        self._tolerance_us = (burst - 1) * self._interval_us
        self._clock = clock
        self._sleep = sleep
        self._paused_until = -math.inf
        self._down_until = -math.inf  # while Redis is unreachable: the next time to try it
        self.shared = True  # False while pacing on the fallback
        self.granted = 0

    def name(self, bot_id: int) -> None:
        """Key the bucket by the bot's id: another bot on the same Redis has its own limit."""
        self.key = f"twopass:rate:{bot_id}"

    async def acquire(self) -> None:
        now = self._clock()
        wait: float | None = None
        if now >= self._down_until:
            wait = await self._reserve(max(self._paused_until - now, 0.0))
        if wait is None:
            await self.fallback.acquire()
        elif wait > 0:
            await self._sleep(wait)
        self.granted += 1

    def pause(self, seconds: float) -> None:
        if seconds > 0:
            # Told to Redis with this process's next request (its retry comes straight after).
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self.fallback.pause(seconds)

    async def _reserve(self, pause: float) -> float | None:
        """Seconds to wait for a slot of the shared bucket; None when Redis did not answer."""
        try:
            async with asyncio.timeout(REDIS_TIMEOUT):
                waited = await self._script(
                    keys=[self.key],
                    args=[self._interval_us, self._tolerance_us, round(pause * 1_000_000)],
                )
        except (RedisError, OSError, TimeoutError) as error:
            self._down_until = self._clock() + REDIS_RETRY
            if self.shared:
                self.shared = False
                log.warning(
                    "Redis is unreachable (%s): pacing posts at this process's share, %.1f "
                    "requests/s, until it answers again",
                    error or type(error).__name__,
                    self.fallback.rate,
                )
            return None
        self._paused_until = -math.inf
        if not self.shared:
            self.shared = True
            log.info("Redis answers again: pacing posts with the other processes")
        return int(waited) / 1_000_000

    async def close(self) -> None:
        await self._redis.aclose()


def for_processes(
    rate: float, share: float, redis_url: str | None, burst: int = DEFAULT_BURST
) -> TokenBucket | SharedBucket:
    """The bucket of a process that runs `share` of the bot's shards (1.0: all of them): the
    whole `rate` shared through Redis when there is one, else its share of it."""
    own = TokenBucket(rate * share, burst)
    if redis_url is None:
        return own
    return SharedBucket(redis_url, own, rate=rate, burst=burst)
