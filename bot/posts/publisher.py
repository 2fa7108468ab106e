"""Scheduled posts, exactly once, through the outbox (states in the package's docstring).

When a period is due the publisher composes every message of its post and reserves the period
with them in one transaction (`PostRepo.reserve`); the deliverer then sends the stored parts in
order, each with a nonce derived from the period and an invisible mark (`messages.Mark`), and
records each as soon as Discord accepted it. A retry sends the stored parts, never a post
composed again from live data, to the study channel the settings name at that moment.

Discord recognises a repeated nonce for a few minutes only, so a part resumed after that first
looks for its mark in the channel and adopts the message instead of sending it again.

Many servers share a posting time, so posts run side by side but at most `concurrency` at a time,
and a request that hangs past `request_timeout` fails its post (retried later). No Discord here:
a `Poster` sends plain payloads (the bot's is `bot.posts.poster.DiscordPoster`).
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from bot import wording
from bot.clock import Clock
from bot.errors import UserError
from bot.posts import checkin, schedule
from bot.posts.messages import Composed, Mark, Outgoing, stamped
from bot.posts.repo import Note, PartRecord, PostRecord, PostRepo, StaleWindow
from bot.posts.schedule import GRACE, PostKind, enabled
from bot.server.records import GuildSettings
from bot.server.service import Servers

log = logging.getLogger(__name__)
T = TypeVar("T")

# Discord answers a repeated nonce with the message it created for 5 minutes or so; past 4 minutes
# a resumed post looks for its message in the channel rather than trust the nonce.
NONCE_TRUST = timedelta(minutes=4)
# The lookup starts this long before the reservation, in case this host's clock runs ahead.
CLOCK_SLACK = timedelta(minutes=1)
# A post that failed is retried after these delays, then every RETRY_EVERY: the first retries
# fall inside Discord's nonce window. A post reserved by a process that then died is taken over
# by the sweep after the first delay.
RETRY_AFTER = (timedelta(seconds=30), timedelta(minutes=2))
RETRY_EVERY = timedelta(minutes=5)
# A post whose first message is out but whose rest keeps failing is left as it is after this many
# failed tries, or once past its grace window.
MAX_TRIES = 8
CONCURRENCY = 16
REQUEST_TIMEOUT = timedelta(minutes=1)
# A post that failed only because Discord kept answering 429 is tried again this soon, whatever
# its number of tries (the retry sweep runs every 15 seconds).
RATE_LIMITED_RETRY = timedelta(seconds=15)


def retry_delay(failures: int) -> timedelta:
    """How long after its latest failed try a post is tried again."""
    return RETRY_AFTER[failures - 1] if 0 < failures <= len(RETRY_AFTER) else RETRY_EVERY


class PostFault(Exception):
    """Discord refused a post for good."""

    reason = "failed"


class ChannelGone(PostFault):
    reason = "the channel no longer exists"


class MissingAccess(PostFault):
    reason = "I am not allowed to post there (missing permission)"


class RateLimited(Exception):
    """Discord kept answering 429 for one request: a passing error, tried again soon."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ThreadGone(Exception):
    """The message a post's thread was to start from was deleted: the rest goes to the channel."""


class Poster(Protocol):
    async def send(self, channel_id: int, message: Outgoing, nonce: str) -> int:
        """Send and return the message id; a repeated nonce returns the message it created."""

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int | None:
        """Start a thread from a message; None when the bot may not create threads there.
        Raises ThreadGone when the message was deleted, ChannelGone when the channel was."""

    async def find(self, channel_id: int, since: datetime, mark: Mark) -> int | None:
        """The id of the bot's own message carrying `mark`, sent in the channel (or thread) after
        `since`; None when there is none or the history cannot be read."""

    async def open_dm(self, user_id: int) -> int:
        """The id of the bot's DM channel with a user."""


class Composer(Protocol):
    async def compose(
        self,
        settings: GuildSettings,
        kind: PostKind,
        due: datetime,
        days: tuple[date, date] | None = None,
    ) -> Composed: ...


class Status(enum.Enum):
    POSTED = "posted"
    ALREADY_POSTED = "already posted"
    SKIPPED = "skipped"  # missed by more than the grace window
    NOT_CONFIGURED = "not configured"
    NOTHING_YET = "nothing to cover yet"  # before the cohort's start
    TURNED_OFF = "turned off"  # Discord refused for good: the post type was disabled
    CANCELLED = "cancelled"  # turned off by an admin before it was all out
    WAITING = "waiting"  # no study channel now: waits for one within its grace window
    FAILED = "failed"  # a passing error; tried again by the sweep
    GAVE_UP = "gave up"  # partly sent, and the rest kept failing: left as it is


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    kind: PostKind
    guild_id: int
    period_key: str | None = None
    record: PostRecord | None = None
    detail: str = ""
    # Posted on demand: whether the kind's scheduled posts are on, so one follows it.
    scheduled: bool = True

    @property
    def link(self) -> str | None:
        record = self.record
        if record is None or record.message_id is None or record.channel_id is None:
            return None
        return f"https://discord.com/channels/{record.guild_id}/{record.channel_id}/{record.message_id}"


_WHAT = {PostKind.DAILY: "daily video", PostKind.CHECKIN: "weekly check-in"}


def describe(record: PostRecord) -> str:
    """A post as admins read it: "the daily video of 3 March", "the check-in for 2-8 March"."""
    if record.kind == PostKind.CHECKIN and record.window_start and record.window_end:
        return f"the check-in for {wording.date_range(record.window_start, record.window_end)}"
    day = date.fromisoformat(record.period_key)
    return f"the daily video of {wording.date_range(day, day)}"


class NoStudyChannel(UserError):
    def __init__(self) -> None:
        super().__init__("Choose the study channel first with `/setup channel`.")


class PostNotSent(UserError):
    pass


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holding the lock or waiting for it


def every_guild(guild_id: int) -> bool:
    return True


@dataclass
class Publisher:
    repo: PostRepo
    servers: Servers
    composer: Composer
    poster: Poster
    clock: Clock
    # The servers this process posts for: all of them, or its shards' (`bot.sharding`) when
    # other processes run the other shards. Catch-up, resumes, retries and notes skip the rest.
    serves: Callable[[int], bool] = every_guild
    # One reservation or delivery at a time per (guild, kind) in this process; other processes
    # are kept apart by the reservation's transaction and by Discord through the nonces.
    _locks: dict[tuple[int, str], _Turn] = field(default_factory=dict)
    concurrency: int = CONCURRENCY
    request_timeout: timedelta = REQUEST_TIMEOUT
    # Scheduled periods whose reservation the database refused (disk full, read-only, locked):
    # the sweep fires them again. Kept in memory on purpose: there is no row to keep it in, and
    # after a restart the catch-up finds every due period afresh.
    _unreserved: set[tuple[int, PostKind]] = field(default_factory=set)
    # When this bot was last seen running before this start (the scheduler sets it): a post
    # missed since then was missed because the bot was offline, which admins are told about.
    offline_since: datetime | None = None
    _slots: asyncio.Semaphore = field(init=False)
    _telling: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {self.concurrency}")
        self._slots = asyncio.Semaphore(self.concurrency)

    # --- entry points --------------------------------------------------------------------

    async def fire(self, guild_id: int, kind: PostKind) -> Outcome:
        """A scheduled run (or a start-up catch-up): post the latest due one unless too late."""
        now = self.clock()
        settings = await self.servers.stored(guild_id)
        if settings is None or not schedule.configured(settings, kind):
            self._unreserved.discard((guild_id, kind))
            return Outcome(Status.NOT_CONFIGURED, kind, guild_id)
        due = schedule.last_due(settings, kind, now)
        if kind is PostKind.DAILY and schedule.before_cohort(settings, due):
            # No video of the day before the cohort's first day (nor a note that one was missed).
            self._unreserved.discard((guild_id, kind))
            return Outcome(Status.NOTHING_YET, kind, guild_id)
        if now - due > GRACE[kind]:
            self._unreserved.discard((guild_id, kind))
            return await self._missed(settings, kind, due)
        return await self._post(settings, kind, due, scheduled=True)

    async def post_now(self, guild_id: int, kind: PostKind) -> Outcome:
        """On demand (an admin's `/checkin now`): a check-in like any other, covering the days
        since the last one; says so when there is nothing new to cover. It goes out even while
        the kind is turned off: the switch is for the scheduled posts."""
        now = self.clock()
        settings = await self.servers.stored(guild_id)
        if settings is None or settings.study_channel_id is None:
            raise NoStudyChannel()
        outcome = await self._post(settings, kind, now, scheduled=False)
        if outcome.status is Status.TURNED_OFF:
            raise PostNotSent(outcome.detail)
        if outcome.status is Status.NOTHING_YET:
            raise PostNotSent(
                f"The cohort starts on {wording.short_date(settings.cohort_start)}: "
                "there is nothing to report before then."
            )
        if outcome.status in (Status.FAILED, Status.WAITING):
            raise PostNotSent("Discord did not accept the post just now; I will keep trying.")
        record = outcome.record
        if outcome.status is Status.CANCELLED or (
            record is not None and record.state == "cancelled" and record.message_id is None
        ):
            # Cancelled before anything went out (the switch, a skip): it covers no days.
            what = describe(record) if record is not None else f"the {_WHAT[kind]}"
            raise PostNotSent(
                f"{what.capitalize()} was cancelled before it went out: its days are in the "
                "next check-in, which can go out from tomorrow."
            )
        return replace(outcome, scheduled=enabled(settings, kind))

    async def catch_up(self) -> list[Outcome]:
        """At start-up: every configured server's latest due posts, `concurrency` at a time."""
        jobs = [
            partial(self.fire, settings.guild_id, kind)
            for settings in await self.servers.all()
            for kind in PostKind
            if schedule.configured(settings, kind) and self.serves(settings.guild_id)
        ]
        return await _all(jobs, self.concurrency)

    async def resume_unsent(self, guild_id: int | None = None) -> list[Outcome]:
        """Deliver every pending post (at start-up, or a server's after its settings changed)."""
        pending = [
            record
            for record in await self.repo.pending_posts(guild_id=guild_id)
            if self.serves(record.guild_id)
        ]
        outcomes = await _all([partial(self.deliver, r) for r in pending], self.concurrency)
        await self.tell_admins()
        return outcomes

    async def retry_due(self) -> list[Outcome]:
        """The retry sweep: reservations the database refused, pending posts whose next try has
        come, and notes the admins have not been told yet."""
        jobs: list[Callable[[], Awaitable[Outcome]]] = [
            partial(self.fire, guild_id, kind) for guild_id, kind in sorted(self._unreserved)
        ]
        pending = await self.repo.pending_posts(due_by=self.clock())
        jobs += [
            partial(self.deliver, record) for record in pending if self.serves(record.guild_id)
        ]
        outcomes = await _all(jobs, self.concurrency)
        await self.tell_admins()
        return outcomes

    # --- reserving -----------------------------------------------------------------------

    async def _post(
        self, settings: GuildSettings, kind: PostKind, due: datetime, *, scheduled: bool
    ) -> Outcome:
        guild_id = settings.guild_id
        async with self._one_at_a_time((guild_id, kind)), self._slots:
            try:
                reserved = await self._reserve(settings, kind, due, on_demand=not scheduled)
            except Exception as error:
                if scheduled:
                    # Nothing was written: the sweep fires this period again while in grace.
                    self._unreserved.add((guild_id, kind))
                log.exception(
                    "could not reserve the %s post of guild %s due %s; it will be tried again",
                    kind,
                    guild_id,
                    due.isoformat(),
                )
                return Outcome(Status.FAILED, kind, guild_id, detail=f"not reserved: {error}")
            self._unreserved.discard((guild_id, kind))
            if isinstance(reserved, Outcome):
                return reserved
            record, new = reserved
            if record.done:
                return Outcome(Status.ALREADY_POSTED, kind, guild_id, record.period_key, record)
            if not new:
                log.info(
                    "%s post of guild %s for %s was reserved before; resuming", *_ident(record)
                )
            return await self._deliver(record)

    async def _reserve(
        self, settings: GuildSettings, kind: PostKind, due: datetime, *, on_demand: bool = False
    ) -> tuple[PostRecord, bool] | Outcome:
        guild_id = settings.guild_id
        today = due.astimezone(ZoneInfo(settings.timezone)).date()
        for _ in range(3):
            window: tuple[date, date] | None = None
            previous: date | None = None
            if kind is PostKind.DAILY:
                key = today.isoformat()
            else:
                previous = await self.repo.last_checkin_end(guild_id)
                window = checkin.next_window(previous, settings.cohort_start, today)
                if window is None:
                    latest = await self.repo.latest_checkin(guild_id)
                    if latest is None:
                        return Outcome(Status.NOTHING_YET, kind, guild_id)
                    return Outcome(Status.ALREADY_POSTED, kind, guild_id, latest.period_key, latest)
                key = window[1].isoformat()
            existing = await self.repo.post_record(guild_id, kind, key)
            if existing is not None:
                return existing, False
            composed = await self.composer.compose(settings, kind, due, window)
            messages = _stamped(kind, key, composed.messages)
            stamped_post = Composed(messages[0], messages[1:], composed.thread_name)
            now = self.clock()
            try:
                return await self.repo.reserve(
                    (guild_id, kind, key),
                    stamped_post,
                    nonce=schedule.nonce(guild_id, kind, key),
                    due_at=due,
                    now=now,
                    next_try_at=now + RETRY_AFTER[0],
                    window=window,
                    previous_end=previous,
                    on_demand=on_demand,
                )
            except StaleWindow:
                continue  # another check-in was reserved meanwhile: cover what is left
        raise RuntimeError(f"check-in windows of guild {guild_id} kept changing")

    async def _missed(self, settings: GuildSettings, kind: PostKind, due: datetime) -> Outcome:
        guild_id = settings.guild_id
        day = due.astimezone(ZoneInfo(settings.timezone)).date()
        if kind is PostKind.DAILY:
            record = await self.repo.post_record(guild_id, kind, day.isoformat())
        else:
            record = await self.repo.latest_checkin(guild_id)
            if record is not None and (record.window_end or day) < day - timedelta(days=1):
                record = None  # the latest check-in is an older one
        if record is not None and record.state != "cancelled":
            return Outcome(Status.ALREADY_POSTED, kind, guild_id, record.period_key, record)
        late = self.clock() - due
        log.warning(
            "skipping the %s post of guild %s due %s: %s late, past its grace of %s",
            kind,
            guild_id,
            due.isoformat(),
            late,
            GRACE[kind],
        )
        if self.offline_since is None or self.offline_since > due:
            # Set up (or first started) after the time it was due: the admins missed nothing.
            return Outcome(Status.SKIPPED, kind, guild_id, day.isoformat(), record)
        hours = GRACE[kind] // timedelta(hours=1)
        follow = (
            "its days are in the next check-in"
            if kind is PostKind.CHECKIN
            else "the next one goes out as usual"
        )
        note = (
            f"The {_WHAT[kind]} due {wording.short_date(day)} at {due:%H:%M} was skipped: I was "
            f"offline until more than {hours} hours later. Nothing to fix; {follow}. If I am "
            "often offline, check where I run."
        )
        await self.repo.add_note(guild_id, kind, note, "posted", self.clock())
        await self.tell_admins()
        return Outcome(Status.SKIPPED, kind, guild_id, day.isoformat(), record, note)

    # --- delivering ----------------------------------------------------------------------

    async def deliver(self, record: PostRecord) -> Outcome:
        """Send a reserved post's pending parts (the sweep, a restart, a settings change)."""
        async with self._one_at_a_time((record.guild_id, record.kind)), self._slots:
            current = await self.repo.post_record(*record.key)
            if current is None or current.done:
                return Outcome(Status.ALREADY_POSTED, PostKind(record.kind), record.guild_id)
            return await self._deliver(current)

    async def _deliver(self, record: PostRecord) -> Outcome:
        kind = PostKind(record.kind)
        guild_id, key = record.guild_id, record.period_key
        now = self.clock()
        settings = await self.servers.stored(guild_id)
        # The off switch stops the scheduled posts; one an admin asked for goes out regardless.
        if settings is None or not (record.on_demand or enabled(settings, kind)):
            log.info("the %s post of guild %s for %s was turned off; cancelled", *_ident(record))
            await self.repo.cancel(record.key, now)
            return Outcome(Status.CANCELLED, kind, guild_id, key, record)
        late = now - record.due > GRACE[kind]
        if record.message_id is None and late:
            return await self._too_late(record, kind)
        if record.message_id is not None and (record.failures >= MAX_TRIES or late):
            return await self._give_up(record, kind)
        channel = settings.study_channel_id
        if channel is None:
            await self.repo.tried(record.key, now, now + RETRY_EVERY, failed=False)
            return Outcome(Status.WAITING, kind, guild_id, key, record, "no study channel")
        try:
            parts = await self.repo.parts(record.key)
            record = await self._send_parts(record, parts, channel)
        except MissingAccess as fault:
            return await self._turn_off(record, kind, channel, fault)
        except ChannelGone:
            # Deleted while no one was listening: as if the delete event had come now.
            log.warning("the study channel %s of guild %s is gone", channel, guild_id)
            await self.repo.tried(record.key, now, now + RETRY_EVERY, failed=False)
            await self.servers.channel_deleted(guild_id, channel, now)
            return Outcome(Status.WAITING, kind, guild_id, key, record, "channel deleted")
        except RateLimited as error:
            retry = now + max(RATE_LIMITED_RETRY, timedelta(seconds=error.retry_after))
            await self.repo.tried(record.key, now, retry, failed=False)
            log.warning(
                "the %s post of guild %s for %s was rate limited (%s); retried at %s",
                *_ident(record),
                error,
                retry.isoformat(),
            )
            return Outcome(Status.FAILED, kind, guild_id, key, record, str(error))
        except Exception as error:
            failures = record.failures + 1
            await self.repo.tried(record.key, now, now + retry_delay(failures), failed=True)
            if isinstance(error, TimeoutError):
                log.warning(
                    "a request of the %s post of guild %s for %s took longer than %s; retried",
                    *_ident(record),
                    self.request_timeout,
                )
                return Outcome(Status.FAILED, kind, guild_id, key, record, "timed out")
            log.exception(
                "the %s post of guild %s for %s failed; it will be retried", *_ident(record)
            )
            return Outcome(Status.FAILED, kind, guild_id, key, record, str(error))
        await self.repo.clear_notes(guild_id, kind, "posted")
        log.info("posted the %s post of guild %s for %s", *_ident(record))
        return Outcome(Status.POSTED, kind, guild_id, key, record)

    async def _send_parts(
        self, record: PostRecord, parts: list[PartRecord], channel: int
    ) -> PostRecord:
        kind, key = record.kind, record.period_key
        # Only the first part not recorded can have reached Discord on an earlier try (parts go
        # out one by one, each recorded once accepted). If that try may be older than Discord's
        # memory of nonces, look for it before sending it again.
        since: datetime | None = None
        if self.clock() - record.reserved_at > NONCE_TRUST:
            since = record.reserved_at - CLOCK_SLACK
        head, rest = parts[0], [p for p in parts[1:] if p.state == "pending"]
        if head.state == "pending":
            sent = await self._send_one(channel, head.body, record.nonce, Mark(kind, key, 1), since)
            record = await self.repo.part_sent(record.key, 1, channel, sent, self.clock())
            since = None
        if not rest:
            return record
        assert record.message_id is not None and record.channel_id is not None
        if record.channel_id != channel:
            target = channel  # the study channel changed since the first message: follow it
        elif record.thread_id is not None:
            target = record.thread_id
        else:
            thread = None
            if record.thread_name:
                try:
                    thread = await self._in_time(
                        self.poster.start_thread(channel, record.message_id, record.thread_name)
                    )
                except ThreadGone:
                    log.warning(
                        "the first message of the %s post of guild %s for %s was deleted before "
                        "its thread was started; the rest goes to the channel",
                        *_ident(record),
                    )
            target = thread or channel
            record = await self.repo.set_thread(record.key, target)
        for part in rest:
            nonce = schedule.part_nonce(record.nonce, part.part - 1)
            mark = Mark(kind, key, part.part)
            try:
                sent = await self._send_one(target, part.body, nonce, mark, since)
            except (ChannelGone, MissingAccess) as fault:
                if target == channel:
                    raise
                # Only the thread was deleted or closed to the bot (a thread is a channel to
                # Discord, so its 404 and 403 look the same): the rest goes to the channel.
                log.warning(
                    "the thread %s of the %s post of guild %s is unusable (%s); the rest goes to "
                    "channel %s",
                    target,
                    kind,
                    record.guild_id,
                    fault.reason,
                    channel,
                )
                target = channel
                record = await self.repo.set_thread(record.key, target)
                sent = await self._send_one(target, part.body, nonce, mark, None)
            since = None
            record = await self.repo.part_sent(record.key, part.part, target, sent, self.clock())
        return record

    async def _send_one(
        self, channel_id: int, message: Outgoing, nonce: str, mark: Mark, since: datetime | None
    ) -> int:
        """Send one stored message, or with `since`, first look for it there from then."""
        if since is not None:
            found = await self._in_time(self.poster.find(channel_id, since, mark))
            if found is not None:
                log.info(
                    "found part %s of the %s post for %s already in channel %s (message %s)",
                    mark.index,
                    mark.kind,
                    mark.period_key,
                    channel_id,
                    found,
                )
                return found
        return await self._in_time(self.poster.send(channel_id, message, nonce))

    async def _in_time(self, request: Awaitable[T]) -> T:
        """A request to Discord, given up (TimeoutError) after `request_timeout`. The database's
        writes stay outside the timeout, so a timeout never cuts one short."""
        async with asyncio.timeout(self.request_timeout.total_seconds()):
            return await request

    # --- giving up ------------------------------------------------------------------------

    async def _too_late(self, record: PostRecord, kind: PostKind) -> Outcome:
        log.warning(
            "skipping the unsent %s post of guild %s for %s: past its grace of %s",
            *_ident(record),
            GRACE[kind],
        )
        follow = "its days are in the next check-in" if kind is PostKind.CHECKIN else "nothing"
        note = (
            f"I could not post {describe(record)} within {GRACE[kind] // timedelta(hours=1)} "
            f"hours of its time, so it was skipped ({follow} is lost). Check `/setup show` for "
            "anything else that needs attention."
        )
        await self.repo.cancel(record.key, self.clock(), (kind, note, "posted"))
        await self.tell_admins()
        return Outcome(Status.SKIPPED, kind, record.guild_id, record.period_key, record, note)

    async def _give_up(self, record: PostRecord, kind: PostKind) -> Outcome:
        why = (
            f"it failed {record.failures} times"
            if record.failures >= MAX_TRIES
            else f"it is more than {GRACE[kind] // timedelta(hours=1)} hours late"
        )
        log.warning(
            "giving up on the rest of the %s post of guild %s for %s (first message and %s "
            "further parts out): %s",
            *_ident(record),
            record.parts_sent,
            why,
        )
        outcome = Outcome(Status.GAVE_UP, kind, record.guild_id, record.period_key, record)
        note = (
            f"{describe(record).capitalize()} was only partly posted ({outcome.link}): I stopped "
            f"sending the rest because {why}. Nothing to fix if Discord was having trouble; "
            "otherwise check my permissions in the study channel."
        )
        await self.repo.cancel(record.key, self.clock(), (kind, note, "posted"))
        await self.tell_admins()
        return Outcome(Status.GAVE_UP, kind, record.guild_id, record.period_key, record, note)

    async def _turn_off(
        self, record: PostRecord, kind: PostKind, channel: int, fault: PostFault
    ) -> Outcome:
        now = self.clock()
        if record.on_demand and not enabled(await self.servers.stored(record.guild_id), kind):
            # Asked for while the kind is off: nothing to turn off, only the channel to fix.
            note = (
                f"{describe(record).capitalize()} could not be posted in <#{channel}>: "
                f"{fault.reason}. Fix the channel (`/setup channel`), then run `/checkin now` "
                "again."
            )
            log.warning(
                "the %s post of guild %s for %s asked for while off was refused: %s",
                *_ident(record),
                fault,
            )
            await self.repo.cancel(record.key, now, (kind, note, "posted"))
            await self.tell_admins()
            return Outcome(
                Status.TURNED_OFF, kind, record.guild_id, record.period_key, record, note
            )
        note = (
            f"The {_WHAT[kind]} could not be posted in <#{channel}>: {fault.reason}. I turned it "
            f"off; fix the channel (`/setup channel`), then turn it back on with "
            f"`/setup posts {kind}:on`."
        )
        log.warning(
            "turning off the %s post of guild %s: %s (channel %s): %s",
            kind,
            record.guild_id,
            fault.reason,
            channel,
            fault,
        )
        await self.repo.cancel(record.key, now, (kind, note, "turned on"))
        await self.servers.turn_off_post(record.guild_id, kind, now)
        await self.tell_admins()
        return Outcome(Status.TURNED_OFF, kind, record.guild_id, record.period_key, record, note)

    # --- telling admins -------------------------------------------------------------------

    async def tell_admins(self) -> int:
        """One short message per note not told yet: in the admin channel, or else a DM to
        whoever ran /setup last. Returns how many were told."""
        told = 0
        async with self._telling:
            for note in await self.repo.untold():
                if not self.serves(note.guild_id):
                    continue  # the process running that server's shard tells it
                try:
                    await self._tell(note)
                    await self.repo.told(note, self.clock())
                    told += 1
                except Exception as error:
                    log.warning(
                        "telling the admins of guild %s failed (%r); will retry",
                        note.guild_id,
                        error,
                    )
        return told

    async def _tell(self, note: Note) -> None:
        settings = await self.servers.stored(note.guild_id)
        if settings is None:
            return
        message = Outgoing(content=f"**twopass needs attention.** {note.text}")
        nonce = hashlib.sha256(
            f"twopass-note:{note.guild_id}:{note.topic}:{note.at.isoformat()}".encode()
        ).hexdigest()[:20]
        if settings.admin_channel_id:
            try:
                await self._in_time(self.poster.send(settings.admin_channel_id, message, nonce))
                return
            except PostFault as fault:
                log.warning("the admin channel of guild %s refused: %s", note.guild_id, fault)
        if settings.setup_by:
            try:
                channel = await self._in_time(self.poster.open_dm(settings.setup_by))
                await self._in_time(self.poster.send(channel, message, nonce))
            except PostFault as fault:
                # DMs closed: nowhere else to say it; `/setup show` still lists the note.
                log.warning("could not DM the admin of guild %s: %s", note.guild_id, fault)

    @asynccontextmanager
    async def _one_at_a_time(self, key: tuple[int, str]) -> AsyncIterator[None]:
        turn = self._locks.setdefault(key, _Turn())
        turn.users += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.users -= 1
            if turn.users == 0:
                del self._locks[key]


def _ident(record: PostRecord) -> tuple[str, int, str]:
    """A post as log lines name it: kind, guild, period."""
    return record.kind, record.guild_id, record.period_key


def _stamped(kind: PostKind, key: str, messages: tuple[Outgoing, ...]) -> tuple[Outgoing, ...]:
    return tuple(
        stamped(message, Mark(kind, key, number))
        for number, message in enumerate(messages, start=1)
    )


async def _all(jobs: Iterable[Callable[[], Awaitable[Outcome]]], limit: int) -> list[Outcome]:
    """Run posts side by side, at most `limit` at once and each started only when a runner is
    free: one server's slow or failing post never holds up another's. The outcomes come in the
    order of the jobs."""
    pending = iter(enumerate(jobs))
    results: dict[int, Outcome] = {}

    async def runner() -> None:
        for index, job in pending:
            try:
                results[index] = await job()
            except Exception:
                log.exception("a scheduled post failed unexpectedly")

    await asyncio.gather(*(runner() for _ in range(max(1, limit))))
    return [results[index] for index in sorted(results)]
