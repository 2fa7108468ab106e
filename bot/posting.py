"""Scheduled posts, exactly once: reserve the period in the store, send with a nonce derived from
it, record each step, and resume an unfinished post with the same nonces.

Discord recognises a repeated nonce for a few minutes only. Every message of a post therefore also
carries a mark naming its post and part, and a post resumed after that window first looks for its
unrecorded message in the channel instead of sending it again.

No Discord here: a `Poster` sends plain payloads (the bot's adapter is `bot.discord_poster`), and a
`Composer` writes the messages of a post (`bot.post_content`).

Many servers share a posting time (the default check-in is Monday 18:00 UTC), so posts run side by
side but at most `Publisher.concurrency` at a time, and a request to Discord that hangs past
`Publisher.request_timeout` fails its post (retried later): a slow or hung server holds one slot
for a while and never the others, and thousands of due posts do not all start at once. The poster
paces the requests themselves under Discord's global limit.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

from bot.clock import Clock
from bot.domain import schedule
from bot.domain.errors import StudyError
from bot.domain.schedule import GRACE, PostKind
from bot.store import GuildSettings, PostRecord, Store

log = logging.getLogger(__name__)
T = TypeVar("T")

# Discord answers a repeated nonce with the message it created for 5 minutes or so; past 4 minutes
# a resumed post looks for its message in the channel rather than trust the nonce.
NONCE_TRUST = timedelta(minutes=4)
# The lookup starts this long before the reservation, in case this host's clock runs ahead of
# Discord's.
CLOCK_SLACK = timedelta(minutes=1)
# A post that failed is retried after these delays, then every RETRY_EVERY: the first retries
# fall inside Discord's nonce window.
RETRY_AFTER = (timedelta(seconds=30), timedelta(minutes=2))
RETRY_EVERY = timedelta(minutes=5)
# A post whose first message is out but whose rest keeps failing is left as it is after this many
# tries, or once past its grace window.
MAX_TRIES = 8
# Posts in flight at once (each a few requests, paced by the poster), and how long one request
# (with the poster's waits for its turn and after 429s) may take before its post is counted as
# failed and frees its slot for the next server.
CONCURRENCY = 16
REQUEST_TIMEOUT = timedelta(minutes=1)
# A post that failed only because Discord kept answering 429 is tried again this soon, whatever
# its number of tries (the retry sweep runs every 15 seconds).
RATE_LIMITED_RETRY = timedelta(seconds=15)
MARK_ROOM = 64  # characters a renderer leaves free in each message for its mark

_MARK = re.compile(r"(?:^| · )twopass · (daily|checkin) (\S+)(?: · (\d+)/\d+)?$")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message: text and embeds as Discord's JSON (already within Discord's limits)."""

    content: str = ""
    embeds: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Mark:
    """Which post and which of its messages (1 is the first) a message is, written in the message
    so the bot can recognise it in the channel's history: the footer of its last embed, or the last
    line of its text when it has no embed, e.g. `twopass · checkin 2026-W10 · 2/4`."""

    kind: str
    period_key: str
    index: int

    def text(self, total: int) -> str:
        base = f"twopass · {self.kind} {self.period_key}"
        return base if total == 1 else f"{base} · {self.index}/{total}"

    def on(self, message: Outgoing) -> bool:
        """Whether `message` (as Discord returns it) carries this mark."""
        texts = [str(e.get("footer", {}).get("text", "")) for e in message.embeds]
        texts.append(message.content.rpartition("\n")[2].removeprefix("-# "))
        for text in texts:
            found = _MARK.search(text)
            if found and (found[1], found[2], int(found[3] or 1)) == (
                self.kind,
                self.period_key,
                self.index,
            ):
                return True
        return False


def stamped(message: Outgoing, text: str) -> Outgoing:
    """`message` with a mark's text: in the footer of its last embed, or as a small last line."""
    if message.embeds:
        *rest, last = message.embeds
        footer = dict(last.get("footer", {}))
        footer["text"] = f"{footer['text']} · {text}" if footer.get("text") else text
        return replace(message, embeds=(*rest, {**last, "footer": footer}))
    line = f"-# {text}"
    return replace(message, content=f"{message.content}\n{line}" if message.content else line)


def retry_delay(attempts: int) -> timedelta:
    """How long after its latest try a failed post is tried again."""
    return RETRY_AFTER[attempts - 1] if 0 < attempts <= len(RETRY_AFTER) else RETRY_EVERY


@dataclass(frozen=True, slots=True)
class Composed:
    """A post: its first message, and further parts (in a thread named `thread_name` if any)."""

    head: Outgoing
    parts: tuple[Outgoing, ...] = ()
    thread_name: str | None = None


class PostFault(Exception):
    """Discord refused a post for good; the post is turned off until an admin fixes it."""

    reason = "failed"


class ChannelGone(PostFault):
    reason = "the channel no longer exists"


class NotAllowed(PostFault):
    reason = "I am not allowed to post there (missing permission)"


class RateLimited(Exception):
    """Discord kept answering 429 (too many requests) for one request: a passing error, tried again
    soon (`RATE_LIMITED_RETRY`), never a fault of the post."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ThreadGone(Exception):
    """The message a post's thread was to start from was deleted. Not a fault of the channel:
    the rest of the post goes to the channel itself."""


class Poster(Protocol):
    async def send(self, channel_id: int, message: Outgoing, nonce: str) -> int:
        """Send and return the message id; a repeated nonce returns the message it created."""

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int | None:
        """Start a thread from a message; None when the bot may not create threads there.
        Raises ThreadGone when the message was deleted, ChannelGone when the channel was."""

    async def find(self, channel_id: int, since: datetime, mark: Mark) -> int | None:
        """The id of the bot's own message carrying `mark`, sent in the channel (or thread) after
        `since`; None when there is none or the history cannot be read."""


class Composer(Protocol):
    async def compose(self, settings: GuildSettings, kind: PostKind, due: datetime) -> Composed: ...


class Status(enum.Enum):
    POSTED = "posted"
    ALREADY_POSTED = "already posted"
    SKIPPED = "skipped"  # missed by more than the grace window
    NOT_CONFIGURED = "not configured"
    TURNED_OFF = "turned off"  # Discord refused for good: the post type was disabled
    FAILED = "failed"  # a passing error; the reservation stays and is retried
    GAVE_UP = "gave up"  # partly sent, and the rest kept failing: left as it is


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    kind: PostKind
    guild_id: int
    period_key: str | None = None
    record: PostRecord | None = None
    detail: str = ""

    @property
    def link(self) -> str | None:
        record = self.record
        if record is None or record.message_id is None or record.channel_id is None:
            return None
        return f"https://discord.com/channels/{record.guild_id}/{record.channel_id}/{record.message_id}"


_WHAT = {PostKind.DAILY: "daily video", PostKind.CHECKIN: "weekly check-in"}


class NoStudyChannel(StudyError):
    def __init__(self) -> None:
        super().__init__("Choose the study channel first with `/setup channel`.")


class PostNotSent(StudyError):
    pass


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holding the lock or waiting for it


def every_guild(guild_id: int) -> bool:
    return True


@dataclass
class Publisher:
    store: Store
    composer: Composer
    poster: Poster
    clock: Clock
    # The servers this process posts for: all of them, or its shards' (`bot.sharding`) when
    # other processes run the other shards. Start-up catch-up and retries skip the rest.
    serves: Callable[[int], bool] = every_guild
    # One post at a time per (guild, kind, period) in this process; other processes and
    # retries are told apart by Discord through the nonce. A period's lock lives only while
    # someone holds or waits for it.
    _locks: dict[tuple[int, str, str], _Turn] = field(default_factory=dict)
    concurrency: int = CONCURRENCY
    request_timeout: timedelta = REQUEST_TIMEOUT
    # Posts that failed on a 429: (guild, kind, period) -> when to try again, ahead of their turn.
    _rate_limited: dict[tuple[int, str, str], datetime] = field(default_factory=dict)
    # Tries that only met Discord's rate limit: they do not count toward giving up.
    _throttled_tries: Counter[tuple[int, str, str]] = field(default_factory=Counter)
    _slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {self.concurrency}")
        self._slots = asyncio.Semaphore(self.concurrency)

    # --- entry points --------------------------------------------------------------------

    async def fire(self, guild_id: int, kind: PostKind) -> Outcome:
        """A scheduled run (or a start-up catch-up): post the latest due one unless too late."""
        now = self.clock()
        settings = await self.store.guild_settings(guild_id)
        if settings is None or not schedule.configured(settings, kind):
            return Outcome(Status.NOT_CONFIGURED, kind, guild_id)
        due = schedule.last_due(settings, kind, now)
        key = schedule.period_key(kind, due, settings.timezone)
        late = now - due
        if late > GRACE[kind]:
            record = await self.store.post_record(guild_id, kind, key)
            if record is None or not record.done:
                log.warning(
                    "skipping the %s post of guild %s for %s: due %s, now %s late (grace %s)",
                    kind,
                    guild_id,
                    key,
                    due.isoformat(),
                    late,
                    GRACE[kind],
                )
                return Outcome(Status.SKIPPED, kind, guild_id, key, record)
            return Outcome(Status.ALREADY_POSTED, kind, guild_id, key, record)
        return await self._publish(settings, kind, key, due, settings.study_channel_id)

    async def post_now(self, guild_id: int, kind: PostKind) -> Outcome:
        """On demand (an admin's `/checkin now`): this period's post, unless it is already out."""
        now = self.clock()
        settings = await self.store.guild_settings(guild_id)
        if settings is None or settings.study_channel_id is None:
            raise NoStudyChannel()
        key = schedule.period_key(kind, now, settings.timezone)
        outcome = await self._publish(settings, kind, key, now, settings.study_channel_id)
        if outcome.status is Status.TURNED_OFF:
            raise PostNotSent(outcome.detail)
        if outcome.status is Status.FAILED:
            raise PostNotSent("Discord did not accept the post just now; try again in a minute.")
        return outcome

    async def catch_up(self) -> list[Outcome]:
        """At start-up: every configured server's latest due posts, `concurrency` at a time."""
        jobs = [
            partial(self.fire, settings.guild_id, kind)
            for settings in await self.store.all_guild_settings()
            for kind in PostKind
            if schedule.configured(settings, kind) and self.serves(settings.guild_id)
        ]
        return await _all(jobs, self.concurrency)

    async def resume_unsent(self) -> list[Outcome]:
        """Finish posts a crash or a passing error left half-done, with their own nonces."""
        return await self._resume(only_due=False)

    async def retry_due(self) -> list[Outcome]:
        """The retry sweep: unfinished posts whose next try has come (see `retry_delay`)."""
        return await self._resume(only_due=True)

    async def _resume(self, *, only_due: bool) -> list[Outcome]:
        now = self.clock()
        jobs: list[Callable[[], Awaitable[Outcome]]] = []
        gave_up = []
        for record in await self.store.unsent_posts():
            if not self.serves(record.guild_id):
                continue
            ident = (record.guild_id, record.kind, record.period_key)
            soon = self._rate_limited.get(ident)
            rate_limited_due = soon is not None and now >= soon
            if (
                only_due
                and not rate_limited_due
                and now - record.last_attempt < retry_delay(record.attempts)
            ):
                continue
            self._rate_limited.pop(ident, None)
            kind = PostKind(record.kind)
            settings = await self.store.guild_settings(record.guild_id)
            due = record.due_at or record.reserved_at
            failures = record.attempts - self._throttled_tries[ident]
            if record.message_id is not None and (failures >= MAX_TRIES or now - due > GRACE[kind]):
                self._throttled_tries.pop(ident, None)
                gave_up.append(await self._give_up(record, kind))
                continue
            too_late = now - due > GRACE[kind] and record.message_id is None
            if settings is None or record.channel_id is None or too_late:
                log.warning(
                    "abandoning the unsent %s post of guild %s for %s (due %s)",
                    kind,
                    record.guild_id,
                    record.period_key,
                    due.isoformat(),
                )
                await self.store.drop_post(record.guild_id, kind, record.period_key)
                continue
            log.info(
                "resuming the %s post of guild %s for %s (try %s) with its nonce",
                kind,
                record.guild_id,
                record.period_key,
                record.attempts + 1,
            )
            jobs.append(
                partial(self._publish, settings, kind, record.period_key, due, record.channel_id)
            )
        return gave_up + await _all(jobs, self.concurrency)

    async def _give_up(self, record: PostRecord, kind: PostKind) -> Outcome:
        """The first message of a post is out but the rest keeps failing: stop retrying it (and
        logging its error every few minutes) and keep what is out as the period's post."""
        why = (
            f"it failed {record.attempts} times"
            if record.attempts >= MAX_TRIES
            else f"it is more than {GRACE[kind] // timedelta(hours=1)} hours late"
        )
        log.warning(
            "giving up on the rest of the %s post of guild %s for %s (first message and %s "
            "further parts out): %s",
            kind,
            record.guild_id,
            record.period_key,
            record.parts_sent,
            why,
        )
        outcome = Outcome(Status.GAVE_UP, kind, record.guild_id, record.period_key, record)
        note = (
            f"The {_WHAT[kind]} for {record.period_key} was only partly posted "
            f"({outcome.link}): I stopped sending the rest because {why}."
        )
        await self.store.give_up_post(record.guild_id, kind, record.period_key, note, self.clock())
        return replace(outcome, detail=note)

    # --- one post ------------------------------------------------------------------------

    async def _publish(
        self,
        settings: GuildSettings,
        kind: PostKind,
        key: str,
        due: datetime,
        channel_id: int | None,
    ) -> Outcome:
        guild_id = settings.guild_id
        assert channel_id is not None
        async with self._one_at_a_time((guild_id, kind, key)), self._slots:
            now = self.clock()
            record, new = await self.store.reserve_post(
                guild_id,
                kind,
                key,
                nonce=schedule.nonce(guild_id, kind, key),
                channel_id=channel_id,
                due_at=due,
                now=now,
            )
            if record.done:
                return Outcome(Status.ALREADY_POSTED, kind, guild_id, key, record)
            if not new:
                log.info(
                    "%s post of guild %s for %s was reserved before; resuming", kind, guild_id, key
                )
            if now - due > timedelta(minutes=1):
                log.info(
                    "posting the %s post of guild %s for %s late: due %s, %s ago (grace %s)",
                    kind,
                    guild_id,
                    key,
                    due.isoformat(),
                    now - due,
                    GRACE[kind],
                )
            self._rate_limited.pop((guild_id, kind, key), None)
            try:
                composed = await self.composer.compose(settings, kind, due)
                record = await self._send(record, composed)
            except PostFault as fault:
                return await self._turn_off(settings, kind, key, record, fault)
            except RateLimited as error:
                retry = self.clock() + max(RATE_LIMITED_RETRY, timedelta(seconds=error.retry_after))
                self._rate_limited[(guild_id, kind, key)] = retry
                self._throttled_tries[(guild_id, kind, key)] += 1
                log.warning(
                    "the %s post of guild %s for %s was rate limited by Discord (%s); it will be "
                    "retried at %s",
                    kind,
                    guild_id,
                    key,
                    error,
                    retry.isoformat(),
                )
                return Outcome(Status.FAILED, kind, guild_id, key, record, str(error))
            except TimeoutError:
                log.warning(
                    "a request of the %s post of guild %s for %s took longer than %s; the post "
                    "will be retried",
                    kind,
                    guild_id,
                    key,
                    self.request_timeout,
                )
                return Outcome(Status.FAILED, kind, guild_id, key, record, "timed out")
            except Exception as error:
                log.exception(
                    "the %s post of guild %s for %s failed; it will be retried",
                    kind,
                    guild_id,
                    key,
                )
                return Outcome(Status.FAILED, kind, guild_id, key, record, str(error))
            self._throttled_tries.pop((guild_id, kind, key), None)
            log.info("posted the %s post of guild %s for %s", kind, guild_id, key)
            return Outcome(Status.POSTED, kind, guild_id, key, record)

    @asynccontextmanager
    async def _one_at_a_time(self, key: tuple[int, str, str]) -> AsyncIterator[None]:
        turn = self._locks.setdefault(key, _Turn())
        turn.users += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.users -= 1
            if turn.users == 0:
                del self._locks[key]

    async def _send(self, record: PostRecord, composed: Composed) -> PostRecord:
        guild_id, kind, key = record.guild_id, record.kind, record.period_key
        channel_id = record.channel_id
        assert channel_id is not None
        total = 1 + len(composed.parts)
        # Only the first step not recorded yet can have reached Discord on an earlier try (the
        # steps go out one by one, each recorded as soon as Discord accepts it). If that try may
        # be older than Discord's memory of nonces, look for it before sending it again.
        since: datetime | None = None
        if self.clock() - record.reserved_at > NONCE_TRUST:
            since = record.reserved_at - CLOCK_SLACK
        message_id = record.message_id
        if message_id is None:
            message_id = await self._deliver(
                channel_id, composed.head, record.nonce, Mark(kind, key, 1), total, since
            )
            await self.store.post_progress(guild_id, kind, key, message_id=message_id)
            since = None
        target = record.thread_id
        if composed.parts and target is None:
            thread = None
            if composed.thread_name:
                try:
                    thread = await self._in_time(
                        self.poster.start_thread(channel_id, message_id, composed.thread_name)
                    )
                except ThreadGone:
                    log.warning(
                        "the first message of the %s post of guild %s for %s was deleted before "
                        "its thread was started; the rest goes to channel %s",
                        kind,
                        guild_id,
                        key,
                        channel_id,
                    )
            target = thread or channel_id
            await self.store.post_progress(guild_id, kind, key, thread_id=target)
        for number, part in enumerate(composed.parts, start=1):
            if number <= record.parts_sent:
                continue
            assert target is not None
            nonce = schedule.part_nonce(record.nonce, number)
            mark = Mark(kind, key, number + 1)
            try:
                await self._deliver(target, part, nonce, mark, total, since)
            except (ChannelGone, NotAllowed) as fault:
                if target == channel_id:
                    raise  # the channel itself: a fault that turns the post off
                # Only the thread was deleted or closed to the bot (a thread is a channel to
                # Discord, so its 404 and 403 look the same): the rest goes to the channel.
                log.warning(
                    "the thread %s of the %s post of guild %s for %s is unusable (%s); the rest "
                    "goes to channel %s",
                    target,
                    kind,
                    guild_id,
                    key,
                    fault.reason,
                    channel_id,
                )
                target = channel_id
                await self.store.post_progress(guild_id, kind, key, thread_id=target)
                await self._deliver(target, part, nonce, mark, total, None)
            since = None
            await self.store.post_progress(guild_id, kind, key, parts_sent=number)
        await self.store.finish_post(guild_id, kind, key, self.clock())
        done = await self.store.post_record(guild_id, kind, key)
        assert done is not None
        return done

    async def _deliver(
        self,
        channel_id: int,
        message: Outgoing,
        nonce: str,
        mark: Mark,
        total: int,
        since: datetime | None,
    ) -> int:
        """Send one message of a post, or with `since`, first look for it there from then."""
        if since is not None:
            found = await self._in_time(self.poster.find(channel_id, since, mark))
            if found is not None:
                log.info(
                    "found message %s of the %s post for %s already in channel %s (id %s): "
                    "not sending it again",
                    mark.index,
                    mark.kind,
                    mark.period_key,
                    channel_id,
                    found,
                )
                return found
        return await self._in_time(
            self.poster.send(channel_id, stamped(message, mark.text(total)), nonce)
        )

    async def _in_time(self, request: Awaitable[T]) -> T:
        """A request to Discord, given up (TimeoutError) after `request_timeout`. The store's
        writes stay outside the timeout, so a timeout never cuts one short."""
        async with asyncio.timeout(self.request_timeout.total_seconds()):
            return await request

    async def _turn_off(
        self,
        settings: GuildSettings,
        kind: PostKind,
        key: str,
        record: PostRecord,
        fault: PostFault,
    ) -> Outcome:
        what = _WHAT[kind]
        now = self.clock()
        current = await self.store.post_record(settings.guild_id, kind, key)
        if current is not None and current.message_id is not None:
            # Part of it is out: keep it as this period's post rather than post it again later.
            await self.store.finish_post(settings.guild_id, kind, key, now)
        note = (
            f"The {what} could not be posted in <#{record.channel_id}>: {fault.reason}. "
            f"I turned it off; fix the channel (`/setup channel`), then turn it back on with "
            f"`/setup posts {kind}:on`."
        )
        log.warning(
            "turning off the %s post of guild %s: %s (channel %s): %s",
            kind,
            settings.guild_id,
            fault.reason,
            record.channel_id,
            fault,
        )
        await self.store.disable_post(settings.guild_id, kind, note, now)
        return Outcome(Status.TURNED_OFF, kind, settings.guild_id, key, record, note)


async def _all(jobs: Iterable[Callable[[], Awaitable[Outcome]]], limit: int) -> list[Outcome]:
    """Run posts side by side, at most `limit` at once and each started only when a runner is
    free: one server's slow or failing post never holds up another's, and a long list never
    starts all at once. The outcomes come in the order of the jobs."""
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
