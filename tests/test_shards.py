"""Shards: Discord closes a connection that would carry more than 2,500 servers (4011), so the
bot runs as an AutoShardedBot. A small world stands in for a big one: the local Discord takes
its limits as parameters (here at most 3 guilds a shard, a shard recommended per 3)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import aiohttp
import discord
import jsonschema
import pytest

from bot.app import TwopassBot
from bot.posts.schedule import PostKind
from bot.runner import serve
from bot.server.records import GuildSettings
from bot.settings import Settings
from bot.sharding import check_shards, owns_guild, parse_shard_ids, shard_of, shards_run
from bot.startup_checks import EXIT_CONFIG, StartupError
from localdiscord import Guild, LocalDiscord
from localdiscord.gateway import shard_of as emulator_shard_of
from tests.conftest import SteppedClock
from tests.tables import Store

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday
SPEC = Path(__file__).resolve().parent.parent / "localdiscord" / "spec" / "openapi.json"
# Small and fast: Discord's 5 s between identifies becomes 50 ms (the bot waits a little more).
WINDOW = 0.05


def small_discord(**options: Any) -> LocalDiscord:
    limits: dict[str, Any] = {
        "max_guilds_per_shard": 3,
        "guilds_per_shard": 3,
        "identify_interval": WINDOW,
    }
    return LocalDiscord(**(limits | options))


def sharded_bot(store: Store, clock: SteppedClock | None = None, **settings: Any) -> TwopassBot:
    return TwopassBot(
        settings=Settings(_env_file=None, **settings),  # type: ignore[call-arg]
        db=store.db,
        clock=clock or SteppedClock(NOW),
        guild_ready_timeout=0.05,
        identify_interval=WINDOW * 2,
    )


def add_guilds(local: LocalDiscord, count: int) -> list[Guild]:
    guilds = []
    for number in range(count):
        guild = local.add_guild(f"Study Hall {number}")
        guild.add_text_channel("study")
        guild.add_member(f"learner {number}")
        guilds.append(guild)
    return guilds


def frames(local: LocalDiscord, shard_id: int, event: str) -> list[dict[str, Any]]:
    """The events of one type that went to a shard's session."""
    session = local.gateway.sessions[shard_id]
    decoded = (json.loads(frame) for _, frame in session.history)
    return [f["d"] for f in decoded if f["t"] == event]


# --- which shard -------------------------------------------------------------------------


def test_shard_of_is_discords_formula() -> None:
    # Discord's documentation example snowflake: its timestamp part decides the shard.
    guild_id = 175928847299117063
    assert guild_id >> 22 == 41944705796
    assert [shard_of(guild_id, n) for n in (1, 2, 3, 5)] == [0, 0, 2, 1]
    for guild_id in (0, 1 << 22, 3 << 22, 1_200_000_000_000_000_000, 2**63 - 1):
        for count in (1, 2, 7, 16):
            assert shard_of(guild_id, count) == (guild_id >> 22) % count
            assert emulator_shard_of(guild_id, count) == shard_of(guild_id, count)
    with pytest.raises(ValueError):
        shard_of(guild_id, 0)


def test_shard_ids_parse_and_must_fit_the_count() -> None:
    assert parse_shard_ids("0-3") == (0, 1, 2, 3)
    assert parse_shard_ids("0,2") == (0, 2)
    assert parse_shard_ids(" 4, 0-1,1 ") == (0, 1, 4)
    for bad in ("", "a", "3-1", "-1", "0-"):
        with pytest.raises(ValueError, match="shard id"):
            parse_shard_ids(bad)
    check_shards((0, 3), 4)
    check_shards(None, None)
    with pytest.raises(ValueError, match="shard id 4 is not below the shard count 4"):
        check_shards((0, 4), 4)
    with pytest.raises(ValueError, match="need a shard count"):
        check_shards((0,), None)


def test_shard_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWOPASS_SHARD_COUNT", "8")
    monkeypatch.setenv("TWOPASS_SHARD_IDS", "0-3")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.shard_count, settings.shard_ids) == (8, (0, 1, 2, 3))
    monkeypatch.setenv("TWOPASS_SHARD_IDS", "")
    monkeypatch.setenv("TWOPASS_SHARD_COUNT", "")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.shard_count, settings.shard_ids) == (None, None)


def test_run_with_shards_outside_the_count_says_so_in_one_line(tmp_path: Path) -> None:
    from tests.test_settings_and_cli import run_cli

    result = run_cli(tmp_path, "run", "--shards", "0-3", "--shard-count", "2", DISCORD_TOKEN="x")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "shard id 2 is not below the shard count 2" in lines[0]


def test_a_process_serves_only_its_shards_servers() -> None:
    ids = [n << 22 for n in range(8)]
    assert all(owns_guild(None, None)(g) for g in ids)
    assert all(owns_guild((0, 1, 2, 3), 4)(g) for g in ids)  # every shard: every server
    assert [g >> 22 for g in ids if owns_guild((1, 3), 4)(g)] == [1, 3, 5, 7]


# --- the local Discord's gateway ---------------------------------------------------------


async def test_gateway_bot_recommends_a_shard_per_thousand_guilds() -> None:
    spec = json.loads(SPEC.read_text())
    schema = {"$ref": "#/components/schemas/GatewayBotResponse", **spec}

    async def get(local: LocalDiscord) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                local.api_base + "/gateway/bot", headers={"Authorization": f"Bot {local.token}"}
            ) as response,
        ):
            assert response.status == 200
            body: dict[str, Any] = await response.json()
            jsonschema.validate(body, schema)
            return body

    async with LocalDiscord(max_concurrency=16) as local:
        body = await get(local)
        assert body["shards"] == 1  # at least one, even with no guild
        assert body["url"] == local.gateway_url
        limit = body["session_start_limit"]
        assert (limit["total"], limit["remaining"], limit["max_concurrency"]) == (1000, 1000, 16)
        assert 0 < limit["reset_after"] <= 86_400_000
    async with small_discord() as local:
        add_guilds(local, 7)
        assert (await get(local))["shards"] == 3  # ceil(7 / 3)


async def test_an_unsharded_client_past_the_limit_is_closed_with_4011() -> None:
    async with small_discord() as local:
        add_guilds(local, 4)
        client = discord.Client(intents=discord.Intents(guilds=True))
        with local.redirect(), pytest.raises(discord.ConnectionClosed) as caught:
            await asyncio.wait_for(client.start(local.token), 10)
        await client.close()
        assert caught.value.code == 4011
        problems = local.take_problems()
        assert len(problems) == 1 and "would carry 4 guilds, more than 3" in problems[0]


async def test_the_bot_on_one_shard_past_the_limit_says_sharding_is_required(
    tmp_path: Path,
) -> None:
    async with small_discord() as local:
        add_guilds(local, 4)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            DISCORD_TOKEN=local.token,
            database=tmp_path / "bot.sqlite3",
            shard_count=1,
        )
        with local.redirect(), pytest.raises(StartupError) as caught:
            await asyncio.wait_for(serve(settings), 10)
        # A count set too low is the settings' fault: fix it before restarting.
        assert caught.value.exit_code == EXIT_CONFIG
        message = str(caught.value)
        assert "Discord requires more shards" in message and "\n" not in message
        assert "shard 0 of 1" in message and "TWOPASS_SHARD_COUNT" in message
        assert any("4011" in p for p in local.take_problems())


# --- the sharded bot ---------------------------------------------------------------------


async def test_the_bot_starts_on_the_recommended_shards_and_answers_on_each(
    tmp_path: Path,
) -> None:
    async with small_discord() as local, await Store.open(tmp_path / "bot.sqlite3") as store:
        guilds = add_guilds(local, 7)  # more than one shard may carry: sharding is required
        by_shard = {k: {g.id for g in guilds if local.shard_of(g, 3) == k} for k in range(3)}
        assert all(by_shard.values()), "the guilds spread over every shard"
        bot = sharded_bot(store)
        async with local.running(bot):
            assert bot.shard_count == 3 and sorted(bot.shards) == [0, 1, 2]
            assert {g.id for g in bot.guilds} == {g.id for g in guilds}
            assert not any(g.unavailable for g in bot.guilds)
            for shard_id, expected in by_shard.items():
                # READY and GUILD_CREATE per shard: each guild on (guild_id >> 22) % 3 only.
                (ready,) = frames(local, shard_id, "READY")
                assert ready["shard"] == [shard_id, 3]
                assert {int(g["id"]) for g in ready["guilds"]} == expected
                created = {int(g["id"]) for g in frames(local, shard_id, "GUILD_CREATE")}
                assert created == expected == local.shard_guild_ids(shard_id)
                assert {bot.get_guild(g).shard_id for g in expected} == {shard_id}  # type: ignore[union-attr]
            # A command in a guild on the last shard is delivered there, and answered.
            guild = next(g for g in guilds if local.shard_of(g, 3) == 2)
            member = next(m for m in guild.members.values() if m.name.startswith("learner"))
            reply = await local.slash(member, "join", channel=guild.channels[0])
            assert "joined" in reply.content.lower() or reply.embeds
            delivered = frames(local, 2, "INTERACTION_CREATE")
            assert [int(i["guild_id"]) for i in delivered] == [guild.id]
            assert not frames(local, 0, "INTERACTION_CREATE")
            # A DM goes to shard 0.
            reply = await local.slash(member, "help", dm=True)
            assert "two passes" in str(reply.embeds).lower() + reply.content.lower()
            assert len(frames(local, 0, "INTERACTION_CREATE")) == 1
        # Three identifies, one per shard, none refused.
        assert [shard for _, shard, _ in local.gateway.identifies] == [0, 1, 2]


async def test_one_shard_resumes_and_gets_what_it_missed(tmp_path: Path) -> None:
    async with small_discord() as local, await Store.open(tmp_path / "bot.sqlite3") as store:
        guilds = add_guilds(local, 4)
        bot = sharded_bot(store)
        async with local.running(bot):
            assert bot.shard_count == 2
            guild = next(g for g in guilds if local.shard_of(g, 2) == 1)
            member = next(m for m in guild.members.values() if m.name.startswith("learner"))
            identified = local.gateway.identify_count
            await local.drop_connection(shard_id=1)
            assert local.gateway.sessions[0].live is not None
            # Sent while shard 1 has no socket: only its RESUME replay delivers it.
            reply = await local.slash(member, "join", channel=guild.channels[0])
            assert reply.content or reply.embeds
            assert local.gateway.resume_count == 1
            assert local.gateway.identify_count == identified
            await local.wait_connected()


async def test_shards_identify_as_fast_as_max_concurrency_allows(tmp_path: Path) -> None:
    interval = 0.3
    async with (
        small_discord(max_concurrency=2, identify_interval=interval) as local,
        await Store.open(tmp_path / "bot.sqlite3") as store,
    ):
        add_guilds(local, 10)  # 4 shards: buckets {0, 2} and {1, 3}
        bot = TwopassBot(
            settings=Settings(_env_file=None),  # type: ignore[call-arg]
            db=store.db,
            guild_ready_timeout=0.05,
            identify_interval=interval + 0.05,
        )
        async with local.running(bot):
            assert bot.shard_count == 4
        at = {shard: moment for moment, shard, _ in local.gateway.identifies}
        assert sorted(at) == [0, 1, 2, 3]
        # Each bucket waits its interval; the two buckets go side by side.
        assert at[2] - at[0] >= interval and at[3] - at[1] >= interval
        assert at[1] - at[0] < interval and at[3] - at[0] < 2 * interval


async def test_shards_that_identify_too_fast_are_caught() -> None:
    class Hasty(discord.AutoShardedClient):
        """Skips discord.py's 5 s wait the first time each shard identifies."""

        seen: set[int | None]

        async def before_identify_hook(
            self, shard_id: int | None, *, initial: bool = False
        ) -> None:
            if shard_id in self.seen:
                await asyncio.sleep(0.3)
            self.seen.add(shard_id)

    async with small_discord(identify_interval=0.2) as local:
        add_guilds(local, 4)
        client = Hasty(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
        client.seen = set()
        async with local.running(client):
            assert client.shard_count == 2
        problems = local.take_problems()
        assert problems and all("INVALID_SESSION" in p for p in problems)
        assert "shard 1 identified" in problems[0] and "max_concurrency 1" in problems[0]


def study_settings(
    guild: Guild, daily: time = time(11, 0), admins: int | None = None
) -> GuildSettings:
    """A configured server whose daily video at 11:00 UTC is an hour late at NOW, within its
    grace: a start-up catch-up posts it."""
    return GuildSettings(
        guild_id=guild.id,
        study_channel_id=guild.channels[0].id,
        timezone="UTC",
        checkin_weekday=0,
        checkin_time=time(18, 0),
        daily_time=daily,
        daily_enabled=True,
        checkin_enabled=True,
        curriculum_id="ml-engineer",
        cohort_start=NOW.date(),
        default_pace=5.0,
        admin_channel_id=admins,
    )


async def test_a_process_running_some_shards_schedules_only_their_servers(
    tmp_path: Path,
) -> None:
    async with small_discord() as local, await Store.open(tmp_path / "bot.sqlite3") as store:
        guilds = add_guilds(local, 4)
        for guild in guilds:
            await store.save_guild_settings(study_settings(guild, time(9, 0)), NOW)
        bot = sharded_bot(store, shard_count=2, shard_ids="1")
        async with local.running(bot):
            mine = {g.id for g in guilds if local.shard_of(g, 2) == 1}
            assert mine and len(mine) < len(guilds)
            assert {g.id for g in bot.guilds} == mine
            assert sorted(local.gateway.sessions) == [1]
            for guild in guilds:
                for kind in PostKind:
                    scheduled = bot.posts.next_fire(guild.id, kind) is not None
                    assert scheduled == (guild.id in mine)
            # A settings change for another process's server (in the shared database) leaves
            # it to that process.
            theirs = next(g for g in guilds if g.id not in mine)
            await bot.posts.rebuild(theirs.id)
            assert bot.posts.next_fire(theirs.id, PostKind.DAILY) is None
            await bot.posts.wait_idle()


async def test_each_process_catches_up_retries_and_tells_only_for_its_own_shards(
    tmp_path: Path,
) -> None:
    """Two processes share one database, each running one of two shards. The first finds
    Discord failing its posts and stops; the second never takes those over (the first resumes
    them when it comes back), posts only its own servers' and tells only its own admins."""
    async with small_discord() as local, await Store.open(tmp_path / "bot.sqlite3") as store:
        guilds = add_guilds(local, 4)
        for guild in guilds:
            admins = guild.add_text_channel("admins")
            await store.save_guild_settings(study_settings(guild, admins=admins.id), NOW)
        first = [g for g in guilds if local.shard_of(g, 2) == 0]
        second = [g for g in guilds if local.shard_of(g, 2) == 1]
        assert first and second

        def posted(guild: Guild) -> int:
            return sum(len(local.channel_messages(c)) for c in guild.channels)

        # The process of shard 0: Discord fails each of its daily videos once.
        local.server_error("POST", "/channels/{channel_id}/messages", times=len(first), status=503)
        clock = SteppedClock(NOW)
        bot = sharded_bot(store, clock, shard_count=2, shard_ids="0")
        async with local.running(bot):
            await bot.posts.wait_idle()
        pending = await store.posts.pending_posts()
        assert sorted(p.guild_id for p in pending) == sorted(g.id for g in first)
        assert all(p.failures == 1 for p in pending)
        assert not any(posted(g) for g in guilds)

        # The process of shard 1, after shard 0's first retries are due.
        clock.advance(minutes=1)
        for guild in guilds:
            await store.posts.add_note(guild.id, "checkin", f"note for {guild.name}", "posted", NOW)
        bot = sharded_bot(store, clock, shard_count=2, shard_ids="1")
        async with local.running(bot):
            await bot.posts.wait_idle()
            retried = await bot.posts.publisher.retry_due()
            await bot.posts.wait_idle()
        assert all(o.guild_id in {g.id for g in second} for o in retried)
        for guild in second:
            assert posted(guild) == 2  # the daily video and the note to its admins
        assert not any(posted(g) for g in first)
        still = await store.posts.pending_posts()
        assert sorted(p.guild_id for p in still) == sorted(g.id for g in first)
        assert all(p.failures == 1 and p.attempts == 1 for p in still)
        assert sorted(n.guild_id for n in await store.posts.untold()) == sorted(g.id for g in first)

        # Shard 0's process comes back: it resumes its own posts and tells its own admins.
        bot = sharded_bot(store, clock, shard_count=2, shard_ids="0")
        async with local.running(bot):
            await bot.posts.wait_idle()
        assert not await store.posts.pending_posts() and not await store.posts.untold()
        for guild in guilds:
            assert posted(guild) == 2
        for guild in guilds:
            record = await store.posts.post_record(guild.id, PostKind.DAILY, NOW.date().isoformat())
            assert record is not None and record.state == "posted"


async def test_a_process_down_while_another_runs_tells_its_own_admins_of_a_skipped_post(
    database_url: str,
) -> None:
    """Two processes on one database, a shard each. The first is down from 12:00 to 16:00 over
    its servers' 13:00 daily video while the second keeps recording signs of life: back at
    16:00, past the two hours' grace, it judges by its own last sign of life (12:00), not the
    other's (16:00), and tells its admins once that the post was skipped."""
    async with small_discord() as local, await Store.open(database_url) as store:
        guilds = add_guilds(local, 4)
        admins = {guild.id: guild.add_text_channel("admins") for guild in guilds}
        for guild in guilds:
            settings = study_settings(guild, daily=time(13, 0), admins=admins[guild.id].id)
            await store.save_guild_settings(settings, NOW)
        first = [g for g in guilds if local.shard_of(g, 2) == 0]
        second = [g for g in guilds if local.shard_of(g, 2) == 1]
        assert first and second

        def skipped(guild: Guild) -> list[str]:
            said = local.channel_messages(admins[guild.id])
            return [m.content for m in said if "was skipped" in m.content]

        clock = SteppedClock(NOW)  # 12:00, an hour before the daily videos
        for shard in ("0", "1"):
            bot = sharded_bot(store, clock, shard_count=2, shard_ids=shard)
            async with local.running(bot):
                await bot.posts.wait_idle()
        clock.now = NOW.replace(hour=13)  # the first process is down; the second posts at 13:00
        bot = sharded_bot(store, clock, shard_count=2, shard_ids="1")
        async with local.running(bot):
            await bot.posts.wait_idle()
            for _ in range(12):  # and keeps sweeping until 16:00
                clock.advance(minutes=15)
                await bot.posts.sweep()
        assert clock.now == NOW.replace(hour=16)
        assert await store.posts.last_seen() == clock.now  # the bot as a whole: the second

        for restart in range(2):  # the first is back at 16:00, and restarted again later
            bot = sharded_bot(store, clock, shard_count=2, shard_ids="0")
            async with local.running(bot):
                await bot.posts.wait_idle()
                if restart == 0:
                    assert bot.posts.publisher.offline_since == NOW
            clock.advance(minutes=10)
        for guild in first:
            assert local.channel_messages(guild.channels[0]) == []
            told = skipped(guild)
            assert len(told) == 1 and "offline until more than 2 hours later" in told[0]
        for guild in second:
            assert len(local.channel_messages(guild.channels[0])) == 1  # its daily video
            assert skipped(guild) == []


async def test_signs_of_life_are_per_shard_with_the_bots_one_row_for_the_rest(
    store: Store,
) -> None:
    def at(hour: int) -> datetime:
        return NOW.replace(hour=hour)

    mine, theirs = ((0, 4), (1, 4)), ((2, 4), (3, 4))
    assert await store.posts.last_seen(mine) is None  # never seen: nothing to alert about
    # A database from before per-shard rows has only the bot's one row: it stands in for all.
    await store.set_state("posts:last-seen", "2026-03-02 08:00:00")
    assert await store.posts.last_seen() == at(8)
    assert await store.posts.last_seen(mine) == at(8)
    await store.posts.seen(at(9), mine)
    await store.posts.seen(at(11), theirs)  # another process, later: not a sign of these
    assert await store.posts.last_seen(mine) == at(9)
    assert await store.posts.last_seen(theirs) == at(11)
    assert await store.posts.last_seen() == at(11)  # a process of every shard: the bot's row
    await store.posts.seen(at(12), ((0, 4),))
    assert await store.posts.last_seen(mine) == at(9)  # the oldest of a process's shards
    # A new shard count has no rows yet: the bot's latest sign of life, as before this split.
    assert await store.posts.last_seen(((0, 8), (1, 8))) == at(12)


def test_a_process_keeps_signs_of_life_for_the_shards_it_runs() -> None:
    assert shards_run(None, None) == () and shards_run((0, 1), None) == ()  # count not known
    every = ((0, 4), (1, 4), (2, 4), (3, 4))
    assert shards_run(None, 4) == every and shards_run((0, 1, 2, 3), 4) == every
    assert shards_run((2, 0), 4) == ((0, 4), (2, 4))


async def test_a_split_after_a_whole_bot_run_reads_that_run_not_the_split_before(
    store: Store,
) -> None:
    # Split in two, then one process of every shard for a while, then split again: a process's
    # shard was last seen during the whole bot's run, not during the first split.
    await store.posts.seen(NOW.replace(hour=8), ((0, 2),))
    await store.posts.seen(NOW.replace(hour=8), ((1, 2),))
    await store.posts.seen(NOW.replace(hour=14), shards_run(None, 2))
    assert await store.posts.last_seen(((0, 2),)) == NOW.replace(hour=14)
    assert await store.posts.last_seen(shards_run(None, 2)) == NOW.replace(hour=14)
