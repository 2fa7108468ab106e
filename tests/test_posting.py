"""Scheduled posts through the outbox: the real bot logged in to the local Discord, a real SQLite
file, the real scheduler's jobs called at controlled times. Faults are the local Discord's own:
429s, 5xx, requests that hang (answered or not), deleted channels, threads and messages, missing
permissions, and a database that refuses writes."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
import time_machine
from PIL import Image

from bot.app import TwopassBot
from bot.db.postgres import PostgresDatabase
from bot.group.board import Period
from bot.pictures import CheckinChart, DayPasses, MemberHours, PassState, canvas
from bot.pictures.checkin import day_bar
from bot.pictures.checkin import height as chart_height
from bot.posts import schedule
from bot.posts.messages import Mark, Outgoing, visible
from bot.posts.publisher import MAX_TRIES, Outcome, Publisher, Status
from bot.posts.schedule import PostKind
from bot.posts.scheduler import PostScheduler, trigger
from bot.server.rules import SetupChange
from curriculum import Pass, default_curriculum
from localdiscord import Channel, Guild, LocalDiscord, Member, rest
from localdiscord.model import Message, Permission
from tests.conftest import SteppedClock, make_bot
from tests.tables import Store, Study

ROADMAP = default_curriculum()
BERLIN_TZ = ZoneInfo("Europe/Berlin")
SEND = "/channels/{channel_id}/messages"
START_THREAD = "/channels/{channel_id}/messages/{message_id}/threads"


def local(*args: int, tz: ZoneInfo = BERLIN_TZ, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=tz, fold=fold)  # type: ignore[misc]


@dataclass
class World:
    """Two study servers on the local Discord and the real bot, its clock in the test's hand."""

    local: LocalDiscord
    store: Store
    study: Study
    clock: SteppedClock
    bot: TwopassBot
    berlin: Guild
    berlin_study: Channel
    york: Guild
    york_study: Channel
    admin: Member

    @property
    def publisher(self) -> Publisher:
        return self.bot.posts.publisher

    async def configure(
        self,
        guild: Guild,
        channel: Channel,
        timezone: str = "Europe/Berlin",
        *,
        daily: str = "09:00",
        checkin_day: str = "sunday",
        checkin: str = "18:00",
        start: date = date(2026, 2, 2),
        **more: object,
    ) -> None:
        change = SetupChange(
            channel_id=channel.id,
            timezone=timezone,
            daily_time=daily,
            checkin_day=checkin_day,
            checkin_time=checkin,
            by=self.admin.id,
            **more,  # type: ignore[arg-type]
        )
        await self.bot.servers.setup(guild.id, change, datetime(2026, 2, 1, tzinfo=UTC))
        async with self.store.transaction() as db:  # the cohort's calendar starts on a Monday
            await db.execute(
                "UPDATE guild_settings SET cohort_start = ? WHERE guild_id = ?",
                (start.isoformat(), guild.id),
            )
        await self.bot.posts.wait_idle()

    def posted(self, channel: Channel) -> list[Message]:
        return self.local.channel_messages(channel)

    def heads(self, channel: Channel) -> list[Message]:
        return [m for m in self.posted(channel) if "heck-in" in str(m.embeds)]

    async def sweep(self) -> list[Outcome]:
        outcomes = await self.publisher.retry_due()
        await self.bot.posts.wait_idle()
        return outcomes


@pytest_asyncio.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    async with LocalDiscord() as discord, await Store.open(database_url) as store:
        berlin = discord.add_guild("Berlin Study Hall")
        york = discord.add_guild("New York Study Hall")
        admin = berlin.add_member("admin", admin=True)
        york.add_member("admin", admin=True)
        clock = SteppedClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
        bot = make_bot(store, clock)
        async with discord.running(bot):
            bot.posts.scheduler.pause()  # jobs are called by the tests, at the tests' times
            await bot.posts.wait_idle()
            yield World(
                discord,
                store,
                Study(store, ROADMAP, "UTC"),
                clock,
                bot,
                berlin,
                berlin.add_text_channel("study"),
                york,
                york.add_text_channel("study"),
                admin,
            )
            await bot.posts.wait_idle()


def deny_bot(guild: Guild, channel: Channel, permission: int) -> None:
    channel.set_permissions(guild.me, deny=permission)


def marked(message: Message, mark: Mark) -> bool:
    return mark.on(Outgoing(message.content, tuple(message.embeds)))


def fast(world: World, timeout: float = 0.3) -> None:
    """Requests that hang fail their post after `timeout` seconds instead of a minute."""
    world.publisher.request_timeout = timedelta(seconds=timeout)


async def member_logs(
    world: World, guild: Guild, user: int, *passes: tuple[str, Pass, datetime]
) -> None:
    await world.study.join(guild.id, user, datetime(2026, 2, 1, tzinfo=UTC))
    for video, which, at in passes:
        await world.study.log(guild.id, user, video, which, at)


# --- when ---------------------------------------------------------------------------------


async def test_jobs_fire_at_local_time_in_two_timezones(world: World) -> None:
    await world.configure(world.berlin, world.berlin_study, "Europe/Berlin", checkin_day="sunday")
    await world.configure(
        world.york, world.york_study, "America/New_York", daily="07:30", checkin_day="friday"
    )
    posts = PostScheduler(world.publisher, world.bot.servers, world.store.posts)
    berlin, york = world.berlin.id, world.york.id
    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        await posts.start(catch_up=False)
        try:
            assert posts.next_fire(berlin, PostKind.DAILY) == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
            assert posts.next_fire(york, PostKind.DAILY) == datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
            assert posts.next_fire(berlin, PostKind.CHECKIN) == datetime(
                2026, 3, 8, 17, 0, tzinfo=UTC
            )
            assert posts.next_fire(york, PostKind.CHECKIN) == datetime(
                2026, 3, 6, 23, 0, tzinfo=UTC
            )
            await world.study.setup(berlin, SetupChange(daily_enabled=False), world.clock())
            await posts.rebuild(berlin)
            assert posts.next_fire(berlin, PostKind.DAILY) is None
            assert len(posts.scheduler.get_jobs()) == 4  # 3 posts + the retry sweep
        finally:
            await posts.close()
    ny = await world.store.guild_settings(york)
    assert ny is not None  # New York moves to daylight time on 8 March
    after = trigger(ny, PostKind.DAILY).get_next_fire_time(
        None, datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    )
    assert after == datetime(2026, 3, 9, 11, 30, tzinfo=UTC)


async def test_servers_on_one_schedule_share_one_job_and_a_change_moves_them_at_once(
    world: World,
) -> None:
    # Both servers post at the same local times in the same zone: one job per kind for both.
    await world.configure(world.berlin, world.berlin_study, "Europe/Berlin")
    await world.configure(world.york, world.york_study, "Europe/Berlin")
    posts, berlin, york = world.bot.posts, world.berlin.id, world.york.id
    assert posts.job_of(berlin, PostKind.CHECKIN) == posts.job_of(york, PostKind.CHECKIN)
    assert len(posts.scheduler.get_jobs()) == 3  # daily, check-in, the retry sweep
    shared = posts.next_fire(york, PostKind.DAILY)

    # New York moves its daily video: its own job at once; Berlin's is untouched.
    await world.bot.servers.setup(
        york, SetupChange(timezone="America/New_York", daily_time="07:30"), world.clock()
    )
    assert posts.job_of(york, PostKind.DAILY) != posts.job_of(berlin, PostKind.DAILY)
    moved = posts.next_fire(york, PostKind.DAILY)
    assert moved is not None
    assert moved.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") == "07:30"
    assert posts.next_fire(berlin, PostKind.DAILY) == shared
    assert len(posts.scheduler.get_jobs()) == 5

    # The shared check-in job posts for every server on it, each in its own channel.
    await world.bot.servers.setup(
        york, SetupChange(timezone="Europe/Berlin", daily_time="09:00"), world.clock()
    )
    assert len(posts.scheduler.get_jobs()) == 3  # the emptied schedules' jobs are gone
    for user, guild in ((1, world.berlin), (2, world.york)):
        await member_logs(
            world, guild, user, ("intro-llms", Pass.FIRST, datetime(2026, 3, 3, 10, tzinfo=UTC))
        )
    world.clock.now = local(2026, 3, 8, 18, 0, 5)
    job = posts.scheduler.get_job(posts.job_of(berlin, PostKind.CHECKIN) or "")
    assert job is not None
    await job.func(*job.args)
    await posts.wait_idle()
    assert len(world.heads(world.berlin_study)) == 1
    assert len(world.heads(world.york_study)) == 1


async def test_the_retry_sweep_runs_often_enough_for_a_first_retry_within_a_minute(
    world: World,
) -> None:
    job = world.bot.posts.scheduler.get_job("posts:retry")
    assert job is not None and job.trigger.interval <= timedelta(seconds=30)


async def test_dst_skipped_time_posts_once_right_after(world: World) -> None:
    await world.configure(world.berlin, world.berlin_study, daily="02:30")
    settings = await world.store.guild_settings(world.berlin.id)
    assert settings is not None
    # On 29 March 2026 Berlin's clocks jump from 02:00 to 03:00: 02:30 does not exist.
    fire = trigger(settings, PostKind.DAILY).get_next_fire_time(None, local(2026, 3, 28, 12, 0))
    assert fire is not None
    fire = fire.astimezone(UTC)
    assert fire == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST, right after the skip
    world.clock.now = fire
    assert (await world.publisher.fire(world.berlin.id, PostKind.DAILY)).status is Status.POSTED
    world.clock.now = fire + timedelta(minutes=20)
    outcome = await world.publisher.fire(world.berlin.id, PostKind.DAILY)
    assert outcome.status is Status.ALREADY_POSTED
    assert [m.embeds[0]["title"] for m in world.posted(world.berlin_study)] == [
        "Video of the day - Sun 29 Mar"
    ]


async def test_dst_repeated_time_posts_once(world: World) -> None:
    await world.configure(world.berlin, world.berlin_study, daily="02:30", checkin="02:30")
    settings = await world.store.guild_settings(world.berlin.id)
    assert settings is not None
    fires = []
    for kind in PostKind:  # on 25 October 2026 Berlin's 02:00-03:00 happens twice
        cron = trigger(settings, kind)
        first = cron.get_next_fire_time(None, local(2026, 10, 24, 12, 0))
        assert first is not None
        second = cron.get_next_fire_time(first, first + timedelta(seconds=1))
        assert second is not None
        assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
        fires += [(first.astimezone(UTC), kind), (second.astimezone(UTC), kind)]
    statuses = []
    for moment, kind in sorted(fires):
        world.clock.now = moment
        statuses.append((await world.publisher.fire(world.berlin.id, kind)).status.name)
    assert sorted(statuses) == ["ALREADY_POSTED", "ALREADY_POSTED", "POSTED", "POSTED"]
    assert len(world.posted(world.berlin_study)) == 2  # a daily, a check-in head (rest in thread)


# --- exactly once -------------------------------------------------------------------------


async def test_restart_never_posts_twice(world: World, tmp_path: Path) -> None:
    await world.configure(world.berlin, world.berlin_study)
    world.clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    for _ in range(2):  # a second bot on the same database, half an hour later
        bot = make_bot(world.store, world.clock)
        async with world.local.running(bot):
            await bot.posts.wait_idle()
        world.clock.advance(minutes=30)
    assert len(world.posted(world.berlin_study)) == 1


@pytest.mark.parametrize(
    ("kind", "late", "posted"),
    [
        (PostKind.DAILY, timedelta(hours=1, minutes=59), True),
        (PostKind.DAILY, timedelta(hours=2, minutes=1), False),
        (PostKind.CHECKIN, timedelta(hours=5, minutes=59), True),
        (PostKind.CHECKIN, timedelta(hours=6, minutes=1), False),
    ],
)
async def test_catch_up_within_grace_and_skip_after_with_a_log_line(
    world: World,
    kind: PostKind,
    late: timedelta,
    posted: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await world.configure(world.berlin, world.berlin_study, checkin_day="monday", checkin="09:00")
    world.clock.now = (local(2026, 3, 2, 9, 0) + late).astimezone(UTC)
    caplog.set_level("INFO")
    outcome = await world.publisher.fire(world.berlin.id, kind)
    assert (outcome.status is Status.POSTED) is posted
    assert bool(world.posted(world.berlin_study)) is posted
    assert ("skipping the" in caplog.text) is not posted


async def test_a_post_missed_while_the_bot_was_down_tells_the_admins_once(world: World) -> None:
    await world.configure(world.berlin, world.berlin_study)
    world.clock.now = local(2026, 3, 3, 8, 0).astimezone(UTC)
    await world.bot.posts.seen()  # the bot was running at 08:00, then went down
    world.clock.now = local(2026, 3, 3, 12, 0).astimezone(UTC)
    for _ in range(2):  # back at 12:00, past the daily video's two hours; restarted again later
        bot = make_bot(world.store, world.clock)
        async with world.local.running(bot):
            await bot.posts.wait_idle()
        world.clock.advance(minutes=10)
    assert world.posted(world.berlin_study) == []
    told = world.local.dm_messages(world.admin)
    assert len(told) == 1 and "was skipped" in told[0].content and "Tue 3 Mar" in told[0].content
    notes = await world.store.post_notes(world.berlin.id)
    assert len(notes) == 1 and "was skipped" in notes[0]


async def test_a_lost_answer_is_retried_with_the_same_nonce_inside_discords_window(
    world: World,
) -> None:
    await world.configure(world.berlin, world.berlin_study)
    fast(world)
    world.clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    # Discord creates the message, but its answer never comes back.
    world.local.hang("POST", SEND, handled=True)
    outcome = await world.publisher.fire(world.berlin.id, PostKind.DAILY)
    assert outcome.status is Status.FAILED and outcome.detail == "timed out"
    assert len(world.posted(world.berlin_study)) == 1
    world.clock.advance(seconds=35)
    assert [o.status for o in await world.sweep()] == [Status.POSTED]
    posted = world.posted(world.berlin_study)
    assert len(posted) == 1  # Discord answered the repeated nonce with the message it had
    record = await world.store.post_record(world.berlin.id, "daily", "2026-03-03")
    assert record is not None and record.done and record.message_id == posted[0].id
    assert not world.local.requests_to("GET", SEND)  # inside the window: no lookup needed


async def test_a_lost_answer_resumed_after_discord_forgot_the_nonce_is_found_not_repeated(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.configure(world.berlin, world.berlin_study)
    fast(world)
    world.clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    world.local.hang("POST", SEND, handled=True)
    assert (await world.publisher.fire(world.berlin.id, PostKind.DAILY)).status is Status.FAILED
    monkeypatch.setattr(rest, "NONCE_WINDOW_SECONDS", 0.0)
    world.clock.advance(minutes=30)
    assert [o.status for o in await world.publisher.resume_unsent()] == [Status.POSTED]
    posted = world.posted(world.berlin_study)
    assert len(posted) == 1 and world.local.requests_to("GET", SEND)
    assert marked(posted[0], Mark("daily", "2026-03-03", 1))


async def test_a_check_in_interrupted_between_parts_resumes_without_repeats(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.configure(world.berlin, world.berlin_study, checkin_day="monday")
    await member_logs(
        world, world.berlin, 1, ("micrograd", Pass.FIRST, datetime(2026, 3, 1, 9, tzinfo=UTC))
    )
    fast(world)
    world.clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    # The head and the first part are out; the first part's answer is lost.
    world.local.hang("POST", SEND, skip=1, handled=True)
    assert (await world.publisher.fire(world.berlin.id, PostKind.CHECKIN)).status is Status.FAILED
    monkeypatch.setattr(rest, "NONCE_WINDOW_SECONDS", 0.0)
    world.clock.advance(minutes=30)
    assert [o.status for o in await world.sweep()] == [Status.POSTED]
    head = world.heads(world.berlin_study)
    assert len(head) == 1
    thread = world.local.world.channels[head[0].id]
    in_thread = world.local.channel_messages(thread)
    assert len(in_thread) >= 2
    key = (await world.store.latest_checkin(world.berlin.id)).period_key
    for index, message in enumerate([head[0], *in_thread], start=1):  # each once, in order
        assert marked(message, Mark("checkin", key, index))


async def test_a_failed_post_is_retried_within_a_minute_then_less_often(world: World) -> None:
    await world.configure(world.berlin, world.berlin_study)
    world.clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    world.local.server_error("POST", SEND, times=2, status=503)
    assert (await world.publisher.fire(world.berlin.id, PostKind.DAILY)).status is Status.FAILED
    world.clock.advance(seconds=10)
    assert await world.sweep() == []  # not yet
    world.clock.advance(seconds=25)
    assert [o.status for o in await world.sweep()] == [Status.FAILED]
    world.clock.advance(seconds=60)
    assert await world.sweep() == []  # the next try waits longer
    world.clock.advance(seconds=65)
    assert [o.status for o in await world.sweep()] == [Status.POSTED]
    assert len(world.posted(world.berlin_study)) == 1


@pytest.mark.parametrize("late", [False, True])
async def test_a_partly_sent_post_is_given_up_after_a_few_tries_and_admins_are_told(
    world: World, late: bool, caplog: pytest.LogCaptureFixture
) -> None:
    await world.configure(world.berlin, world.berlin_study, checkin_day="monday")
    world.clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    # The head goes out; every later part fails.
    failing = world.local.hang("POST", SEND, skip=1, times=1000, handled=False)
    fast(world)
    assert (await world.publisher.fire(world.berlin.id, PostKind.CHECKIN)).status is Status.FAILED
    if late:
        world.clock.advance(hours=7)
    outcomes: list[Outcome] = []
    # Only hung requests from here to the release: a short timeout keeps 30 sweeps quick.
    fast(world, 0.05)
    for _ in range(30):  # two and a half hours of the retry sweep
        world.clock.advance(minutes=5)
        outcomes += await world.sweep()
    world.local.release_hangs()
    fast(world)  # requests that answer again must not be timed out by a slow machine
    await world.sweep()  # Discord answers again: the admin hears of it
    statuses = [o.status for o in outcomes]
    assert statuses[-1] is Status.GAVE_UP and statuses.count(Status.GAVE_UP) == 1
    assert statuses.count(Status.FAILED) == (0 if late else MAX_TRIES - 1)
    assert "giving up on the rest of the checkin post" in caplog.text
    assert failing.held >= 1
    assert await world.store.unsent_posts() == []
    told = world.local.dm_messages(world.admin)
    assert len(told) == 1 and "only partly posted" in told[0].content
    # An unrelated settings change keeps the note: the admins have not seen it in /setup show.
    await world.bot.servers.setup(world.berlin.id, SetupChange(daily_time="08:00"), world.clock())
    await world.bot.posts.wait_idle()
    notes = await world.store.post_notes(world.berlin.id)
    assert len(notes) == 1 and "only partly posted" in notes[0]
    settings = await world.store.guild_settings(world.berlin.id)
    assert settings is not None and settings.checkin_enabled


# --- what admins do -----------------------------------------------------------------------


async def test_a_retry_follows_setup_channel_to_the_new_channel_and_keeps_posts_on(
    world: World,
) -> None:
    """Defect 1: the retry went to the deleted old channel and turned the post off."""
    await world.configure(world.berlin, world.berlin_study)
    fast(world)
    world.clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    world.local.hang("POST", SEND, handled=False, where={"channel_id": world.berlin_study.id})
    assert (await world.publisher.fire(world.berlin.id, PostKind.DAILY)).status is Status.FAILED
    # The admin moves the bot to a new channel and deletes the old one.
    fresh = world.berlin.add_text_channel("study-2")
    await world.local.slash(world.admin, "setup channel", channel=fresh, channel_=fresh)
    world.berlin_study.delete()
    await world.local.wait_until(lambda: len(world.posted(fresh)) == 1)
    await world.bot.posts.wait_idle()
    world.clock.advance(minutes=5)
    await world.sweep()
    assert len(world.posted(fresh)) == 1 and "Video of the day" in str(
        world.posted(fresh)[0].embeds
    )
    settings = await world.store.guild_settings(world.berlin.id)
    assert settings is not None and settings.daily_enabled and settings.study_channel_id == fresh.id
    shown = await world.local.slash(world.admin, "setup show", channel=fresh)
    assert "Needs attention" not in str(shown.embeds)


async def test_turning_a_post_off_cancels_its_pending_retry(world: World) -> None:
    """Defect 2: the retry sweep ignored the off switch."""
    await world.configure(world.berlin, world.berlin_study)
    world.clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    world.local.server_error("POST", SEND, times=1, status=503)
    assert (await world.publisher.fire(world.berlin.id, PostKind.DAILY)).status is Status.FAILED
    await world.local.slash(world.admin, "setup posts", channel=world.berlin_study, daily="off")
    await world.bot.posts.wait_idle()
    world.clock.advance(minutes=1)
    assert await world.sweep() == []
    assert world.posted(world.berlin_study) == []
    record = await world.store.post_record(world.berlin.id, "daily", "2026-03-03")
    assert record is not None and record.state == "cancelled"
    parts = await world.store.parts(record.key)
    assert [p.state for p in parts] == ["cancelled"]


async def refuse_writes(store: Store, refuse: bool) -> None:
    """Make the database refuse (or accept again) what a reservation writes, as a full disk
    would: SQLite goes read-only; PostgreSQL gets a constraint no new post can meet."""
    if isinstance(store.db, PostgresDatabase):
        await store.db.rows(
            "ALTER TABLE posts ADD CONSTRAINT refuse_all CHECK (false) NOT VALID"
            if refuse
            else "ALTER TABLE posts DROP CONSTRAINT refuse_all"
        )
    else:
        await store.db.rows(f"PRAGMA query_only = {'ON' if refuse else 'OFF'}")


async def test_a_reservation_the_database_refused_goes_out_once_writes_work_again(
    world: World,
) -> None:
    """Defect 3: a failed reservation lost the post for good."""
    await world.configure(world.berlin, world.berlin_study)
    world.clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    await refuse_writes(world.store, True)  # the database refuses every write
    outcome = await world.publisher.fire(world.berlin.id, PostKind.DAILY)
    assert outcome.status is Status.FAILED and "not reserved" in outcome.detail
    world.clock.advance(seconds=15)
    assert [o.status for o in await world.sweep()] == [Status.FAILED]
    assert world.posted(world.berlin_study) == []
    await refuse_writes(world.store, False)  # the disk has room again
    world.clock.advance(minutes=30)
    assert [o.status for o in await world.sweep()] == [Status.POSTED]
    world.clock.advance(seconds=15)
    assert await world.sweep() == []
    assert len(world.posted(world.berlin_study)) == 1


async def test_a_channel_the_bot_may_not_post_in_turns_the_post_off_and_tells_admins(
    world: World,
) -> None:
    await world.configure(world.berlin, world.berlin_study)
    await world.configure(world.york, world.york_study)
    deny_bot(world.berlin, world.berlin_study, Permission.SEND_MESSAGES)
    world.clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    outcomes = {o.guild_id: o for o in await world.publisher.catch_up() if o.kind is PostKind.DAILY}
    assert outcomes[world.berlin.id].status is Status.TURNED_OFF
    assert outcomes[world.york.id].status is Status.POSTED
    settings = await world.store.guild_settings(world.berlin.id)
    assert settings is not None and not settings.daily_enabled and settings.checkin_enabled
    told = world.local.dm_messages(world.admin)
    assert len(told) == 1 and "/setup posts daily:on" in told[0].content
    # The admin fixes the channel and turns the post back on: the note goes.
    await world.bot.servers.setup(world.berlin.id, SetupChange(daily_enabled=True), world.clock())
    assert await world.store.post_notes(world.berlin.id) == []


async def test_a_deleted_study_channel_shows_at_once_and_the_admin_channel_hears_of_it(
    world: World,
) -> None:
    alerts = world.berlin.add_text_channel("bot-admin")
    await world.configure(world.berlin, world.berlin_study, admin_channel_id=alerts.id)
    world.berlin_study.delete()
    await world.local.wait_until(lambda: len(world.posted(alerts)) == 1)
    assert "was deleted" in world.posted(alerts)[0].content
    assert "/setup channel" in world.posted(alerts)[0].content
    shown = await world.local.slash(world.admin, "setup show", channel=alerts)
    text = str(shown.embeds)
    assert "not set" in text and "was deleted" in text
    # The daily video due meanwhile waits for a new channel, within its grace window.
    world.clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    assert (
        await world.publisher.fire(world.berlin.id, PostKind.DAILY)
    ).status is Status.NOT_CONFIGURED
    fresh = world.berlin.add_text_channel("study-2")
    await world.local.slash(world.admin, "setup channel", channel=alerts, channel_=fresh)
    await world.publisher.fire(world.berlin.id, PostKind.DAILY)
    assert len(world.posted(fresh)) == 1 and world.local.dm_messages(world.admin) == []
    assert await world.store.post_notes(world.berlin.id) == []


# --- threads ------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["deleted", "locked"])
async def test_an_unusable_thread_sends_the_rest_to_the_channel_and_keeps_check_ins_on(
    world: World, fault: str
) -> None:
    await world.configure(world.berlin, world.berlin_study, checkin_day="monday")
    await member_logs(
        world, world.berlin, 1, ("micrograd", Pass.FIRST, datetime(2026, 3, 1, 9, tzinfo=UTC))
    )
    # Long enough that the sends before the hang finish on a busy machine (PostgreSQL beside).
    fast(world, 0.2)
    world.clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    # The head and the first part are out, then Discord has a bad minute.
    world.local.hang("POST", SEND, skip=2, handled=False)
    assert (await world.publisher.fire(world.berlin.id, PostKind.CHECKIN)).status is Status.FAILED
    head = world.heads(world.berlin_study)[0]
    thread = world.local.world.channels[head.id]
    assert len(world.local.channel_messages(thread)) == 1
    if fault == "deleted":
        thread.delete()
    else:
        deny_bot(world.berlin, world.berlin_study, Permission.SEND_MESSAGES_IN_THREADS)
    world.clock.advance(seconds=40)
    assert [o.status for o in await world.sweep()] == [Status.POSTED]
    rest = world.posted(world.berlin_study)[1:]
    key = (await world.store.latest_checkin(world.berlin.id)).period_key
    assert rest and marked(rest[0], Mark("checkin", key, 3))
    settings = await world.store.guild_settings(world.berlin.id)
    assert settings is not None and settings.checkin_enabled
    assert await world.store.post_notes(world.berlin.id) == []


async def test_a_deleted_first_message_sends_the_rest_to_the_channel(world: World) -> None:
    await world.configure(world.berlin, world.berlin_study, checkin_day="monday")
    fast(world)
    world.clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    # The first message goes out; starting its thread hangs, and meanwhile it is deleted.
    world.local.hang("POST", START_THREAD, handled=False)
    assert (await world.publisher.fire(world.berlin.id, PostKind.CHECKIN)).status is Status.FAILED
    head = world.heads(world.berlin_study)[0]
    await world.bot.http.delete_message(world.berlin_study.id, head.id)
    world.clock.advance(seconds=40)
    assert [o.status for o in await world.sweep()] == [Status.POSTED]
    record = await world.store.latest_checkin(world.berlin.id)
    parts = await world.store.parts(record.key)
    # Every part but the deleted head, in the channel itself, once.
    assert len(world.posted(world.berlin_study)) == len(parts) - 1 >= 1
    settings = await world.store.guild_settings(world.berlin.id)
    assert settings is not None and settings.checkin_enabled


# --- many servers -------------------------------------------------------------------------


async def test_one_slow_server_does_not_hold_up_another(world: World) -> None:
    await world.configure(world.berlin, world.berlin_study)
    await world.configure(world.york, world.york_study, "Europe/Berlin")
    slow = world.local.hang(
        "POST", SEND, handled=False, where={"channel_id": world.berlin_study.id}
    )
    world.clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    running = asyncio.ensure_future(world.publisher.catch_up())
    # Berlin's send hangs until released; York's goes out meanwhile (in either order: on
    # PostgreSQL the two reservations run side by side, so York may even be first).
    await world.local.wait_until(lambda: bool(world.posted(world.york_study)) and slow.held == 1)
    assert world.posted(world.berlin_study) == []
    world.local.release_hangs()
    await running
    assert len(world.posted(world.berlin_study)) == 1


async def test_a_hung_request_frees_its_slot_and_its_post_is_retried(world: World) -> None:
    await world.configure(world.berlin, world.berlin_study)
    await world.configure(world.york, world.york_study, "Europe/Berlin")
    world.local.hang("POST", SEND, handled=False, where={"channel_id": world.berlin_study.id})
    world.publisher.concurrency = 1
    world.publisher._slots = asyncio.Semaphore(1)
    fast(world)
    world.clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    outcomes = {o.guild_id: o for o in await world.publisher.catch_up() if o.kind is PostKind.DAILY}
    assert outcomes[world.berlin.id].status is Status.FAILED
    assert outcomes[world.york.id].status is Status.POSTED  # one slot, yet not held up
    world.clock.advance(seconds=35)
    assert [o.status for o in await world.sweep()] == [Status.POSTED]
    assert len(world.posted(world.berlin_study)) == 1


async def test_a_rate_limited_post_is_retried_soon_every_time_without_using_up_its_tries(
    world: World,
) -> None:
    await world.configure(world.berlin, world.berlin_study)
    world.clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    rounds = MAX_TRIES + 2
    world.local.rate_limit("POST", SEND, times=10_000, retry_after=0.001)
    assert (await world.publisher.fire(world.berlin.id, PostKind.DAILY)).status is Status.FAILED
    for _ in range(rounds - 1):  # at the next sweep each time, not after 30 s, 2 or 5 minutes
        world.clock.advance(seconds=15)
        assert [o.status for o in await world.sweep()] == [Status.FAILED]
    world.local.limiter.faults.clear()  # Discord lets requests through again
    world.clock.advance(seconds=15)
    assert [o.status for o in await world.sweep()] == [Status.POSTED]
    record = await world.store.post_record(world.berlin.id, "daily", "2026-03-03")
    assert record is not None and record.failures == 0 and record.attempts == rounds


async def test_locks_of_finished_posts_are_dropped(world: World) -> None:
    await world.configure(world.berlin, world.berlin_study)
    for day in range(3, 10):
        world.clock.now = local(2026, 3, day, 9, 0).astimezone(UTC)
        both = await asyncio.gather(
            world.publisher.fire(world.berlin.id, PostKind.DAILY),
            world.publisher.fire(world.berlin.id, PostKind.DAILY),
        )
        assert sorted(o.status.name for o in both) == ["ALREADY_POSTED", "POSTED"]
    assert world.publisher._locks == {}
    assert len(world.posted(world.berlin_study)) == 7


# --- the check-in itself ------------------------------------------------------------------


async def test_checkin_now_on_a_wednesday_leaves_sundays_check_in_its_own_days(
    world: World,
) -> None:
    """Defect 4: `/checkin now` used up the week's scheduled check-in."""
    await world.configure(world.berlin, world.berlin_study, start=date(2026, 3, 2))
    monday, thursday = datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 5, 9, tzinfo=UTC)
    await member_logs(world, world.berlin, 1, ("micrograd", Pass.FIRST, monday))
    await member_logs(world, world.berlin, 2, ("makemore-1", Pass.FIRST, thursday))
    world.clock.now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # Wednesday
    first = await world.local.slash(world.admin, "checkin now", channel=world.berlin_study)
    again = await world.local.slash(world.admin, "checkin now", channel=world.berlin_study)
    assert "Posted the check-in for 2-3 March" in first.content
    assert "already posted" in again.content
    world.clock.now = local(2026, 3, 8, 18, 0).astimezone(UTC)  # the scheduled Sunday check-in
    assert (await world.publisher.fire(world.berlin.id, PostKind.CHECKIN)).status is Status.POSTED
    titles = [m.embeds[0]["title"] for m in world.heads(world.berlin_study)]
    assert titles == ["Check-in - 2-3 March", "Check-in - 4-7 March"]
    first_head, sunday_head = world.heads(world.berlin_study)
    assert "**1 pass**" in first_head.embeds[0]["description"]  # Monday's, not Thursday's
    assert "<@1>" in str(first_head.embeds) and "<@2>" in str(sunday_head.embeds)


async def test_checkin_now_posts_while_the_scheduled_check_in_is_off(world: World) -> None:
    """The off switch is for the scheduled check-in: an admin's `/checkin now` still posts."""
    await world.configure(world.berlin, world.berlin_study, start=date(2026, 3, 2))
    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
    await member_logs(world, world.berlin, 1, ("micrograd", Pass.FIRST, monday))
    await world.local.slash(world.admin, "setup posts", channel=world.berlin_study, checkin="off")
    world.clock.now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # Wednesday
    first = await world.local.slash(world.admin, "checkin now", channel=world.berlin_study)
    heads = world.heads(world.berlin_study)
    assert [m.embeds[0]["title"] for m in heads] == ["Check-in - 2-3 March"]
    assert "<@1>" in str(heads[0].embeds)
    assert "Posted the check-in for 2-3 March" in first.content
    assert "The weekly check-in is off" in first.content  # no scheduled one follows
    again = await world.local.slash(world.admin, "checkin now", channel=world.berlin_study)
    assert "already posted" in again.content and len(world.heads(world.berlin_study)) == 1
    settings = await world.store.guild_settings(world.berlin.id)
    assert settings is not None and not settings.checkin_enabled  # the switch stays as set


async def test_a_checkin_now_that_failed_is_retried_while_check_ins_are_off(world: World) -> None:
    await world.configure(world.berlin, world.berlin_study, start=date(2026, 3, 2))
    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
    await member_logs(world, world.berlin, 1, ("micrograd", Pass.FIRST, monday))
    await world.local.slash(world.admin, "setup posts", channel=world.berlin_study, checkin="off")
    world.clock.now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    world.local.server_error("POST", SEND, times=1, status=503)
    first = await world.local.slash(world.admin, "checkin now", channel=world.berlin_study)
    assert "I will keep trying" in first.content and world.heads(world.berlin_study) == []
    # A settings change while the check-in is off cancels scheduled posts, not this one.
    await world.local.slash(world.admin, "setup posts", channel=world.berlin_study, daily="on")
    await world.bot.posts.wait_idle()
    world.clock.advance(minutes=1)
    await world.sweep()
    heads = world.heads(world.berlin_study)
    assert [m.embeds[0]["title"] for m in heads] == ["Check-in - 2-3 March"]


async def test_a_checkin_now_refused_while_check_ins_are_off_asks_to_fix_the_channel(
    world: World,
) -> None:
    await world.configure(world.berlin, world.berlin_study, start=date(2026, 3, 2))
    await world.local.slash(world.admin, "setup posts", channel=world.berlin_study, checkin="off")
    deny_bot(world.berlin, world.berlin_study, Permission.SEND_MESSAGES)
    world.clock.now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    refused = await world.local.slash(world.admin, "checkin now", channel=world.berlin_study)
    assert "could not be posted" in refused.content
    assert "run `/checkin now` again" in refused.content
    assert "turn it back on" not in refused.content  # it was off already; nothing was turned off
    told = world.local.dm_messages(world.admin)
    assert len(told) == 1 and "run `/checkin now` again" in told[0].content


async def test_a_check_in_a_day_after_the_last_nudges_only_members_quiet_for_a_week(
    world: World,
) -> None:
    await world.configure(world.berlin, world.berlin_study, start=date(2026, 3, 2))
    joined = datetime(2026, 2, 1, tzinfo=UTC)
    for user in (1, 3):  # both asked to be reminded when quiet for a week
        await world.study.join(world.berlin.id, user, joined, reminders=True)
    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
    await world.study.log(world.berlin.id, 1, "micrograd", Pass.FIRST, monday)

    def nudged(head: Message) -> str:
        thread = world.local.world.channels.get(head.id)
        rest = world.local.channel_messages(thread) if thread is not None else []
        return " ".join(m.content for m in [head, *rest] if "Quiet week?" in m.content)

    for day in (4, 5):  # Wednesday covers 2-3 March, Thursday only the 4th
        world.clock.now = datetime(2026, 3, day, 12, 0, tzinfo=UTC)
        await world.local.slash(world.admin, "checkin now", channel=world.berlin_study)
    wednesday, thursday = world.heads(world.berlin_study)
    assert thursday.embeds[0]["title"] == "Check-in - 4 March"
    assert "<@3>" in nudged(wednesday) and "<@1>" not in nudged(wednesday)
    # Member 1 studied on Monday, three days ago: not quiet for a week, so not pinged.
    assert "<@3>" in nudged(thursday) and "<@1>" not in nudged(thursday)


async def test_a_tie_in_the_check_in_goes_to_who_got_there_first_as_on_the_boards(
    world: World,
) -> None:
    await world.configure(
        world.berlin, world.berlin_study, checkin_day="monday", start=date(2026, 2, 23)
    )
    # Member 7 logs the same pass two days before member 2: equal points, 7 there first.
    await member_logs(
        world, world.berlin, 7, ("micrograd", Pass.FIRST, datetime(2026, 2, 24, 9, tzinfo=UTC))
    )
    await member_logs(
        world, world.berlin, 2, ("micrograd", Pass.FIRST, datetime(2026, 2, 26, 9, tzinfo=UTC))
    )
    world.clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    await world.publisher.fire(world.berlin.id, PostKind.CHECKIN)
    head = world.heads(world.berlin_study)[0].embeds[0]
    top = next(f["value"] for f in head["fields"] if f["name"] == "Top two")
    assert top.index("<@7>") < top.index("<@2>"), top
    board = await world.bot.groups.leaderboard(
        world.berlin.id, Period.WEEK, world.clock.now, since=date(2026, 2, 23)
    )
    assert [e.user_id for e in board.entries] == [7, 2]  # as the week's board has it


async def test_members_never_read_bookkeeping(world: World) -> None:
    await world.configure(
        world.berlin, world.berlin_study, checkin_day="monday", start=date(2026, 2, 23)
    )
    await member_logs(
        world, world.berlin, 1, ("micrograd", Pass.FIRST, datetime(2026, 3, 1, 9, tzinfo=UTC))
    )
    world.clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    await world.publisher.fire(world.berlin.id, PostKind.CHECKIN)
    head = world.heads(world.berlin_study)[0]
    messages = [head, *world.local.channel_messages(world.local.world.channels[head.id])]
    text = " ".join(visible(m.content + str(m.embeds)) for m in messages)
    assert not re.search(r"\d{4}-W\d\d|twopass ·|\d/\d\b", text)
    assert head.embeds[0]["title"] == "Weekly check-in - Week of 23 February - 1 March"


async def test_big_cohort_check_in_stays_within_discord_limits(world: World) -> None:
    await world.configure(world.berlin, world.berlin_study, checkin_day="monday")
    deny_bot(world.berlin, world.berlin_study, Permission.CREATE_PUBLIC_THREADS)
    joined = datetime(2026, 2, 1, tzinfo=UTC)
    videos = [video.id for _, video in ROADMAP.videos()]
    for user in range(1, 301):
        await world.study.join(world.berlin.id, user, joined, reminders=user % 3 == 0)
        if user % 3:
            for video in videos[: user % 7 + 1]:
                await world.study.log(
                    world.berlin.id, user, video, Pass.FIRST, datetime(2026, 3, 1, 9, tzinfo=UTC)
                )
    world.clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    outcome = await world.publisher.fire(world.berlin.id, PostKind.CHECKIN)
    assert outcome.status is Status.POSTED  # the local Discord checked every body against the spec
    posted = world.posted(world.berlin_study)
    assert len(posted) > 3  # no thread permission: every part in the channel
    key = outcome.period_key or ""
    for index, message in enumerate(posted, start=1):
        assert marked(message, Mark("checkin", key, index))  # even the plain-text ones
    everything = " ".join(m.content + str(m.embeds) for m in posted)
    assert "<@3>" in everything and "Top three" in everything and "built or broke" in everything
    nudged = " ".join(m.content for m in posted)
    assert "<@3>" in nudged and "<@1>" not in nudged


async def test_daily_post_names_the_video_and_yesterday(world: World) -> None:
    await world.configure(world.berlin, world.berlin_study)
    for user in (1, 2):
        await world.study.join(world.berlin.id, user, datetime(2026, 2, 1, tzinfo=UTC))
    await world.study.log(
        world.berlin.id, 1, "micrograd", Pass.FIRST, datetime(2026, 3, 2, 20, tzinfo=UTC)
    )
    world.clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    await world.publisher.fire(world.berlin.id, PostKind.DAILY)
    embed = world.posted(world.berlin_study)[0].embeds[0]
    text = embed["description"] + str(embed["fields"])
    assert "http" in text and "1 member logged a pass yesterday" in text
    assert "Focus of the" in str(embed["fields"])


async def test_no_daily_video_before_the_cohort_starts(world: World) -> None:
    # The cohort starts on Monday 9 March; the admin set it up the week before.
    await world.configure(world.berlin, world.berlin_study, start=date(2026, 3, 9))
    world.clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    outcome = await world.publisher.fire(world.berlin.id, PostKind.DAILY)
    assert outcome.status is Status.NOTHING_YET
    # Late after a restart, the day before the start: nothing was missed, nobody is told.
    world.publisher.offline_since = local(2026, 3, 8, 8, 0).astimezone(UTC)
    world.clock.now = local(2026, 3, 8, 13, 0).astimezone(UTC)
    assert (
        await world.publisher.fire(world.berlin.id, PostKind.DAILY)
    ).status is Status.NOTHING_YET
    assert world.posted(world.berlin_study) == [] and world.local.dm_messages(world.admin) == []
    world.clock.now = local(2026, 3, 9, 9, 0).astimezone(UTC)  # the first day
    assert (await world.publisher.fire(world.berlin.id, PostKind.DAILY)).status is Status.POSTED
    (first,) = world.posted(world.berlin_study)
    assert first.embeds[0]["title"] == "Video of the day - Mon 09 Mar"


async def test_a_nonce_stays_within_discords_limit() -> None:
    key = "2026-03-01"
    assert len(schedule.part_nonce(schedule.nonce(1, PostKind.CHECKIN, key), 99)) <= 25


# --- the check-in's chart -------------------------------------------------------------------


async def test_the_check_in_head_carries_its_chart_once_across_a_lost_answer(
    world: World,
) -> None:
    await world.configure(
        world.berlin, world.berlin_study, checkin_day="monday", start=date(2026, 2, 23)
    )
    for user, name in ((1, "山田太郎"), (2, "Zoë 🚀")):
        await world.study.join(world.berlin.id, user, datetime(2026, 2, 1, tzinfo=UTC), name=name)
    at = datetime(2026, 2, 24, 9, tzinfo=UTC)
    await world.study.log(world.berlin.id, 1, "neural-network", Pass.FIRST, at)
    await world.study.log(world.berlin.id, 1, "neural-network", Pass.SECOND, at + timedelta(2))
    await world.study.log(world.berlin.id, 2, "neural-network", Pass.FIRST, at + timedelta(2))
    fast(world)
    world.clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    # Discord creates the head, with its upload, but its answer never comes back.
    world.local.hang("POST", SEND, handled=True)
    assert (await world.publisher.fire(world.berlin.id, PostKind.CHECKIN)).status is Status.FAILED
    world.clock.advance(seconds=35)
    assert [o.status for o in await world.sweep()] == [Status.POSTED]

    heads = world.heads(world.berlin_study)
    assert len(heads) == 1  # the repeated nonce was answered with the message Discord had
    head = heads[0]
    assert [a["filename"] for a in head.attachments] == ["checkin.png"]
    chart = head.attachments[0]
    assert head.embeds[0]["image"]["url"] == chart["url"]
    # The numbers stay in words, in the embed and in the alt text.
    assert "**3 passes** logged" in head.embeds[0]["description"]
    assert chart["description"].startswith("Weekly check-in")
    assert "3 passes" in chart["description"] and "山田太郎" in chart["description"]
    # Uploaded as composed and stored: the retry sent the very bytes of the first try.
    uploaded = world.local.attachment_data(chart)
    stored = await world.store.db.row("SELECT file FROM post_parts WHERE part = 1")
    assert stored is not None and stored[0] == uploaded
    sends = world.local.requests_to("POST", SEND)
    assert len({r.body["nonce"] for r in sends[:2]}) == 1  # the head, twice, with one nonce

    image = Image.open(io.BytesIO(uploaded)).convert("RGB")
    days = [DayPasses(date(2026, 2, 23) + timedelta(n), 0, 0) for n in range(7)]
    days[1] = DayPasses(date(2026, 2, 24), 1, 0)
    days[3] = DayPasses(date(2026, 2, 26), 1, 1)
    shape = CheckinChart("", tuple(days), (MemberHours("a", 1.0), MemberHours("b", 0.3)))
    assert image.size == (canvas.WIDTH, chart_height(shape))
    left, top, right, bottom = day_bar(shape, 3)
    assert image.getpixel(((left + right) // 2, bottom - 3)) == canvas.STATE[PassState.SECOND]
    assert image.getpixel(((left + right) // 2, top + 3)) == canvas.STATE[PassState.FIRST]
    assert day_bar(shape, 2)[1] == bottom  # no passes on the 25th: no bar


async def test_the_chart_ranks_a_tie_as_the_post_does(world: World) -> None:
    await world.configure(
        world.berlin, world.berlin_study, checkin_day="monday", start=date(2026, 2, 23)
    )
    # Zed logs the same pass two days before Amy: equal hours, Zed there first.
    for user, name, day in ((7, "Zed", 24), (2, "Amy", 26)):
        await world.study.join(world.berlin.id, user, datetime(2026, 2, 1, tzinfo=UTC), name=name)
        at = datetime(2026, 2, day, 9, tzinfo=UTC)
        await world.study.log(world.berlin.id, user, "micrograd", Pass.FIRST, at)
    world.clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    await world.publisher.fire(world.berlin.id, PostKind.CHECKIN)
    head = world.heads(world.berlin_study)[0]
    top = next(f["value"] for f in head.embeds[0]["fields"] if f["name"] == "Top two")
    assert top.index("<@7>") < top.index("<@2>"), top
    hours = head.attachments[0]["description"].split("Hours: ")[1]
    assert hours.index("Zed") < hours.index("Amy"), hours  # the chart agrees with the text


async def test_the_chart_of_a_longer_window_counts_the_whole_window_as_the_post_does(
    world: World,
) -> None:
    # The cohort started on a Friday: the first Monday check-in covers ten days, 20 February
    # to 1 March, and its chart's bars show the last seven of them.
    await world.configure(
        world.berlin, world.berlin_study, checkin_day="monday", start=date(2026, 2, 20)
    )
    await world.study.join(world.berlin.id, 1, datetime(2026, 2, 1, tzinfo=UTC), name="Ana")
    saturday = datetime(2026, 2, 21, 9, tzinfo=UTC)  # before the bars' days
    await world.study.log(world.berlin.id, 1, "micrograd", Pass.FIRST, saturday)
    world.clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    await world.publisher.fire(world.berlin.id, PostKind.CHECKIN)
    head = world.heads(world.berlin_study)[0]
    assert head.embeds[0]["title"] == "Check-in - 20 February - 1 March"
    assert "**1 pass** logged" in head.embeds[0]["description"]
    alt = head.attachments[0]["description"]
    assert "(bars: 23 February - 1 March)" in alt  # the bars say which days they show
    assert ": 1 pass (1 first, 0 second), " in alt and "by 1 member." in alt, alt


async def test_a_check_in_without_passes_has_no_chart(world: World) -> None:
    await world.configure(
        world.berlin, world.berlin_study, checkin_day="monday", start=date(2026, 2, 23)
    )
    world.clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    assert (await world.publisher.fire(world.berlin.id, PostKind.CHECKIN)).status is Status.POSTED
    head = world.heads(world.berlin_study)[0]
    assert not head.attachments and "image" not in head.embeds[0]
