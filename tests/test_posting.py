"""Scheduled posts on a real store and the real AsyncIOScheduler, with a controlled clock and an
in-memory poster that honours nonces like Discord does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
import time_machine

from bot.posts import schedule
from bot.posts.compose import StudyComposer
from bot.posts.messages import Mark, Outgoing
from bot.posts.publisher import (
    CONCURRENCY,
    MAX_TRIES,
    REQUEST_TIMEOUT,
    Outcome,
    Publisher,
    Status,
)
from bot.posts.schedule import PostKind
from bot.posts.scheduler import PostScheduler, trigger
from bot.server.rules import SetupChange
from curriculum import Pass, default_curriculum
from tests.posting_fakes import Crash, FakePoster
from tests.tables import Store, Study

ROADMAP = default_curriculum()
BERLIN, NEW_YORK = 10, 20  # guild ids
CHANNEL = {BERLIN: 111, NEW_YORK: 222}
BERLIN_TZ = ZoneInfo("Europe/Berlin")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))


@pytest.fixture
def poster(clock: Clock) -> FakePoster:
    return FakePoster(clock=clock)


@pytest_asyncio.fixture
async def study(store: Store) -> Study:
    return Study(store, ROADMAP, "UTC")


def publisher_for(study: Study, poster: FakePoster, clock: Clock) -> Publisher:
    return Publisher(
        study.store.posts,
        study.servers,
        StudyComposer(study.learners, study.groups),
        poster,
        clock,
    )


@pytest.fixture
def publisher(study: Study, poster: FakePoster, clock: Clock) -> Publisher:
    return publisher_for(study, poster, clock)


async def configure(
    study: Study,
    guild: int,
    timezone: str,
    *,
    daily: str = "09:00",
    checkin_day: str = "sunday",
    checkin: str = "18:00",
) -> None:
    change = SetupChange(
        channel_id=CHANNEL.get(guild, guild * 10),
        timezone=timezone,
        daily_time=daily,
        checkin_day=checkin_day,
        checkin_time=checkin,
    )
    await study.setup(guild, change, datetime(2026, 3, 1, tzinfo=UTC))


def local(*args: int, tz: ZoneInfo = BERLIN_TZ, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=tz, fold=fold)  # type: ignore[misc]


# --- when ---------------------------------------------------------------------------------


async def test_jobs_fire_at_local_time_in_two_timezones(study: Study, publisher: Publisher) -> None:
    await configure(study, BERLIN, "Europe/Berlin", daily="09:00", checkin_day="sunday")
    await configure(study, NEW_YORK, "America/New_York", daily="07:30", checkin_day="friday")
    posts = PostScheduler(publisher, study.servers, study.store.posts)
    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        await posts.start(catch_up=False)
        try:
            assert posts.next_fire(BERLIN, PostKind.DAILY) == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
            assert posts.next_fire(NEW_YORK, PostKind.DAILY) == datetime(
                2026, 3, 2, 12, 30, tzinfo=UTC
            )  # 07:30 EST, UTC-5: later today
            assert posts.next_fire(BERLIN, PostKind.CHECKIN) == datetime(
                2026, 3, 8, 17, 0, tzinfo=UTC
            )
            assert posts.next_fire(NEW_YORK, PostKind.CHECKIN) == datetime(
                2026, 3, 6, 23, 0, tzinfo=UTC
            )
            ids = {job.id for job in posts.scheduler.get_jobs()}
            assert {f"daily:{BERLIN}", f"checkin:{BERLIN}", f"daily:{NEW_YORK}"} <= ids
            # Rebuilding is idempotent; turning a post off removes its job.
            await posts.rebuild(BERLIN)
            await study.setup(BERLIN, SetupChange(daily_enabled=False), datetime.now(UTC))
            await posts.rebuild(BERLIN)
            assert posts.next_fire(BERLIN, PostKind.DAILY) is None
            assert len(posts.scheduler.get_jobs()) == 4  # 3 posts + the retry sweep
        finally:
            await posts.close()
    # New York moves to daylight time on 8 March: 07:30 local is then 11:30 UTC.
    ny = await study.store.guild_settings(NEW_YORK)
    assert ny is not None
    after = trigger(ny, PostKind.DAILY).get_next_fire_time(
        None, datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    )
    assert after == datetime(2026, 3, 9, 11, 30, tzinfo=UTC)


async def test_the_real_scheduler_runs_the_job(
    study: Study, poster: FakePoster, store: Store
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", daily="09:00")
    publisher = Publisher(
        store.posts,
        study.servers,
        StudyComposer(study.learners, study.groups),
        poster,
        lambda: datetime.now(UTC),
    )
    posts = PostScheduler(publisher, study.servers, store.posts)
    # One second before 09:00 in Berlin, with the clock ticking.
    with time_machine.travel(datetime(2026, 3, 3, 7, 59, 59, tzinfo=UTC), tick=True):
        await posts.start(catch_up=False)
        try:
            for _ in range(60):
                record = await store.post_record(BERLIN, "daily", "2026-03-03")
                if record is not None and record.done:
                    break
                await asyncio.sleep(0.1)
        finally:
            await posts.close()
    assert len(poster.in_channel(CHANNEL[BERLIN])) == 1
    record = await store.post_record(BERLIN, "daily", "2026-03-03")
    assert record is not None and record.done and record.message_id == poster.messages[0].id


async def test_dst_skipped_time_posts_once_right_after(
    study: Study, publisher: Publisher, poster: FakePoster, clock: Clock
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", daily="02:30")
    settings = await study.store.guild_settings(BERLIN)
    assert settings is not None
    # On 29 March 2026 Berlin's clocks jump from 02:00 to 03:00: 02:30 does not exist.
    fire = trigger(settings, PostKind.DAILY).get_next_fire_time(None, local(2026, 3, 28, 12, 0))
    assert fire is not None
    fire = fire.astimezone(UTC)  # (a time in a gap never compares equal across zones)
    assert fire == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST, right after the skip
    assert schedule.last_due(settings, PostKind.DAILY, fire) == fire
    clock.now = fire
    assert (await publisher.fire(BERLIN, PostKind.DAILY)).status is Status.POSTED
    clock.now = fire + timedelta(minutes=20)  # a restart's catch-up a little later
    assert (await publisher.fire(BERLIN, PostKind.DAILY)).status is Status.ALREADY_POSTED
    assert [m.message.embeds[0]["title"] for m in poster.messages] == [
        "Video of the day - Sun 29 Mar"
    ]


async def test_dst_repeated_time_posts_once(
    study: Study, publisher: Publisher, poster: FakePoster, clock: Clock
) -> None:
    await configure(
        study, BERLIN, "Europe/Berlin", daily="02:30", checkin_day="sunday", checkin="02:30"
    )
    settings = await study.store.guild_settings(BERLIN)
    assert settings is not None
    # On 25 October 2026 Berlin's 02:00-03:00 happens twice: the trigger fires in both.
    fires = []
    for kind in PostKind:
        cron = trigger(settings, kind)
        first = cron.get_next_fire_time(None, local(2026, 10, 24, 12, 0))
        assert first is not None
        second = cron.get_next_fire_time(first, first + timedelta(seconds=1))
        assert second is not None
        first, second = first.astimezone(UTC), second.astimezone(UTC)
        assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
        assert second == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
        fires += [(first, kind), (second, kind)]
    outcomes: list[Outcome] = []
    for moment, kind in sorted(fires):
        clock.now = moment
        outcomes.append(await publisher.fire(BERLIN, kind))
    assert sorted(o.status.name for o in outcomes) == [
        "ALREADY_POSTED",
        "ALREADY_POSTED",
        "POSTED",
        "POSTED",
    ]
    heads = [m for m in poster.messages if m.channel_id == CHANNEL[BERLIN]]
    assert len(heads) == 2  # one daily, one check-in head (its parts are in its thread)


# --- exactly once, catch-up ---------------------------------------------------------------


async def test_restart_never_posts_twice(
    study: Study, poster: FakePoster, clock: Clock, db_path: Path
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", daily="09:00")
    clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    first = PostScheduler(publisher_for(study, poster, clock), study.servers, study.store.posts)
    await first.start()
    await first.wait_idle()
    await first.close()
    assert len(poster.messages) == 1  # the catch-up posted today's, once
    clock.now += timedelta(minutes=30)
    async with await Store.open(db_path) as reopened:
        again = Study(reopened, ROADMAP, "UTC")
        second = PostScheduler(publisher_for(again, poster, clock), again.servers, reopened.posts)
        await second.start()
        await second.wait_idle()
        await second.close()
    assert len(poster.messages) == 1 and poster.sends == 1


@pytest.mark.parametrize(
    ("kind", "late", "posted"),
    [
        (PostKind.DAILY, timedelta(hours=1, minutes=59), True),
        (PostKind.DAILY, timedelta(hours=2, minutes=1), False),
        (PostKind.CHECKIN, timedelta(hours=5, minutes=59), True),
        (PostKind.CHECKIN, timedelta(hours=6, minutes=1), False),
    ],
)
async def test_catch_up_within_grace_and_skip_after(
    study: Study,
    publisher: Publisher,
    poster: FakePoster,
    clock: Clock,
    kind: PostKind,
    late: timedelta,
    posted: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await configure(
        study, BERLIN, "Europe/Berlin", daily="09:00", checkin_day="monday", checkin="09:00"
    )
    due = local(2026, 3, 2, 9, 0)  # a Monday
    clock.now = (due + late).astimezone(UTC)
    caplog.set_level("INFO")
    outcome = await publisher.fire(BERLIN, kind)
    assert (outcome.status is Status.POSTED) is posted
    assert bool(poster.messages) is posted
    if posted:
        assert "late" in caplog.text
    else:
        assert outcome.status is Status.SKIPPED and "skipping" in caplog.text
        assert await study.store.post_record(BERLIN, kind, outcome.period_key or "") is None


async def test_crash_after_reserving_is_retried_with_the_same_nonce(
    study: Study, poster: FakePoster, clock: Clock, publisher: Publisher
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", daily="09:00")
    clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    # Discord accepts the message, then the process dies before the store hears about it.
    poster.crash_after_send = 1
    with pytest.raises(Crash):
        await publisher.fire(BERLIN, PostKind.DAILY)
    unsent = await study.store.unsent_posts()
    assert len(unsent) == 1 and unsent[0].message_id is None
    poster.crash_after_send = None
    clock.now += timedelta(minutes=3)
    restarted = publisher_for(study, poster, clock)
    outcomes = await restarted.resume_unsent()
    assert [o.status for o in outcomes] == [Status.POSTED]
    assert len(poster.messages) == 1  # the retry's nonce got the first message back
    assert poster.sends == 2 and poster.messages[0].nonce == unsent[0].nonce
    record = await study.store.post_record(BERLIN, "daily", "2026-03-03")
    assert record is not None and record.done and record.message_id == poster.messages[0].id
    again = [o for o in await restarted.catch_up() if o.kind is PostKind.DAILY]
    assert [o.status for o in again] == [Status.ALREADY_POSTED] and len(poster.messages) == 1


async def test_a_lost_reply_resumed_after_discord_forgot_the_nonce_posts_once(
    study: Study, poster: FakePoster, clock: Clock, publisher: Publisher
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", daily="09:00")
    clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    # Discord creates the message, but its answer is lost: the store never hears of it.
    poster.lose_replies = 1
    assert (await publisher.fire(BERLIN, PostKind.DAILY)).status is Status.FAILED
    unsent = await study.store.unsent_posts()
    assert len(unsent) == 1 and unsent[0].message_id is None
    # Half an hour later (a restart's catch-up, or the retry sweep) the nonce is long forgotten.
    clock.now += timedelta(minutes=30)
    outcomes = await publisher_for(study, poster, clock).resume_unsent()
    assert [o.status for o in outcomes] == [Status.POSTED]
    assert len(poster.messages) == 1 and poster.lookups == 1
    record = await study.store.post_record(BERLIN, "daily", "2026-03-03")
    assert record is not None and record.done and record.message_id == poster.messages[0].id
    assert Mark("daily", "2026-03-03", 1).on(poster.messages[0].message)


async def test_a_check_in_part_with_a_lost_reply_is_not_repeated_later(
    study: Study, poster: FakePoster, clock: Clock, publisher: Publisher
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", checkin_day="monday", checkin="18:00")
    await study.join(BERLIN, 1, datetime(2026, 2, 1, tzinfo=UTC))
    await study.log(BERLIN, 1, "micrograd", Pass.FIRST, datetime(2026, 3, 1, 9, tzinfo=UTC))
    clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    poster.crash_after_send = 2  # the head and the first part are out; the part's answer is lost
    with pytest.raises(Crash):
        await publisher.fire(BERLIN, PostKind.CHECKIN)
    poster.crash_after_send = None
    clock.now += timedelta(minutes=30)
    await publisher_for(study, poster, clock).resume_unsent()
    record = await study.store.post_record(BERLIN, "checkin", "2026-W10")
    assert record is not None and record.done
    total = len(poster.messages)
    assert total >= 3 and poster.lookups == 1
    for index, sent in enumerate(poster.messages, start=1):  # each message once, marked in order
        assert Mark("checkin", "2026-W10", index).on(sent.message)


async def test_a_failed_post_is_retried_within_a_minute_then_less_often(
    study: Study, poster: FakePoster, clock: Clock, publisher: Publisher
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", daily="09:00")
    clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    poster.lose_replies = 2
    assert (await publisher.fire(BERLIN, PostKind.DAILY)).status is Status.FAILED
    clock.now += timedelta(seconds=10)
    assert await publisher.retry_due() == []  # not yet
    clock.now += timedelta(seconds=25)
    assert [o.status for o in await publisher.retry_due()] == [Status.FAILED]
    clock.now += timedelta(seconds=60)
    assert await publisher.retry_due() == []  # the next try waits longer
    clock.now += timedelta(seconds=65)
    assert [o.status for o in await publisher.retry_due()] == [Status.POSTED]
    # Every retry fell inside Discord's nonce window: the nonce alone kept it to one message.
    assert len(poster.messages) == 1 and poster.sends == 3 and poster.lookups == 0


async def test_the_retry_sweep_runs_often_enough_for_a_first_retry_within_a_minute(
    study: Study, publisher: Publisher
) -> None:
    posts = PostScheduler(publisher, study.servers, study.store.posts)
    await posts.start(catch_up=False)
    try:
        job = posts.scheduler.get_job("posts:retry")
        assert job is not None and job.trigger.interval <= timedelta(seconds=30)
    finally:
        await posts.close()


async def test_crash_before_sending_is_sent_at_start_up(
    study: Study, poster: FakePoster, clock: Clock
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", daily="09:00")
    due = local(2026, 3, 3, 9, 0).astimezone(UTC)
    key = "2026-03-03"
    nonce = schedule.nonce(BERLIN, PostKind.DAILY, key)
    await study.store.reserve_post(
        BERLIN, "daily", key, nonce=nonce, channel_id=CHANNEL[BERLIN], due_at=due, now=due
    )
    clock.now = due + timedelta(minutes=10)
    posts = PostScheduler(publisher_for(study, poster, clock), study.servers, study.store.posts)
    await posts.start()
    await posts.wait_idle()
    await posts.close()
    assert [m.nonce for m in poster.messages] == [nonce]


async def test_a_check_in_interrupted_between_parts_resumes_without_repeats(
    study: Study, poster: FakePoster, clock: Clock, publisher: Publisher
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", checkin_day="monday", checkin="18:00")
    clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    poster.crash_after_send = 2  # the head and the first part are out
    with pytest.raises(Crash):
        await publisher.fire(BERLIN, PostKind.CHECKIN)
    poster.crash_after_send = None
    await publisher_for(study, poster, clock).resume_unsent()
    nonces = [m.nonce for m in poster.messages]
    assert len(nonces) == len(set(nonces)) >= 2
    head = poster.messages[0]
    assert head.channel_id == CHANNEL[BERLIN]
    assert all(m.channel_id == head.id for m in poster.messages[1:])  # the rest in its thread


@pytest.mark.parametrize("late", [False, True])
async def test_a_partly_sent_post_is_given_up_after_a_few_tries(
    study: Study,
    poster: FakePoster,
    clock: Clock,
    publisher: Publisher,
    late: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", checkin_day="monday", checkin="18:00")
    clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    poster.fail_from = 2  # the head is out; every later part fails
    assert (await publisher.fire(BERLIN, PostKind.CHECKIN)).status is Status.FAILED
    if late:  # the bot was down: it comes back after the check-in's grace window
        clock.now += timedelta(hours=7)
    outcomes: list[Outcome] = []
    for _ in range(30):  # two and a half hours of the retry sweep
        clock.now += timedelta(minutes=5)
        outcomes += await publisher.retry_due()
    statuses = [o.status for o in outcomes]
    assert statuses[-1] is Status.GAVE_UP and statuses.count(Status.GAVE_UP) == 1
    assert statuses.count(Status.FAILED) == (0 if late else MAX_TRIES - 1)
    assert "giving up on the rest of the checkin post" in caplog.text
    record = await study.store.post_record(BERLIN, "checkin", "2026-W10")
    assert record is not None and record.done and record.message_id == poster.messages[0].id
    assert await study.store.unsent_posts() == []
    notes = await study.store.post_notes(BERLIN)
    assert len(notes) == 1 and "only partly posted" in notes[0]
    settings = await study.store.guild_settings(BERLIN)
    assert settings is not None and settings.checkin_enabled  # next week's goes out as usual


# --- faults -------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["gone", "forbidden"])
async def test_refused_post_turns_off_and_tells_admins_while_others_post(
    study: Study, poster: FakePoster, clock: Clock, publisher: Publisher, fault: str
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", daily="09:00")
    await configure(study, NEW_YORK, "Europe/Berlin", daily="09:00")
    getattr(poster, fault).add(CHANNEL[BERLIN])
    clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    outcomes = {o.guild_id: o for o in await publisher.catch_up() if o.kind is PostKind.DAILY}
    assert outcomes[BERLIN].status is Status.TURNED_OFF
    assert outcomes[NEW_YORK].status is Status.POSTED
    settings = await study.store.guild_settings(BERLIN)
    assert settings is not None and not settings.daily_enabled and settings.checkin_enabled
    notes = await study.store.post_notes(BERLIN)  # what /setup show lists under "Needs attention"
    assert len(notes) == 1 and "daily video" in notes[0] and "/setup posts daily:on" in notes[0]
    assert await study.store.unsent_posts() == []
    # The admin fixes the channel and turns the post back on: the note goes, the job comes back.
    posts = PostScheduler(publisher, study.servers, study.store.posts)
    await study.setup(BERLIN, SetupChange(daily_enabled=True), clock.now)
    await posts.rebuild(BERLIN)
    assert await study.store.post_notes(BERLIN) == []
    assert posts.scheduler.get_job(f"daily:{BERLIN}") is not None


async def test_a_deleted_thread_sends_the_rest_to_the_channel_and_keeps_check_ins_on(
    study: Study, poster: FakePoster, clock: Clock, publisher: Publisher
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", checkin_day="monday", checkin="18:00")
    await study.join(BERLIN, 1, datetime(2026, 2, 1, tzinfo=UTC))
    await study.log(BERLIN, 1, "micrograd", Pass.FIRST, datetime(2026, 3, 1, 9, tzinfo=UTC))
    clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    poster.fail_from = 3  # the head and the first part are out, then Discord has a bad minute
    assert (await publisher.fire(BERLIN, PostKind.CHECKIN)).status is Status.FAILED
    head = poster.messages[0]
    assert len(poster.in_channel(head.id)) == 1  # the first part, in the thread
    poster.fail_from = None
    poster.gone.add(head.id)  # meanwhile someone deletes the thread (404 Unknown Channel)
    clock.now += timedelta(seconds=40)
    assert [o.status for o in await publisher.retry_due()] == [Status.POSTED]
    rest = poster.in_channel(CHANNEL[BERLIN])[1:]
    assert rest and Mark("checkin", "2026-W10", 3).on(rest[0].message)
    settings = await study.store.guild_settings(BERLIN)
    assert settings is not None and settings.checkin_enabled
    assert await study.store.post_notes(BERLIN) == []


async def test_a_thread_closed_to_the_bot_sends_the_rest_to_the_channel(
    study: Study, poster: FakePoster, clock: Clock, publisher: Publisher
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", checkin_day="monday", checkin="18:00")
    await study.join(BERLIN, 1, datetime(2026, 2, 1, tzinfo=UTC))
    await study.log(BERLIN, 1, "micrograd", Pass.FIRST, datetime(2026, 3, 1, 9, tzinfo=UTC))
    clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    poster.fail_from = 3
    assert (await publisher.fire(BERLIN, PostKind.CHECKIN)).status is Status.FAILED
    head = poster.messages[0]
    poster.fail_from = None
    poster.forbidden.add(head.id)  # a moderator locks the thread (403 Missing Permissions)
    clock.now += timedelta(seconds=40)
    assert [o.status for o in await publisher.retry_due()] == [Status.POSTED]
    assert poster.in_channel(CHANNEL[BERLIN])[1:]
    settings = await study.store.guild_settings(BERLIN)
    assert settings is not None and settings.checkin_enabled


async def test_a_deleted_first_message_sends_the_rest_to_the_channel(
    study: Study, poster: FakePoster, clock: Clock, publisher: Publisher
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", checkin_day="monday", checkin="18:00")
    clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    # The first message went out and was recorded, then the process stopped before starting
    # its thread, and someone deleted the message (404 Unknown Message for the thread).
    key, nonce = "2026-W10", schedule.nonce(BERLIN, PostKind.CHECKIN, "2026-W10")
    await study.store.reserve_post(
        BERLIN,
        "checkin",
        key,
        nonce=nonce,
        channel_id=CHANNEL[BERLIN],
        due_at=clock.now,
        now=clock.now,
    )
    head = await poster.send(CHANNEL[BERLIN], Outgoing(content="check-in"), nonce)
    await study.store.post_progress(BERLIN, "checkin", key, message_id=head)
    poster.deleted.add(head)
    assert [o.status for o in await publisher.resume_unsent()] == [Status.POSTED]
    assert len(poster.in_channel(CHANNEL[BERLIN])) >= 2 and not poster.threads
    settings = await study.store.guild_settings(BERLIN)
    assert settings is not None and settings.checkin_enabled


async def test_one_slow_server_does_not_hold_up_another(
    study: Study, poster: FakePoster, clock: Clock, publisher: Publisher
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", daily="09:00")
    await configure(study, NEW_YORK, "Europe/Berlin", daily="09:00")
    poster.hold[CHANNEL[BERLIN]] = release = asyncio.Event()
    clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    running = asyncio.ensure_future(publisher.catch_up())
    for _ in range(100):
        if poster.in_channel(CHANNEL[NEW_YORK]):
            break
        await asyncio.sleep(0.01)
    assert poster.in_channel(CHANNEL[NEW_YORK]) and not poster.in_channel(CHANNEL[BERLIN])
    release.set()
    await running
    assert poster.in_channel(CHANNEL[BERLIN])


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never came true")


@pytest.mark.parametrize("how", ["catch-up", "scheduled jobs"])
async def test_many_due_posts_go_out_a_few_at_a_time(
    study: Study, poster: FakePoster, clock: Clock, how: str
) -> None:
    guilds = list(range(101, 109))
    for guild in guilds:
        await configure(study, guild, "UTC", checkin_day="monday", checkin="18:00")
    everyone = asyncio.Event()
    for guild in guilds:
        poster.hold[guild * 10] = everyone  # Discord is slow for everyone
    clock.now = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    publisher = replace_limit(publisher_for(study, poster, clock), concurrency=3)
    if how == "catch-up":
        running = asyncio.ensure_future(publisher.catch_up())
    else:  # each server's job fires on its own, as the scheduler runs them at 18:00
        running = asyncio.gather(*(publisher.fire(g, PostKind.CHECKIN) for g in guilds))
    await until(lambda: poster.in_flight == 3)
    await asyncio.sleep(0.05)
    assert poster.in_flight == 3 and not poster.messages  # three posts under way, five waiting
    everyone.set()
    outcomes = await running
    assert [o.status for o in outcomes if o.kind is PostKind.CHECKIN] == [Status.POSTED] * 8
    assert poster.most_in_flight == 3
    assert sorted({m.channel_id for m in poster.messages} & {g * 10 for g in guilds}) == [
        g * 10 for g in guilds
    ]
    nonces = [m.nonce for m in poster.messages]
    assert len(nonces) == len(set(nonces))  # each message once


async def test_a_hung_request_frees_its_slot_and_its_post_is_retried(
    study: Study, poster: FakePoster, clock: Clock
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", daily="09:00")
    await configure(study, NEW_YORK, "Europe/Berlin", daily="09:00")
    poster.hold[CHANNEL[BERLIN]] = release = asyncio.Event()  # never answers
    clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    publisher = replace_limit(
        publisher_for(study, poster, clock),
        concurrency=1,
        request_timeout=timedelta(milliseconds=50),
    )
    outcomes = {o.guild_id: o for o in await publisher.catch_up() if o.kind is PostKind.DAILY}
    assert outcomes[BERLIN].status is Status.FAILED and outcomes[BERLIN].detail == "timed out"
    assert outcomes[NEW_YORK].status is Status.POSTED  # one slot, yet not held up
    release.set()
    clock.now += timedelta(seconds=35)
    assert [o.status for o in await publisher.retry_due()] == [Status.POSTED]
    assert len(poster.in_channel(CHANNEL[BERLIN])) == 1


async def test_a_rate_limited_post_is_retried_soon_every_time(
    study: Study, poster: FakePoster, clock: Clock, publisher: Publisher
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", daily="09:00")
    clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    poster.rate_limited = 3
    assert (await publisher.fire(BERLIN, PostKind.DAILY)).status is Status.FAILED
    for _ in range(2):  # not after 30 s, then 2 minutes: at the next sweep each time
        clock.now += timedelta(seconds=10)
        assert await publisher.retry_due() == []
        clock.now += timedelta(seconds=5)
        assert [o.status for o in await publisher.retry_due()] == [Status.FAILED]
    clock.now += timedelta(seconds=15)
    assert [o.status for o in await publisher.retry_due()] == [Status.POSTED]
    assert len(poster.messages) == 1 and publisher._rate_limited == {}


async def test_rate_limits_do_not_use_up_a_partly_sent_posts_tries(
    study: Study, poster: FakePoster, clock: Clock, publisher: Publisher
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", checkin_day="monday", checkin="18:00")
    await study.join(BERLIN, 1, datetime(2026, 2, 1, tzinfo=UTC))
    await study.log(BERLIN, 1, "micrograd", Pass.FIRST, datetime(2026, 3, 1, 9, tzinfo=UTC))
    clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    poster.fail_from = 2  # the first message is out, then Discord fails once...
    assert (await publisher.fire(BERLIN, PostKind.CHECKIN)).status is Status.FAILED
    poster.fail_from = None
    poster.rate_limited = MAX_TRIES + 2  # ...then keeps answering 429 for a while
    clock.now += timedelta(seconds=15)  # the first retry comes 30 s after a failure
    for _ in range(MAX_TRIES + 2):
        clock.now += timedelta(seconds=15)
        assert [o.status for o in await publisher.retry_due()] == [Status.FAILED]
    clock.now += timedelta(seconds=15)
    assert [o.status for o in await publisher.retry_due()] == [Status.POSTED]
    record = await study.store.post_record(BERLIN, "checkin", "2026-W10")
    assert record is not None and record.done and not publisher._throttled_tries


def replace_limit(
    publisher: Publisher,
    *,
    concurrency: int = CONCURRENCY,
    request_timeout: timedelta = REQUEST_TIMEOUT,
) -> Publisher:
    return Publisher(
        publisher.repo,
        publisher.servers,
        publisher.composer,
        publisher.poster,
        publisher.clock,
        concurrency=concurrency,
        request_timeout=request_timeout,
    )


async def test_locks_of_finished_periods_are_dropped(
    study: Study, poster: FakePoster, clock: Clock, publisher: Publisher
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", daily="09:00")
    poster.hold[CHANNEL[BERLIN]] = release = asyncio.Event()
    clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    both = asyncio.gather(
        publisher.fire(BERLIN, PostKind.DAILY), publisher.fire(BERLIN, PostKind.DAILY)
    )
    await asyncio.sleep(0.05)
    assert len(publisher._locks) == 1  # one held, one waiting: the same lock
    release.set()
    assert sorted(o.status.name for o in await both) == ["ALREADY_POSTED", "POSTED"]
    for day in range(4, 30):  # weeks of daily posts
        clock.now = local(2026, 3, day, 9, 0).astimezone(UTC)
        await publisher.fire(BERLIN, PostKind.DAILY)
    assert publisher._locks == {}
    assert len(poster.messages) == 27


# --- the check-in itself ------------------------------------------------------------------


async def test_check_in_now_twice_says_already_posted(
    study: Study, publisher: Publisher, poster: FakePoster, clock: Clock
) -> None:
    await configure(study, BERLIN, "Europe/Berlin")
    clock.now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    first = await publisher.post_now(BERLIN, PostKind.CHECKIN)
    again = await publisher.post_now(BERLIN, PostKind.CHECKIN)
    assert first.status is Status.POSTED and again.status is Status.ALREADY_POSTED
    assert first.period_key == again.period_key == "2026-W10"
    assert (
        again.link
        == f"https://discord.com/channels/{BERLIN}/{CHANNEL[BERLIN]}/{poster.messages[0].id}"
    )
    # The scheduled check-in on Sunday is the same week's: not posted again.
    clock.now = local(2026, 3, 8, 18, 0).astimezone(UTC)
    assert (await publisher.fire(BERLIN, PostKind.CHECKIN)).status is Status.ALREADY_POSTED


async def test_big_cohort_check_in_stays_within_discord_limits(
    study: Study, publisher: Publisher, poster: FakePoster, clock: Clock
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", checkin_day="monday", checkin="18:00")
    joined = datetime(2026, 2, 1, tzinfo=UTC)
    videos = [video.id for _, video in ROADMAP.videos()]
    for user in range(1, 301):
        await study.join(BERLIN, user, joined, reminders=user % 3 == 0)
        if user % 3:
            for video in videos[: user % 7 + 1]:
                await study.log(
                    BERLIN, user, video, Pass.FIRST, datetime(2026, 3, 1, 9, tzinfo=UTC)
                )
    poster.no_threads.add(CHANNEL[BERLIN])  # no thread permission: every part in the channel
    clock.now = local(2026, 3, 2, 18, 0).astimezone(UTC)
    outcome = await publisher.fire(BERLIN, PostKind.CHECKIN)
    assert outcome.status is Status.POSTED
    assert len(poster.messages) > 3
    assert all(m.channel_id == CHANNEL[BERLIN] for m in poster.messages)
    for sent in poster.messages:
        message = sent.message
        assert len(message.content) <= 2000 and len(message.embeds) <= 10
        total = 0
        for e in message.embeds:
            assert len(e.get("title", "")) <= 256 and len(e.get("description", "")) <= 4096
            fields = e.get("fields", [])
            assert len(fields) <= 25
            assert all(len(f["name"]) <= 256 and len(f["value"]) <= 1024 for f in fields)
            total += len(e.get("title", "")) + len(e.get("description", ""))
            total += sum(len(f["name"]) + len(f["value"]) for f in fields)
            total += len(e.get("footer", {}).get("text", ""))
        assert total <= 6000
        assert len(sent.nonce) <= 25
    for index, sent in enumerate(poster.in_channel(CHANNEL[BERLIN]), start=1):
        assert Mark("checkin", "2026-W10", index).on(sent.message)  # even the plain-text ones
    everything = " ".join(m.message.content + str(m.message.embeds) for m in poster.messages)
    assert "<@3>" in everything and "Top three" in everything and "built or broke" in everything
    nudged = " ".join(m.message.content for m in poster.messages)
    assert "<@3>" in nudged and "<@1>" not in nudged  # opted in and quiet vs. active


async def test_daily_post_names_the_video_and_yesterday(
    study: Study, publisher: Publisher, poster: FakePoster, clock: Clock
) -> None:
    await configure(study, BERLIN, "Europe/Berlin", daily="09:00")
    for user in (1, 2):
        await study.join(BERLIN, user, datetime(2026, 2, 1, tzinfo=UTC))
    await study.log(BERLIN, 1, "micrograd", Pass.FIRST, datetime(2026, 3, 2, 20, tzinfo=UTC))
    clock.now = local(2026, 3, 3, 9, 0).astimezone(UTC)
    await publisher.fire(BERLIN, PostKind.DAILY)
    embed = poster.messages[0].message.embeds[0]
    text = embed["description"] + str(embed["fields"])
    assert "youtube" in text or "http" in text
    assert "1 member logged a pass yesterday" in text
    assert "Focus of the" in str(embed["fields"])
