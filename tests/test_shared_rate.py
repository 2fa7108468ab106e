"""Discord's global limit is per bot token, across every process: the processes share one bucket
in a real Redis, and each falls back to its shards' share of the rate while Redis is unreachable.

The buckets here record the waits they are given instead of sleeping, so the tests read the
schedule Redis hands out rather than time anything."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from pydantic import ValidationError

from bot.posts.throttle import REDIS_RETRY, SharedBucket, TokenBucket, for_processes
from bot.settings import Settings
from bot.sharding import share_of

# Redis's clock moves on between two calls of a test by a few milliseconds at most.
SLACK = 0.05


class Waits:
    """A sleep that records how long it was asked to wait and returns at once (a request that
    may go at once does not sleep)."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


def shared(url: str, key: str, waits: Waits, rate: float = 10.0, burst: int = 2) -> SharedBucket:
    bucket = SharedBucket(url, TokenBucket(1000.0, 1), rate=rate, burst=burst, sleep=waits)
    bucket.key = key
    return bucket


@pytest.fixture
async def key(redis_url: str) -> AsyncIterator[str]:
    name = f"twopass-test:rate:{uuid.uuid4().hex}"
    yield name
    import redis.asyncio as aioredis

    async with aioredis.Redis.from_url(redis_url) as client:
        await client.delete(name)


def close_to(actual: list[float], expected: list[float]) -> bool:
    return len(actual) == len(expected) and all(
        e - SLACK <= a <= e + SLACK for a, e in zip(actual, expected, strict=True)
    )


async def test_processes_take_turns_in_one_bucket_at_the_shared_rate(
    redis_url: str, key: str
) -> None:
    one, two = Waits(), Waits()
    first, second = shared(redis_url, key, one), shared(redis_url, key, two)
    try:
        for _ in range(3):  # alternately, as two processes posting at the same minute
            await first.acquire()
            await second.acquire()
    finally:
        await first.close()
        await second.close()
    # A burst of 2 between them, then one every 1/10 s for whichever asks next: 6 requests
    # take 0.4 s together, as one process's would, not 0.4 s each.
    assert close_to(sorted(one.asked + two.asked), [0.1, 0.2, 0.3, 0.4])
    assert close_to(one.asked, [0.1, 0.3]) and close_to(two.asked, [0.2, 0.4])
    assert first.fallback.granted == second.fallback.granted == 0  # Redis paced them all


async def test_a_429_one_process_got_holds_back_every_process(redis_url: str, key: str) -> None:
    one, two = Waits(), Waits()
    first, second = shared(redis_url, key, one), shared(redis_url, key, two)
    try:
        await first.acquire()
        paused = time.monotonic()
        first.pause(2.0)  # Discord answered a global 429 with retry-after 2 s
        await first.acquire()  # its retry: tells Redis of the pause, and waits it out
        retried = time.monotonic() - paused
        await second.acquire()  # another process's next request waits as long, and its turn
        asked = time.monotonic() - paused
    finally:
        await first.close()
        await second.close()
    # Each wait is the pause (and the turn after it) less the time already gone by when the
    # request was made, however slow this machine is.
    (waited_one,) = one.asked
    (waited_two,) = two.asked
    assert 2.0 - retried - SLACK <= waited_one <= 2.0 + SLACK
    assert 2.1 - asked - SLACK <= waited_two <= 2.1 + SLACK


def test_without_redis_each_process_paces_at_its_shards_share() -> None:
    assert share_of(None, None) == 1.0
    assert share_of((0, 1, 2, 3, 4, 5, 6, 7), 24) == pytest.approx(1 / 3)
    assert share_of(range(24), 24) == 1.0
    alone = for_processes(45.0, share_of((0, 1), 6), None)
    assert isinstance(alone, TokenBucket) and alone.rate == pytest.approx(15.0)
    bucket = for_processes(45.0, 1 / 3, "redis://127.0.0.1:1/0")
    assert isinstance(bucket, SharedBucket)
    assert bucket.rate == 45.0 and bucket.fallback.rate == pytest.approx(15.0)


def test_the_redis_url_setting_is_a_secret_redis_url_or_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TWOPASS_REDIS_URL", "redis://:hunter2@cache.internal:6379/0")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.redis_url is not None and "hunter2" not in repr(settings)
    monkeypatch.setenv("TWOPASS_REDIS_URL", " ")
    assert Settings(_env_file=None).redis_url is None  # type: ignore[call-arg]
    monkeypatch.setenv("TWOPASS_REDIS_URL", "cache.internal:6379")
    with pytest.raises(ValidationError, match="redis_url") as refused:
        Settings(_env_file=None)  # type: ignore[call-arg]
    assert "must start with redis://" in str(refused.value)


class Proxy:
    """A TCP relay in front of Redis that the test cuts and restores: Redis unreachable, then
    back, at the same address."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._links):
            writer.close()
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._links |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_unreachable_redis_falls_back_to_the_share_with_one_warning_then_recovers(
    redis_url: str, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    from redis.asyncio.connection import parse_url

    where = parse_url(redis_url)
    proxy = Proxy((str(where.get("host", "127.0.0.1")), int(where.get("port", 6379))))
    await proxy.open()
    now = [100.0]
    bucket = SharedBucket(
        f"redis://127.0.0.1:{proxy.port}/{where.get('db', 0)}",
        TokenBucket(1000.0, 1),
        rate=10.0,
        burst=2,
        clock=lambda: now[0],
        sleep=Waits(),
    )
    bucket.key = key
    caplog.set_level(logging.INFO, logger="bot.posts.throttle")
    try:
        await bucket.acquire()
        assert bucket.shared and bucket.fallback.granted == 0
        await proxy.cut()
        for _ in range(5):
            await bucket.acquire()  # Redis is gone: this process's own share paces them
        assert not bucket.shared and bucket.fallback.granted == 5
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "Redis is unreachable" in warnings[0].getMessage()
        await proxy.open()  # back, at the same address
        await bucket.acquire()
        assert bucket.fallback.granted == 6  # not asked again before REDIS_RETRY
        now[0] += REDIS_RETRY
        await bucket.acquire()
        assert bucket.shared and bucket.fallback.granted == 6
        assert "Redis answers again" in caplog.records[-1].getMessage()
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    finally:
        await bucket.close()
        await proxy.cut()
