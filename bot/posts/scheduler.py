"""APScheduler jobs built from the servers' settings: one job per distinct schedule (a post's
kind, the server's timezone, day and time), a CronTrigger in that timezone, firing the post of
every server this process serves (every server, or its shards' ones: `Publisher.serves`) that
keeps that schedule. Most servers keep the defaults, so 10,000 servers need a handful of jobs
rather than 20,000 (which made up most of start-up and its memory). Job ids are keyed by the
schedule, so rebuilding is idempotent; a settings change moves its server between schedules at
once. The jobs call the `Publisher`, which makes each post happen exactly once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.posts import schedule
from bot.posts.publisher import Publisher
from bot.posts.repo import PostRepo
from bot.posts.schedule import GRACE, PostKind, enabled
from bot.server.records import GuildSettings
from bot.server.service import Servers

log = logging.getLogger(__name__)

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How often the retry sweep looks for failed posts whose next try has come (`retry_delay`).
SWEEP_EVERY = timedelta(seconds=15)
RETRY_JOB = "posts:retry"


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a post of one kind falls due: what servers that share it share one job for."""

    kind: PostKind
    timezone: str
    weekday: int | None  # the check-in's day (0 = Monday); None: every day
    at: time

    @classmethod
    def of(cls, settings: GuildSettings, kind: PostKind) -> Schedule:
        if kind is PostKind.DAILY:
            return cls(kind, settings.timezone, None, settings.daily_time)
        return cls(kind, settings.timezone, settings.checkin_weekday, settings.checkin_time)

    @property
    def job_id(self) -> str:
        day = "daily" if self.weekday is None else DAY_NAMES[self.weekday]
        return f"{self.kind}:{self.timezone}:{day}:{self.at:%H:%M}"

    def trigger(self) -> CronTrigger:
        zone = ZoneInfo(self.timezone)
        if self.weekday is None:
            return CronTrigger(hour=self.at.hour, minute=self.at.minute, timezone=zone)
        return CronTrigger(
            day_of_week=DAY_NAMES[self.weekday],
            hour=self.at.hour,
            minute=self.at.minute,
            timezone=zone,
        )


def trigger(settings: GuildSettings, kind: PostKind) -> CronTrigger:
    return Schedule.of(settings, kind).trigger()


class PostScheduler:
    def __init__(
        self,
        publisher: Publisher,
        servers: Servers,
        repo: PostRepo,
        scheduler: AsyncIOScheduler | None = None,
        shards: tuple[tuple[int, int], ...] = (),
    ) -> None:
        self.publisher = publisher
        self.servers = servers
        self.repo = repo
        # (shard id, shard count) of each shard this process runs when it runs only some: the
        # signs of life are theirs, so another process's do not hide this one's downtime.
        self.shards = shards
        self.scheduler = scheduler or AsyncIOScheduler(timezone=ZoneInfo("UTC"))
        self._tasks: set[asyncio.Task[object]] = set()
        # The servers keeping each schedule, and each server's schedule per kind: the jobs'
        # lists of whom to post for.
        self._servers: dict[Schedule, set[int]] = {}
        self._schedule: dict[tuple[int, PostKind], Schedule] = {}

    async def start(self, *, catch_up: bool = True, after: asyncio.Event | None = None) -> None:
        """Build every server's jobs and start; missed and unfinished posts go out in the
        background so start-up is never held up by Discord, once `after` is set (the app's
        check of which servers removed the bot while it was offline: a post to one of them would
        be refused, turned off, and its admins told so)."""
        self.publisher.offline_since = await self.repo.last_seen(self.shards)
        for settings in await self.servers.all():
            # A process running some of the shards schedules only its shards' servers.
            if self.publisher.serves(settings.guild_id):
                self._build(settings)
        self.scheduler.add_job(
            self._sweep,
            IntervalTrigger(seconds=int(SWEEP_EVERY.total_seconds())),
            id=RETRY_JOB,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
        if not self.scheduler.running:
            self.scheduler.start()
        if catch_up:
            self.spawn(self.catch_up(after))

    async def catch_up(self, after: asyncio.Event | None = None) -> None:
        if after is not None:
            await after.wait()
        await self.publisher.resume_unsent()
        await self.publisher.catch_up()
        await self.seen()

    async def sweep(self) -> None:
        """Every SWEEP_EVERY: retries, untold notes, and a sign of life for the next start."""
        await self.publisher.retry_due()
        await self.seen()

    async def seen(self) -> None:
        try:
            await self.repo.seen(self.publisher.clock(), self.shards)
        except Exception:
            log.warning("could not record that the bot is running", exc_info=True)

    # APScheduler cancels its running jobs when it shuts down; the post itself runs in a task of
    # ours, shielded, so shutdown can let it finish recording what it sent (see `close`).
    async def _fire(self, schedule: Schedule) -> None:
        await self.fire(sorted(self._servers.get(schedule, ())), schedule.kind)

    async def fire(self, guild_ids: list[int], kind: PostKind) -> None:
        """Post `kind` for each of these servers now, as their scheduled job does."""
        posts = [self.spawn(self.publisher.fire(guild_id, kind)) for guild_id in guild_ids]
        if posts:
            await asyncio.shield(asyncio.gather(*posts, return_exceptions=True))

    async def _sweep(self) -> None:
        await asyncio.shield(self.spawn(self.sweep()))

    def spawn(self, work: Coroutine[object, object, object]) -> asyncio.Task[object]:
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def wait_idle(self) -> None:
        """Wait for the background catch-up (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def rebuild(self, guild_id: int) -> None:
        """A server's settings changed: rebuild its jobs; cancel the pending posts an admin
        turned off; clear the notes the change answers (a post turned back on, a new study
        channel), never those about posts given up or skipped; and send pending posts to the
        channel the settings now name. Another process's server is left to that process."""
        if not self.publisher.serves(guild_id):
            return
        settings = await self.servers.stored(guild_id)
        now = self.publisher.clock()
        if settings is not None:
            if settings.study_channel_id is not None:
                await self.repo.clear_notes(guild_id, "channel", "channel set")
            for kind in PostKind:
                if schedule.configured(settings, kind):
                    await self.repo.clear_notes(guild_id, kind, "turned on")
                elif not enabled(settings, kind):
                    cancelled = await self.repo.cancel_kind(guild_id, kind, now)
                    if cancelled:
                        log.info(
                            "turned off: cancelled %s %s posts of guild %s",
                            cancelled,
                            kind,
                            guild_id,
                        )
        self._build(settings, guild_id)
        if settings is not None and settings.study_channel_id is not None:
            self.spawn(self.publisher.resume_unsent(guild_id))

    def _build(self, settings: GuildSettings | None, guild_id: int | None = None) -> None:
        guild_id = settings.guild_id if settings else guild_id
        assert guild_id is not None
        for kind in PostKind:
            before = self._schedule.pop((guild_id, kind), None)
            if before is not None:
                others = self._servers.get(before, set())
                others.discard(guild_id)
                if not others:
                    del self._servers[before]
                    if self.scheduler.get_job(before.job_id) is not None:
                        self.scheduler.remove_job(before.job_id)
            if settings is None or not schedule.configured(settings, kind):
                continue
            when = Schedule.of(settings, kind)
            self._schedule[(guild_id, kind)] = when
            servers = self._servers.setdefault(when, set())
            servers.add(guild_id)
            if len(servers) == 1:
                self.scheduler.add_job(
                    self._fire,
                    when.trigger(),
                    args=(when,),
                    id=when.job_id,
                    name=f"{kind} posts at {when.job_id}",
                    replace_existing=True,
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=int(GRACE[kind].total_seconds()),
                )

    def job_of(self, guild_id: int, kind: PostKind) -> str | None:
        """The id of the job that posts this server's `kind`, None when it is not scheduled."""
        when = self._schedule.get((guild_id, kind))
        return None if when is None else when.job_id

    def next_fire(self, guild_id: int, kind: PostKind) -> datetime | None:
        ident = self.job_of(guild_id, kind)
        job = None if ident is None else self.scheduler.get_job(ident)
        return None if job is None else job.next_run_time

    async def close(self, grace: float = 0.0) -> None:
        """Stop the jobs, give posts in flight up to `grace` seconds to finish, and cancel the
        rest: a cancelled post keeps its reservation and nonce, so the next start resumes it."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._tasks and grace > 0:
            await asyncio.wait(list(self._tasks), timeout=grace)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- what the server settings need (`bot.server.service.PostsHooks`) -------------------

    async def settings_changed(self, guild_id: int) -> None:
        await self.rebuild(guild_id)

    async def notes(self, guild_id: int) -> list[str]:
        return await self.repo.post_notes(guild_id)

    async def study_channel_lost(self, guild_id: int, channel_id: int, now: datetime) -> None:
        note = (
            f"The study channel <#{channel_id}> was deleted. Choose another with `/setup channel`: "
            f"posts due meanwhile wait for it (the daily video up to "
            f"{GRACE[PostKind.DAILY] // timedelta(hours=1)} hours, the check-in up to "
            f"{GRACE[PostKind.CHECKIN] // timedelta(hours=1)})."
        )
        await self.repo.add_note(guild_id, "channel", note, "channel set", now)
        self.spawn(self.publisher.tell_admins())

    async def erase_server(self, guild_id: int) -> None:
        """A server the bot left long ago: no jobs, no posts, no parts, no notes."""
        await self.rebuild(guild_id)
        await self.repo.erase_server(guild_id)
