"""A token bucket for the bot's own REST requests, so a burst of scheduled posts stays under
Discord's global limit (50 requests/s per bot) instead of running into it: discord.py has no
global limiter of its own and learns of the limit only from the 429s.

Pure asyncio; the clock and the sleep are injectable so tests run in virtual time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

# Under Discord's 50 requests/s, leaving room for the rest of the bot's requests (interaction
# callbacks are outside the global limit, follow-ups and command syncs are not).
DEFAULT_RATE = 45.0
DEFAULT_BURST = 5
_SLACK = 1e-9  # seconds: sums of intervals are not exact in floating point


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
