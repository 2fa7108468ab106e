"""The token bucket that paces scheduled posts, and the poster's handling of the 429s that get
through anyway, in virtual time: the tests move a fake clock and count who got through, so
nothing waits on the wall clock."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from typing import cast

import discord
import pytest

from bot.posts.poster import RATE_LIMIT_ROUNDS, DiscordPoster
from bot.posts.publisher import RateLimited
from bot.posts.throttle import TokenBucket


class VirtualTime:
    """A clock that moves only when the test says, and a sleep that wakes by it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), woken))
        await woken

    async def settle(self) -> None:
        """Let every task that can run do so (a lock passes from waiter to waiter one loop
        iteration at a time)."""
        for _ in range(100):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        """Move the clock on, waking every sleeper whose time has come, in time order."""
        end = self.now + seconds
        while self._sleepers and self._sleepers[0][0] <= end + 1e-9:
            at, _, woken = heapq.heappop(self._sleepers)
            self.now = max(self.now, at)
            if not woken.done():
                woken.set_result(None)
            await self.settle()
        self.now = end
        await self.settle()


def bucket_on(time: VirtualTime, rate: float = 10.0, burst: int = 3) -> TokenBucket:
    return TokenBucket(rate, burst, clock=time.clock, sleep=time.sleep)


async def start(bucket: TokenBucket, count: int, log: list[int]) -> list[asyncio.Task[None]]:
    async def one(index: int) -> None:
        await bucket.acquire()
        log.append(index)

    tasks = [asyncio.create_task(one(i)) for i in range(count)]
    await asyncio.sleep(0)
    return tasks


async def test_a_burst_goes_at_once_then_one_per_interval_in_the_order_asked() -> None:
    time = VirtualTime()
    bucket = bucket_on(time, rate=10.0, burst=3)
    through: list[int] = []
    tasks = await start(bucket, 8, through)
    await time.settle()
    assert through == [0, 1, 2]  # the burst
    await time.advance(0.1)
    assert through == [0, 1, 2, 3]  # then one per 1/rate seconds
    await time.advance(0.1)
    assert through == [0, 1, 2, 3, 4]
    await time.advance(0.3)
    assert through == list(range(8))  # first come, first served
    await asyncio.gather(*tasks)
    assert bucket.granted == 8 and bucket.waited == 5


async def test_never_more_than_the_rate_over_any_second() -> None:
    time = VirtualTime()
    bucket = bucket_on(time, rate=45.0, burst=5)
    through: list[int] = []
    tasks = await start(bucket, 300, through)
    await time.settle()
    counts = [len(through)]
    for _ in range(5):
        await time.advance(1.0)
        counts.append(len(through))
    assert counts[0] == 5  # the burst, then the rate exactly
    assert [b - a for a, b in itertools.pairwise(counts)] == [45] * 5
    await time.advance(2.0)
    assert through == list(range(300))
    await asyncio.gather(*tasks)


async def test_an_idle_bucket_refills_only_up_to_its_burst() -> None:
    time = VirtualTime()
    bucket = bucket_on(time, rate=10.0, burst=3)
    through: list[int] = []
    await asyncio.gather(*await start(bucket, 3, through))
    await time.advance(60.0)  # a quiet minute saves no more than the burst
    tasks = await start(bucket, 6, through)
    await time.settle()
    assert len(through) == 6
    await time.advance(0.3)
    assert len(through) == 9
    await asyncio.gather(*tasks)


async def test_a_pause_holds_everyone_back_then_resumes_without_a_burst() -> None:
    time = VirtualTime()
    bucket = bucket_on(time, rate=10.0, burst=3)
    through: list[int] = []
    tasks = await start(bucket, 6, through)
    await time.settle()
    assert through == [0, 1, 2]
    bucket.pause(2.0)  # a 429 said "retry after 2 s"
    await time.advance(1.9)
    assert through == [0, 1, 2]
    await time.advance(0.1)
    assert through == [0, 1, 2, 3]  # one, not a burst of three
    await time.advance(0.1)
    assert through == [0, 1, 2, 3, 4]
    await time.advance(0.1)
    assert through == list(range(6))
    await asyncio.gather(*tasks)


async def test_a_cancelled_waiter_does_not_block_the_others() -> None:
    time = VirtualTime()
    bucket = bucket_on(time, rate=10.0, burst=1)
    through: list[int] = []
    tasks = await start(bucket, 3, through)
    await time.settle()
    assert through == [0]
    tasks[1].cancel()  # asleep waiting for its token
    await time.advance(0.1)
    assert through == [0, 2]
    assert tasks[1].cancelled()
    await tasks[2]


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-5.0, 1), (float("inf"), 1), (10.0, 0)])
def test_a_bucket_needs_a_positive_rate_and_burst(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


# --- the poster's use of it -----------------------------------------------------------------


class FakeResponse:
    """What discord.HTTPException reads from aiohttp's response."""

    reason = "Too Many Requests"

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status = status
        self.headers = headers


def too_many(*, is_global: bool, after: str = "2") -> discord.HTTPException:
    headers = {"Retry-After": after, "Via": "1.1 google"}
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    else:
        headers["X-RateLimit-Reset-After"] = "0.250"
    body = {"message": "You are being rate limited.", "retry_after": 0.25, "global": is_global}
    return discord.HTTPException(FakeResponse(429, headers), body)


class Flaky:
    """A request that discord.py gave up on `failures` times (429 after its own 5 tries)."""

    def __init__(self, failures: int, error: discord.HTTPException) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return 42


def poster_on(time: VirtualTime) -> DiscordPoster:
    client = cast(discord.Client, object())  # _request never touches the client
    return DiscordPoster(client, bucket_on(time, rate=10.0, burst=3), sleep=time.sleep)


async def test_a_global_429_pauses_every_post_then_the_request_is_made_again() -> None:
    time = VirtualTime()
    poster = poster_on(time)
    call = Flaky(1, too_many(is_global=True, after="2"))
    request = asyncio.create_task(poster._request(call))
    others: list[int] = []
    await time.settle()
    assert call.calls == 1
    waiting = await start(poster.throttle, 2, others)  # other posts' requests
    await time.advance(1.9)
    assert not request.done() and others == []  # the whole bucket waits out Discord's 2 s
    await time.advance(0.2)
    assert await request == 42 and call.calls == 2
    await time.advance(0.3)
    assert others == [0, 1]
    await asyncio.gather(*waiting)


async def test_a_route_429_waits_for_that_request_only() -> None:
    time = VirtualTime()
    poster = poster_on(time)
    call = Flaky(1, too_many(is_global=False))
    request = asyncio.create_task(poster._request(call))
    await time.settle()
    others: list[int] = []
    waiting = await start(poster.throttle, 2, others)
    await time.settle()
    assert others == [0, 1] and not request.done()  # other routes go on
    await time.advance(0.25)  # X-RateLimit-Reset-After, not the rounded Retry-After
    assert await request == 42
    await asyncio.gather(*waiting)


async def test_a_request_still_limited_after_a_few_rounds_fails_the_post_as_rate_limited() -> None:
    time = VirtualTime()
    poster = poster_on(time)
    call = Flaky(99, too_many(is_global=True, after="1"))
    request = asyncio.create_task(poster._request(call))
    await time.settle()
    await time.advance(5.0)
    with pytest.raises(RateLimited) as raised:
        await request
    assert call.calls == RATE_LIMIT_ROUNDS and raised.value.retry_after == 1.0


async def test_other_errors_are_not_retried() -> None:
    time = VirtualTime()
    poster = poster_on(time)
    forbidden = discord.Forbidden(FakeResponse(403, {}), {"message": "Missing Access", "code": 1})
    call = Flaky(1, forbidden)
    with pytest.raises(discord.Forbidden):
        await poster._request(call)
    assert call.calls == 1
