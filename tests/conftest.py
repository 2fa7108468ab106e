from __future__ import annotations

import os
from collections.abc import AsyncIterator
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
async def store(db_path: Path) -> AsyncIterator[Store]:
    """A real SQLite database in a temporary folder, migrated to the latest schema."""
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
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with LocalDiscord() as local, await Store.open(tmp_path / "bot.sqlite3") as store:
        guild = local.add_guild("Study Hall")
        study = guild.add_text_channel("study")
        alice, bob = guild.add_member("alice"), guild.add_member("bob")
        admin = guild.add_member("admin", admin=True)
        clock = SteppedClock(NOW)
        bot = make_bot(store, clock)
        async with local.running(bot):
            yield Server(local, bot, store, clock, guild, study, alice, bob, admin)
