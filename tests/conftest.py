from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import redis

from bot.app import TwopassBot
from bot.settings import Settings
from localdiscord import Channel, Guild, LocalDiscord, Member
from localdiscord.interactions import Reply
from tests.tables import Store

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


# The PostgreSQL server the tests use: a database in which each test gets a schema of its own.
# The machines that develop and test this project run one here; CI sets the variable.
POSTGRES = os.environ.get("TWOPASS_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = ("sqlite", "postgres")


async def _postgres_problem(url: str) -> str | None:
    import asyncpg

    try:
        connection = await asyncpg.connect(url, timeout=3)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await connection.close()
    return None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL URL, once it answered. Without a server the PostgreSQL cases are skipped
    on a person's machine and fail in CI, where one must run."""
    problem = asyncio.run(_postgres_problem(POSTGRES))
    if problem is not None:
        reason = f"no PostgreSQL at {POSTGRES} (set TWOPASS_TEST_POSTGRES): {problem}"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return POSTGRES


def with_schema(url: str, schema: str) -> str:
    """`url` with every connection's search_path set to `schema`."""
    return f"{url}{'&' if '?' in url else '?'}search_path={schema}"


async def _run_on(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked `sqlite_only` (it pokes at SQLite itself) runs on SQLite alone."""
    kept, dropped = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        on_postgres = params is not None and params.params.get("database_url") == "postgres"
        (dropped if on_postgres and item.get_closest_marker("sqlite_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a test's database lives: an SQLite file in its temporary folder, or a fresh schema
    of the PostgreSQL test database (dropped afterwards). Tests that take it run on both."""
    if request.param == "sqlite":
        yield str(tmp_path / "twopass.sqlite3")
        return
    yield from fresh_schema(request.getfixturevalue("postgres_server"))


def fresh_schema(server: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    asyncio.run(_run_on(server, f"CREATE SCHEMA {schema}"))
    try:
        yield with_schema(server, schema)
    finally:
        asyncio.run(_run_on(server, f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL schema, for tests that need PostgreSQL beside SQLite."""
    yield from fresh_schema(postgres_server)


# The machines the project is developed and tested on run Redis here; a fresh machine may not.
REDIS_URL = os.environ.get("TWOPASS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis server for the tests of the rate limit shared by processes: skipped with one
    line where there is none, but a failure in CI (`CI=true`), where there must be one."""
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1) as client:
            client.ping()
    except (redis.RedisError, OSError) as error:
        reason = f"no Redis at {REDIS_URL} ({error}); start one or set TWOPASS_TEST_REDIS_URL"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return REDIS_URL


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "twopass.sqlite3"


@pytest_asyncio.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A real database (an SQLite file, or a PostgreSQL schema), migrated to the latest schema."""
    async with await Store.open(database_url) as opened:
        yield opened


@pytest_asyncio.fixture
async def sqlite_store(db_path: Path) -> AsyncIterator[Store]:
    """An SQLite database only, for what is SQLite's own (its file, its WAL, its migrations)."""
    async with await Store.open(db_path) as opened:
        yield opened


class SteppedClock:
    """The bot's clock in tests: it reads the time only through this, so tests set it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Server:
    """The real bot, logged in to the local Discord, with one study server in it."""

    discord: LocalDiscord
    bot: TwopassBot
    store: Store
    clock: SteppedClock
    guild: Guild
    study: Channel
    alice: Member
    bob: Member
    admin: Member

    async def slash(self, who: Member, command: str, **options: Any) -> Reply:
        return await self.discord.slash(who, command, channel=self.study, **options)


def make_bot(store: Store, clock: SteppedClock, **settings: Any) -> TwopassBot:
    return TwopassBot(
        settings=Settings(_env_file=None, **settings),  # type: ignore[call-arg]
        db=store.db,
        clock=clock,
        guild_ready_timeout=0.05,
    )


@pytest_asyncio.fixture
async def server(database_url: str) -> AsyncIterator[Server]:
    async with LocalDiscord() as local, await Store.open(database_url) as store:
        guild = local.add_guild("Study Hall")
        study = guild.add_text_channel("study")
        alice, bob = guild.add_member("alice"), guild.add_member("bob")
        admin = guild.add_member("admin", admin=True)
        clock = SteppedClock(NOW)
        bot = make_bot(store, clock)
        async with local.running(bot):
            yield Server(local, bot, store, clock, guild, study, alice, bob, admin)
