"""APScheduler jobs built from the servers' settings: one daily-video job and one check-in job per configured
server, each a CronTrigger in the server's timezone, with ids keyed by guild so rebuilding is
idempotent. The jobs call the `Publisher`, which makes each post happen exactly once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.posts import schedule
from bot.posts.publisher import Publisher
from bot.posts.repo import PostRepo
from bot.posts.schedule import GRACE, PostKind
from bot.server.records import GuildSettings
from bot.server.service import Servers

log = logging.getLogger(__name__)

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How often the retry sweep looks for failed posts whose next try has come (`retry_delay`).
SWEEP_EVERY = timedelta(seconds=15)
RETRY_JOB = "posts:retry"


def job_id(kind: PostKind, guild_id: int) -> str:
    return f"{kind}:{guild_id}"


def trigger(settings: GuildSettings, kind: PostKind) -> CronTrigger:
    zone = ZoneInfo(settings.timezone)
    if kind is PostKind.DAILY:
        at = settings.daily_time
        return CronTrigger(hour=at.hour, minute=at.minute, timezone=zone)
    at = settings.checkin_time
    return CronTrigger(
        day_of_week=DAY_NAMES[settings.checkin_weekday],
        hour=at.hour,
        minute=at.minute,
        timezone=zone,
    )


class PostScheduler:
    def __init__(
        self,
        publisher: Publisher,
        servers: Servers,
        repo: PostRepo,
        scheduler: AsyncIOScheduler | None = None,
    ) -> None:
        self.publisher = publisher
        self.servers = servers
        self.repo = repo
        self.scheduler = scheduler or AsyncIOScheduler(timezone=ZoneInfo("UTC"))
        self._tasks: set[asyncio.Task[object]] = set()

    async def start(self, *, catch_up: bool = True) -> None:
        """Build every server's jobs and start; missed and unfinished posts go out in the
        background so start-up is never held up by Discord."""
        for settings in await self.servers.all():
            self._build(settings)
        self.scheduler.add_job(
            self.publisher.retry_due,
            IntervalTrigger(seconds=int(SWEEP_EVERY.total_seconds())),
            id=RETRY_JOB,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
        if not self.scheduler.running:
            self.scheduler.start()
        if catch_up:
            self.spawn(self.catch_up())

    async def catch_up(self) -> None:
        await self.publisher.resume_unsent()
        await self.publisher.catch_up()

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
        """A server's settings changed: rebuild its jobs, and clear the notes of posts that an
        admin turned back on."""
        settings = await self.servers.stored(guild_id)
        if settings is not None:
            for kind in PostKind:
                if schedule.configured(settings, kind):
                    await self.repo.clear_post_note(guild_id, kind)
        self._build(settings, guild_id)

    def _build(self, settings: GuildSettings | None, guild_id: int | None = None) -> None:
        guild_id = settings.guild_id if settings else guild_id
        assert guild_id is not None
        for kind in PostKind:
            ident = job_id(kind, guild_id)
            if settings is not None and schedule.configured(settings, kind):
                self.scheduler.add_job(
                    self.publisher.fire,
                    trigger(settings, kind),
                    args=(guild_id, kind),
                    id=ident,
                    name=f"{kind} post of guild {guild_id}",
                    replace_existing=True,
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=int(GRACE[kind].total_seconds()),
                )
            elif self.scheduler.get_job(ident) is not None:
                self.scheduler.remove_job(ident)

    def next_fire(self, guild_id: int, kind: PostKind) -> datetime | None:
        job = self.scheduler.get_job(job_id(kind, guild_id))
        return None if job is None else job.next_run_time

    async def close(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- what the server settings need (`bot.server.service.PostsHooks`) -------------------

    async def settings_changed(self, guild_id: int) -> None:
        await self.rebuild(guild_id)

    async def notes(self, guild_id: int) -> list[str]:
        return await self.repo.post_notes(guild_id)

    async def erase_server(self, guild_id: int) -> None:
        """A server the bot left long ago: no jobs, no posts, no notes."""
        await self.rebuild(guild_id)
        await self.repo.erase_server(guild_id)
