"""LocalDiscord: the test-facing API over the emulated gateway and REST server."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, TypeVar

import discord
import yarl
from aiohttp import web

from .gateway import (
    IDENTIFY_INTERVAL,
    MAX_GUILDS_PER_SHARD,
    RECOMMENDED_GUILDS_PER_SHARD,
    Gateway,
    shard_of,
)
from .interactions import (
    CallbackType,
    CommandStore,
    EmulatorError,
    InteractionRecord,
    InteractionType,
    OptionBuilder,
    Reply,
    interaction_payload,
    iter_components,
    new_token,
    option_kwargs,
)
from .model import (
    ALL_PERMISSIONS,
    DEFAULT_BOT,
    JSON,
    Channel,
    ChannelType,
    Guild,
    Member,
    Message,
    Permission,
    User,
    World,
)
from .ratelimit import BucketRule, Fault, RateLimiter, RequestRecord
from .rest import API_PREFIX, INTERACTION_ACK_SECONDS, UPLOAD_LIMIT, RestApi

ClientT = TypeVar("ClientT", bound=discord.Client)
_INTENT_MESSAGE_CONTENT = 1 << 15


class EmulatorProblems(AssertionError):
    """The bot did something real Discord would reject (bad body, unknown route, ...)."""


@dataclasses.dataclass
class Hang:
    """Requests that get no answer for a while (see `LocalDiscord.hang`)."""

    method: str
    template: str
    times: int
    handled: bool
    seconds: float
    skip: int = 0
    where: dict[str, str] = dataclasses.field(default_factory=dict)
    held: int = 0  # requests held so far
    released: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    async def wait(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.released.wait(), self.seconds)


class LocalDiscord:
    """A local Discord for one test (or one module): a guild world, a gateway and the REST API.

    Use ``async with LocalDiscord() as local:``; leaving the block fails if problems were
    recorded and not taken with :meth:`take_problems`.
    """

    def __init__(
        self,
        *,
        bot_name: str = "Test Bot",
        timeout: float = 5.0,
        interaction_ack_seconds: float = INTERACTION_ACK_SECONDS,
        max_guilds_per_shard: int = MAX_GUILDS_PER_SHARD,
        guilds_per_shard: int = RECOMMENDED_GUILDS_PER_SHARD,
        max_concurrency: int = 1,
        identify_interval: float = IDENTIFY_INTERVAL,
    ) -> None:
        """Discord's sharding limits are parameters so a test can use a small world:
        ``max_guilds_per_shard`` (2,500: an IDENTIFY past it is closed with 4011),
        ``guilds_per_shard`` (1,000: the ``shards`` GET /gateway/bot recommends is one per
        that many guilds), and ``max_concurrency`` shards may identify per
        ``identify_interval`` seconds (1 per 5 s)."""
        if guilds_per_shard < 1:
            raise ValueError("guilds_per_shard must be positive")
        self.guilds_per_shard = guilds_per_shard
        self.token = f"local.{secrets.token_urlsafe(24)}"
        self.timeout = timeout
        self.interaction_ack_seconds = interaction_ack_seconds
        self.problems: list[str] = []
        self.hangs: list[Hang] = []
        self.requests: list[RequestRecord] = []
        self.limiter = RateLimiter()
        self.world = World(bot_name, self._emit)
        self.app_owner_id = self.world.add_user("app owner").id
        self.commands = CommandStore(self.world)
        self.gateway = Gateway(
            self.world,
            self.token,
            self.report,
            self.notify,
            max_guilds_per_shard=max_guilds_per_shard,
            max_concurrency=max_concurrency,
            identify_interval=identify_interval,
        )
        self.interactions: dict[int, InteractionRecord] = {}
        self.interactions_by_token: dict[str, InteractionRecord] = {}
        # What was uploaded, by attachment id, so a test can read a file the bot sent.
        self.uploads: dict[str, bytes] = {}
        # Discord's per-request upload limit for a server without boosts.
        self.upload_limit = UPLOAD_LIMIT
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> LocalDiscord:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        await self.stop()
        if exc_type is None:
            self.assert_no_problems()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self.gateway.handle)
        RestApi(self).add_routes(app)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.gateway.url = self.gateway_url

    async def stop(self) -> None:
        self.release_hangs()
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @contextlib.contextmanager
    def redirect(self) -> Iterator[None]:
        """Points discord.py's REST base and gateway at this server, restoring them after."""
        saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved

    @contextlib.asynccontextmanager
    async def running(self, client: ClientT) -> AsyncIterator[ClientT]:
        """Logs ``client`` in, waits until it is ready, and closes it afterwards.

        Give the client a small ``guild_ready_timeout`` (e.g. 0.05): discord.py otherwise
        waits 2 s after the last GUILD_CREATE before it is ready.
        """
        self.gateway.new_client()
        with self.redirect():
            task = asyncio.create_task(client.start(self.token))
            try:
                await self._wait_ready(client, task, self.timeout * 2)
                yield client
            finally:
                await client.close()
                await asyncio.wait({task}, timeout=self.timeout)
                if not task.done():
                    task.cancel()
        crashed = task.exception() if task.done() and not task.cancelled() else None
        if crashed is not None:
            raise EmulatorProblems(f"client stopped with {crashed!r}") from crashed

    async def _wait_ready(
        self, client: discord.Client, task: asyncio.Task[None], within: float
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        # Polled: Client.wait_until_ready() raises until login has set the client up.
        while not client.is_ready():
            if task.done():
                raise EmulatorProblems(f"client stopped before it was ready: {task.exception()!r}")
            if loop.time() > deadline:
                raise EmulatorProblems(
                    f"client not ready after {within}s; problems: {self.problems}"
                )
            await asyncio.sleep(0.005)

    # ---- world building ------------------------------------------------------------------

    def add_guild(self, name: str, *, bot_permissions: int = DEFAULT_BOT) -> Guild:
        """A guild with @everyone, an owner, and the bot as a member holding ``bot_permissions``."""
        return self.world.add_guild(name, bot_permissions=bot_permissions)

    def add_user(self, name: str) -> User:
        return self.world.add_user(name)

    @property
    def bot_user(self) -> User:
        return self.world.bot_user

    # ---- shards ------------------------------------------------------------------------------

    @property
    def recommended_shards(self) -> int:
        """What GET /gateway/bot recommends: a shard per ``guilds_per_shard`` guilds, at least 1."""
        return max(1, math.ceil(len(self.world.guilds) / self.guilds_per_shard))

    @staticmethod
    def shard_of(guild: Guild | int, shard_count: int) -> int:
        """The shard a guild's events go to: ``(guild_id >> 22) % shard_count``."""
        return shard_of(guild.id if isinstance(guild, Guild) else guild, shard_count)

    def shard_guild_ids(self, shard_id: int) -> set[int]:
        """The guilds whose events went to the session of ``shard_id`` (READY's and later)."""
        session = self.gateway.sessions.get(shard_id)
        return set() if session is None else set(session.guild_ids)

    # ---- problems, waiting, logs ---------------------------------------------------------

    def report(self, problem: str) -> None:
        self.problems.append(problem)
        self.notify()

    def take_problems(self) -> list[str]:
        """Returns and clears the recorded problems (for tests that provoke them on purpose)."""
        taken, self.problems = self.problems, []
        return taken

    def assert_no_problems(self) -> None:
        if self.problems:
            problems = self.take_problems()
            raise EmulatorProblems(
                "the bot did things Discord would reject:\n  " + "\n  ".join(problems)
            )

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _emit(self, event: str, data: JSON) -> None:
        self.gateway.dispatch(event, data)

    async def wait_until(
        self, predicate: Callable[[], bool], within: float | None = None, *, what: str = ""
    ) -> None:
        """Waits until ``predicate()`` holds; raises EmulatorError naming ``what`` after ``within`` s."""
        loop = asyncio.get_running_loop()
        limit = self.timeout if within is None else within
        deadline = loop.time() + limit
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise EmulatorError(f"timed out after {limit}s waiting for {what or predicate!r}")
            with contextlib.suppress(asyncio.TimeoutError):
                # Short slices also catch changes made outside the emulator.
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))

    def requests_to(self, method: str, template: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.method == method and r.template == template]

    # ---- gateway control -----------------------------------------------------------------

    async def drop_connection(self, code: int = 4000, *, shard_id: int | None = None) -> None:
        """Closes the gateway sockets, or one shard's (4000 makes discord.py RESUME); events
        sent meanwhile are replayed."""
        await self.gateway.drop(code, shard_id=shard_id)

    async def wait_connected(self) -> None:
        await self.wait_until(lambda: self.gateway.connected, what="the gateway to (re)connect")

    def dispatch(self, event: str, data: JSON) -> None:
        """Sends a raw gateway event to the bot."""
        self.gateway.dispatch(event, data)

    def remove_bot(self, guild: Guild) -> None:
        """The bot is kicked from `guild` (or the server deleted): GUILD_DELETE without
        `unavailable`, as Discord sends it. The guild stays in the world for `add_bot`."""
        self.dispatch("GUILD_DELETE", {"id": str(guild.id)})

    def add_bot(self, guild: Guild) -> None:
        """The bot is invited back to `guild`: a GUILD_CREATE with the whole guild and no
        `unavailable` key, which is how a client tells a join from an outage's end."""
        payload = guild.gateway_payload()
        del payload["unavailable"]
        self.dispatch("GUILD_CREATE", payload)

    def attachment_data(self, attachment: JSON) -> bytes:
        """The bytes of a file the bot uploaded, from its attachment object in a message."""
        return self.uploads[str(attachment["id"])]

    # ---- rate limits and faults ----------------------------------------------------------

    def rate_limit(
        self, method: str, template: str, *, times: int = 1, retry_after: float = 0.05
    ) -> None:
        """The next ``times`` requests to the route get a per-route 429."""
        self.limiter.add_fault(Fault(method, template, "route", times, retry_after))

    def global_rate_limit(
        self, *, times: int = 1, retry_after: float = 0.05, method: str = "*", template: str = "*"
    ) -> None:
        """The next ``times`` matching requests get a global 429 (X-RateLimit-Global)."""
        self.limiter.add_fault(Fault(method, template, "global", times, retry_after))

    def server_error(
        self, method: str, template: str, *, times: int = 1, status: int = 500
    ) -> None:
        self.limiter.add_fault(Fault(method, template, "server", times, status=status))

    def hang(
        self,
        method: str,
        template: str,
        *,
        times: int = 1,
        skip: int = 0,
        handled: bool = True,
        where: Mapping[str, int | str] | None = None,
        seconds: float = 3600.0,
    ) -> Hang:
        """After ``skip`` more matching requests, the next ``times`` get no answer for
        ``seconds`` (or until ``release_hangs()``): a network that stops answering. With
        ``handled`` the request takes effect first (Discord created the message and only its
        answer was lost); without, it is held before anything happens. ``where`` narrows the
        match to path parameters, e.g. ``{"channel_id": study.id}``."""
        wanted = {k: str(v) for k, v in (where or {}).items()}
        hang = Hang(method, template, times, handled, seconds, skip, wanted)
        self.hangs.append(hang)
        return hang

    def take_hang(self, method: str, template: str, params: Mapping[str, str]) -> Hang | None:
        for hang in self.hangs:
            if (
                hang.times > 0
                and hang.method in (method, "*")
                and hang.template in (template, "*")
                and all(params.get(k) == v for k, v in hang.where.items())
            ):
                if hang.skip > 0:
                    hang.skip -= 1
                    return None
                hang.times -= 1
                hang.held += 1
                return hang
        return None

    def release_hangs(self) -> None:
        """Answer every held request now, and hold no more."""
        for hang in self.hangs:
            hang.times = 0
            hang.released.set()

    def enforce_rate_limits(
        self,
        *,
        enabled: bool = True,
        global_per_second: float = 50.0,
        rules: dict[tuple[str, str], BucketRule] | None = None,
    ) -> None:
        """Real limits with honest X-RateLimit headers (benchmarks); see ratelimit.DEFAULT_RULES.

        ``rules`` maps (method, path template) to a bucket; ``enabled=False`` switches it off.
        """
        self.limiter.enforce(enabled=enabled, global_per_second=global_per_second, rules=rules)

    @property
    def rate_limit_hits(self) -> int:
        """How many 429s the emulator has sent."""
        return self.limiter.sent_429

    # ---- reading what the bot did --------------------------------------------------------

    @property
    def synced_commands(self) -> list[JSON]:
        """Every command the bot registered (global, then per guild), as stored."""
        return self.commands.all()

    def channel_messages(self, channel: Channel) -> list[Message]:
        """Non-ephemeral messages in ``channel``, oldest first."""
        return channel.visible_messages()

    def dm_messages(self, user: User | Member) -> list[Message]:
        target = user.user if isinstance(user, Member) else user
        return self.world.dm_channel(target).visible_messages()

    # ---- acting as a user ----------------------------------------------------------------

    async def slash(
        self,
        who: Member | User,
        command: str,
        *,
        channel: Channel | None = None,
        dm: bool = False,
        options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Reply:
        """Runs ``/command`` (``"group sub"`` for subcommands) and waits for the bot's answer.

        Options come as keywords (a trailing underscore is dropped: ``pass_=``, ``channel_=``)
        or ``options={...}``. A deferred reply waits for its first follow-up or edit.
        """
        record, _ = await self._command_interaction(
            who,
            command,
            InteractionType.APPLICATION_COMMAND,
            channel,
            dm,
            option_kwargs(options, kwargs),
        )
        await self._settle(record, f"/{command}")
        return Reply(record, record.original)

    async def autocomplete(
        self,
        who: Member | User,
        command: str,
        *,
        focused: str,
        value: str = "",
        channel: Channel | None = None,
        dm: bool = False,
        options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[JSON]:
        """Types ``value`` into option ``focused`` and returns the choices ({name, value}) offered."""
        record, _ = await self._command_interaction(
            who,
            command,
            InteractionType.AUTOCOMPLETE,
            channel,
            dm,
            option_kwargs(options, kwargs),
            focused=(focused[:-1] if focused.endswith("_") else focused, value),
        )
        await self._settle(record, f"autocomplete for /{command} {focused}")
        return record.choices or []

    def post(self, who: Member | User, channel: Channel, content: str) -> Message:
        """A user writes in ``channel``; the bot gets MESSAGE_CREATE (if its intents ask for it)."""
        member = self._as_member(who, channel)
        message = self.world.new_message(channel, self._as_user(who), {"content": content})
        payload = message.payload()
        if member is not None:
            payload["member"] = member.payload(with_user=False)
        mentioned = self.bot_user.mention in content
        if mentioned:
            payload["mentions"] = [self.bot_user.payload()]
        elif channel.guild is not None and not self.gateway.intents & _INTENT_MESSAGE_CONTENT:
            # Without the message content intent Discord blanks guild messages not addressed to the bot.
            payload.update(content="", embeds=[], attachments=[], components=[])
        self.gateway.dispatch("MESSAGE_CREATE", payload)
        return message

    async def click(
        self,
        who: Member | User,
        target: Reply | Message,
        *,
        custom_id: str | None = None,
        label: str | None = None,
        values: list[str] | None = None,
    ) -> Reply:
        """Clicks a button (or picks select ``values``) on a message and waits for the answer."""
        message = target.message if isinstance(target, Reply) else target
        if message is None or message.deleted:
            raise EmulatorError("there is no message to click on")
        component = self._find_component(message, custom_id, label)
        data: JSON = {"custom_id": component["custom_id"], "component_type": component["type"]}
        if component["type"] != 2:
            data["values"] = list(values or [])
        member = self._as_member(who, message.channel)
        user = member.user if member else self._as_user(who)
        record = self._new_record(InteractionType.MESSAGE_COMPONENT, user, member, message.channel)
        record.source_message = message
        self._send_interaction(record, data)
        await self._settle(record, f"click on {component['custom_id']!r}")
        if record.callback_type in (
            CallbackType.UPDATE_MESSAGE,
            CallbackType.DEFERRED_UPDATE_MESSAGE,
        ):
            return Reply(record, message)
        return Reply(record, record.original)

    # ---- internals -----------------------------------------------------------------------

    @staticmethod
    def _find_component(message: Message, custom_id: str | None, label: str | None) -> JSON:
        found = [
            c
            for c in iter_components(message.components)
            if "custom_id" in c and c.get("type") != 1
        ]
        matches = [
            c
            for c in found
            if (custom_id is None or c["custom_id"] == custom_id)
            and (label is None or c.get("label") == label)
        ]
        if len(matches) != 1:
            known = [(c["custom_id"], c.get("label")) for c in found]
            raise EmulatorError(
                f"expected one component matching custom_id={custom_id!r} label={label!r}; have {known}"
            )
        if matches[0].get("disabled"):
            raise EmulatorError(f"component {matches[0]['custom_id']!r} is disabled")
        return matches[0]

    @staticmethod
    def _as_user(who: Member | User) -> User:
        return who.user if isinstance(who, Member) else who

    @staticmethod
    def _as_member(who: Member | User, channel: Channel) -> Member | None:
        if channel.guild is None:
            return None
        member = who if isinstance(who, Member) else channel.guild.members.get(who.id)
        if member is None or member.guild is not channel.guild:
            raise EmulatorError(f"{who.name} is not a member of {channel.guild.name}")
        return member

    def _pick_channel(self, who: Member | User, channel: Channel | None, dm: bool) -> Channel:
        if dm:
            return self.world.dm_channel(self._as_user(who))
        if channel is not None:
            if channel.deleted:
                raise EmulatorError(f"#{channel.name} has been deleted")
            return channel
        if not isinstance(who, Member):
            raise EmulatorError("pass channel= (or dm=True) for a user who is not a guild member")
        for candidate in who.guild.channels:
            if (
                candidate.type == ChannelType.GUILD_TEXT
                and who.permissions_in(candidate) & Permission.VIEW_CHANNEL
            ):
                return candidate
        raise EmulatorError(f"{who.name} can see no text channel in {who.guild.name}")

    async def _command_interaction(
        self,
        who: Member | User,
        command: str,
        kind: int,
        channel: Channel | None,
        dm: bool,
        values: dict[str, Any],
        *,
        focused: tuple[str, str] | None = None,
    ) -> tuple[InteractionRecord, JSON]:
        where = self._pick_channel(who, channel, dm)
        member = self._as_member(who, where)
        if self.commands.sync_count == 0:
            await self.wait_until(
                lambda: self.commands.sync_count > 0, what="the bot to sync its commands"
            )
        parts = command.split()
        definition = self.commands.find(parts[0], where.guild)
        if (
            definition is None
            and where.guild is None
            and any(c["name"] == parts[0] for c in self.commands.all())
        ):
            raise EmulatorError(f"/{parts[0]} is a guild command, not available in DMs")
        if definition is None:
            known = sorted({c["name"] for c in self.commands.all() if c["type"] == 1})
            scope = "in DMs" if where.guild is None else f"in {where.guild.name}"
            raise EmulatorError(f"no slash command /{parts[0]} {scope}; synced: {known}")
        self._check_can_use(definition, member, where)
        builder = OptionBuilder(member, where, focused=focused[0] if focused else None)
        data = builder.command_data(definition, parts[1:], values, focused[1] if focused else "")
        record = self._new_record(kind, self._as_user(who), member, where)
        self._send_interaction(record, data)
        return record, data

    @staticmethod
    def _check_can_use(definition: JSON, member: Member | None, channel: Channel) -> None:
        name = definition["name"]
        contexts = definition.get("contexts")
        if member is None:
            if (
                "guild_id" in definition
                or definition.get("dm_permission") is False
                or (contexts and 1 not in contexts)
            ):
                raise EmulatorError(f"/{name} is not available in DMs")
            return
        if contexts and 0 not in contexts:
            raise EmulatorError(f"/{name} is not available in servers")
        channel_perms = member.permissions_in(channel)
        if (
            not channel_perms & Permission.VIEW_CHANNEL
            or not channel_perms & Permission.USE_APPLICATION_COMMANDS
        ):
            raise EmulatorError(f"{member.name} cannot use commands in #{channel.name}")
        required = definition.get("default_member_permissions")
        if (
            required is not None
            and member.guild_permissions != ALL_PERMISSIONS
            and not (channel.guild is not None and channel.guild.granted(name, member))
        ):
            bits = int(required)
            if bits == 0 or member.guild_permissions & bits != bits:
                raise EmulatorError(
                    f"/{name} is hidden from {member.name} (needs permissions {bits})"
                )

    def _new_record(
        self, kind: int, user: User, member: Member | None, channel: Channel
    ) -> InteractionRecord:
        record = InteractionRecord(self.world.ids.next(), new_token(), kind, user, member, channel)
        self.interactions[record.id] = record
        self.interactions_by_token[record.token] = record
        return record

    def _send_interaction(self, record: InteractionRecord, data: JSON) -> None:
        record.payload = interaction_payload(self.world, record, data)
        self.gateway.dispatch("INTERACTION_CREATE", record.payload)

    async def _settle(self, record: InteractionRecord, what: str) -> None:
        seen = len(self.problems)
        # Stop early when the bot hits a problem meanwhile: its answer may never come.
        await self.wait_until(
            lambda: record.settled or len(self.problems) > seen, what=f"the bot to answer {what}"
        )
        if not record.settled:
            # Grace period: a bot may recover from its failed request and still answer.
            with contextlib.suppress(EmulatorError):
                await self.wait_until(lambda: record.settled, 0.3)
        if not record.settled:
            raise EmulatorError(f"{what} was not answered; problems: {self.problems[seen:]}")
