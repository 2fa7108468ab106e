"""APScheduler jobs built from the servers' settings: one daily-video job and one check-in job per
configured server this process serves (every server, or its shards' ones: `Publisher.serves`),
each a CronTrigger in the server's timezone, with ids keyed by guild so rebuilding is idempotent.
The jobs call the `Publisher`, which makes each post happen exactly once."""

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
from bot.posts.publisher import Publisher, enabled
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
        self.publisher.offline_since = await self.repo.last_seen()
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
            self.spawn(self.catch_up())

    async def catch_up(self) -> None:
        await self.publisher.resume_unsent()
        await self.publisher.catch_up()
        await self.seen()

    async def sweep(self) -> None:
        """Every SWEEP_EVERY: retries, untold notes, and a sign of life for the next start."""
        await self.publisher.retry_due()
        await self.seen()

    async def seen(self) -> None:
        try:
            await self.repo.seen(self.publisher.clock())
        except Exception:
            log.warning("could not record that the bot is running", exc_info=True)

    # APScheduler cancels its running jobs when it shuts down; the post itself runs in a task of
    # ours, shielded, so shutdown can let it finish recording what it sent (see `close`).
    async def _fire(self, guild_id: int, kind: PostKind) -> None:
        await asyncio.shield(self.spawn(self.publisher.fire(guild_id, kind)))

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
            ident = job_id(kind, guild_id)
            if settings is not None and schedule.configured(settings, kind):
                self.scheduler.add_job(
                    self._fire,
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
