"""Try the bot without Discord: the real bot and a real database, logged in to the local Discord,
driven by commands typed as a member (`twopass sandbox`; `make demo`).

Lines come from stdin, so a session can be scripted (`twopass sandbox < script.txt`):

    /join hours_per_week:3            a slash command, options as name:value
    /done gpt second note:"built it"  positional values fill the options in order; quote spaces
    :as bob                           act as another member (a new name joins the server)
    :advance 1d                       move the clock; posts due meanwhile go out
    :posts                            the study channel's messages and the next scheduled posts

The bot's clock only moves with `:advance`. The scheduler's own timers run on real time, so they
are paused here; `:advance` instead runs, at each due time it passes, the catch-up the bot runs
at start-up, which posts whatever is due exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shlex
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import TwopassBot
from bot.db import Database
from bot.posts import schedule
from bot.posts.messages import visible
from bot.posts.schedule import PostKind
from bot.settings import Settings

from .interactions import EmulatorError, OptionType, Reply, iter_components
from .local_discord import LocalDiscord
from .model import DISCORD_EPOCH_MS, JSON, Channel, Guild, Member, Message, Snowflakes

HELP = """\
Type a slash command as a member of the server "Study Hall", e.g.
  /join hours_per_week:3              /done gpt second note:"built it"
  /today                              /leaderboard period:"all time"
  /setup show                         /checkin now   (as an admin)
Options are name:value (quote values with spaces); values without a name fill the
command's options in order. /help lists every command.
  :as NAME       act as NAME (alice, bob, or admin, who may use /setup; a new name joins)
  :advance 1d    move the clock (w, d, h, m; e.g. 2h30m); posts due meanwhile go out
  :posts         the study channel's messages and the next scheduled posts
  :time          what time it is for the bot
  :help          this text
  :quit          leave (end of input does too)"""

DURATION = re.compile(r"(\d+)\s*([wdhm])")
UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
MENTION = re.compile(r"<(@!?|@&|#)(\d+)>")
TIMESTAMP = re.compile(r"<t:(\d+)(?::[tTdDfFR])?>")
TRUE = {"true", "yes", "on", "1"}
FALSE = {"false", "no", "off", "0"}


FIRST_ID_MS = 1767225600000  # 2026-01-01: the creation time Discord would read from the ids


class SandboxError(Exception):
    """A line the sandbox cannot turn into an action; shown, and the session goes on."""


class RepeatableIds(Snowflakes):
    """Ids that come out the same in every session, so a database kept with --db finds its
    server, channel and members (alice, bob, admin) again next time."""

    def __init__(self) -> None:
        self._last = (FIRST_ID_MS - DISCORD_EPOCH_MS) << 22

    def next(self) -> int:
        self._last += 1
        return self._last


class MovableClock:
    """The bot's clock: stands still until the person moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def parse_duration(text: str) -> timedelta:
    text = text.strip().lower()
    parts = DURATION.findall(text)
    if not parts or DURATION.sub("", text).strip():
        raise SandboxError(f"cannot read {text!r} as a duration; try 1d, 2h, 30m or 1w")
    return sum(
        (timedelta(**{UNITS[unit]: int(amount)}) for amount, unit in parts), start=timedelta()
    )


def parse_start(text: str | None) -> datetime:
    """The clock at start: an ISO date and time (UTC unless it says otherwise), or now."""
    if not text:
        return datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SandboxError(f"cannot read {text!r} as a time; try 2026-03-02T08:00") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def split_line(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as error:  # an unclosed quote
        raise SandboxError(f"cannot read that line: {error}") from None


@dataclass
class Sandbox:
    local: LocalDiscord
    bot: TwopassBot
    clock: MovableClock
    guild: Guild
    study: Channel
    me: Member
    out: Callable[[str], None] = print
    seen: set[int] = field(default_factory=set)

    # --- the loop --------------------------------------------------------------------------

    async def run_line(self, line: str) -> bool:
        """Does what one line says; False when the person wants to leave."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        try:
            if line.startswith("/"):
                await self.slash(line)
            elif line.startswith(":"):
                return await self.meta(line)
            else:
                raise SandboxError("start a command with / (a slash command) or : (:help)")
        except SandboxError as error:
            self.out(f"  ! {error}")
        except EmulatorError as error:
            # What Discord's own client would refuse to send (a bad option, a missing one).
            self.out(f"  ! Discord would not send that: {error}")
        self.report_problems()
        return True

    async def meta(self, line: str) -> bool:
        word, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        if word in ("quit", "q", "exit"):
            return False
        if word == "help":
            self.out(HELP)
        elif word == "as":
            self.act_as(rest)
        elif word == "advance":
            await self.advance(parse_duration(rest))
        elif word == "posts":
            await self.show_posts()
        elif word == "time":
            self.out(f"  It is {when(self.clock.now)}.")
        else:
            raise SandboxError(f"no such sandbox command :{word}; :help lists them")
        return True

    def act_as(self, name: str) -> None:
        name = name.lstrip("@").strip()
        if not name:
            names = ", ".join(m.name for m in self.members())
            self.out(f"  You are {self.me.name}. Members: {names}.")
            return
        member = next((m for m in self.members() if m.name == name), None)
        if member is None:
            member = self.guild.add_member(name)
            self.out(f"  {name} joined the server.")
        self.me = member
        self.out(f"  You are now {name}.")

    def members(self) -> list[Member]:
        return [
            m
            for m in self.guild.members.values()
            if m.user is not self.local.bot_user and m.id != self.guild.owner_id
        ]

    # --- slash commands --------------------------------------------------------------------

    async def slash(self, line: str, who: Member | None = None) -> Reply:
        command, options = self.parse_slash(line)
        reply = await self.local.slash(who or self.me, command, channel=self.study, options=options)
        await self.bot.posts.wait_idle()
        self.show_reply(reply)
        self.show_new_posts()
        return reply

    def parse_slash(self, line: str) -> tuple[str, dict[str, Any]]:
        """`/done gpt second note:"built it"` -> ("done", {"video": "gpt", ...}), following the
        options the bot synced, so values get their types and positional ones their names."""
        words = split_line(line[1:])
        if not words:
            raise SandboxError("type a command after the /, e.g. /today")
        definition = self.local.commands.find(words[0], self.guild)
        if definition is None:
            known = sorted(c["name"] for c in self.local.synced_commands if c["type"] == 1)
            raise SandboxError(f"no command /{words[0]}; the bot has /{', /'.join(known)}")
        path = [words[0]]
        defs: list[JSON] = definition.get("options") or []
        rest = words[1:]
        while subs := [
            d for d in defs if d["type"] in (OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP)
        ]:
            names = [d["name"] for d in subs]
            if not rest or rest[0] not in names:
                raise SandboxError(f"/{' '.join(path)} needs one of: {', '.join(names)}")
            chosen = next(d for d in subs if d["name"] == rest[0])
            path.append(rest.pop(0))
            defs = chosen.get("options") or []
        by_name = {d["name"]: d for d in defs}
        given: dict[str, str] = {}
        positional: list[str] = []
        for word in rest:
            name, colon, value = word.partition(":")
            if colon and name in by_name:
                given[name] = value
            else:
                positional.append(word)
        for word in positional:
            free = [d["name"] for d in defs if d["name"] not in given]
            if not free:
                raise SandboxError(
                    f"/{' '.join(path)} takes no more values; {word!r} is one too many"
                )
            given[free[0]] = word
        return " ".join(path), {
            name: self.convert(by_name[name], value) for name, value in given.items()
        }

    def convert(self, definition: JSON, value: str) -> Any:
        kind, name = definition["type"], definition["name"]
        if kind in (OptionType.INTEGER, OptionType.NUMBER):
            try:
                number = float(value)
            except ValueError:
                raise SandboxError(f"{name} takes a number, not {value!r}") from None
            if kind == OptionType.INTEGER:
                if not number.is_integer():
                    raise SandboxError(f"{name} takes a whole number, not {value!r}")
                return int(number)
            return number
        if kind == OptionType.BOOLEAN:
            if value.lower() in TRUE | FALSE:
                return value.lower() in TRUE
            raise SandboxError(f"{name} takes true or false, not {value!r}")
        if kind == OptionType.USER:
            member = next((m for m in self.members() if m.name == value.lstrip("@")), None)
            if member is None:
                raise SandboxError(f"no member named {value!r} (:as {value} adds one)")
            return member
        if kind == OptionType.CHANNEL:
            channel = next((c for c in self.guild.channels if c.name == value.lstrip("#")), None)
            if channel is None:
                names = ", ".join(f"#{c.name}" for c in self.guild.channels)
                raise SandboxError(f"no channel {value!r}; the server has {names}")
            return channel
        for choice in definition.get("choices") or []:
            if value.lower() == str(choice["name"]).lower():
                return choice["value"]
        return value

    # --- time and posts --------------------------------------------------------------------

    async def advance(self, delta: timedelta) -> None:
        if delta <= timedelta():
            raise SandboxError("the clock only moves forward")
        start, end = self.clock.now, self.clock.now + delta
        publisher = self.bot.posts.publisher
        # Stop at every due time in between and run that post's job, as the scheduler would.
        for due, guild_id, kind in await self.due_between(start, end):
            self.clock.now = due
            await publisher.fire(guild_id, kind)
            self.show_new_posts()
        self.clock.now = end
        # The retry sweep's turn, for a post that failed on the way.
        await publisher.retry_due()
        self.show_new_posts()
        self.out(f"  It is now {when(end)}.")

    async def due_between(
        self, start: datetime, end: datetime
    ) -> list[tuple[datetime, int, PostKind]]:
        """Every scheduled post due after `start` and by `end`, in order."""
        found: list[tuple[datetime, int, PostKind]] = []
        for settings in await self.bot.servers.all():
            for kind in PostKind:
                if not schedule.configured(settings, kind):
                    continue
                moment = end
                while (due := schedule.last_due(settings, kind, moment)) > start:
                    found.append((due, settings.guild_id, kind))
                    moment = due - timedelta(microseconds=1)
        return sorted(found)

    async def show_posts(self) -> None:
        settings = await self.bot.servers.stored(self.guild.id)
        self.out(f"  It is {when(self.clock.now)}.")
        if settings is None or settings.study_channel_id is None:
            self.out("  No study channel yet: an admin runs /setup channel channel:#study.")
        else:
            channel = self.readable(f"<#{settings.study_channel_id}>")
            self.out(f"  Scheduled posts in {channel}:")
            ahead = {PostKind.DAILY: timedelta(days=1), PostKind.CHECKIN: timedelta(days=7)}
            for kind, label in (
                (PostKind.DAILY, "video of the day"),
                (PostKind.CHECKIN, "weekly check-in"),
            ):
                if schedule.configured(settings, kind):
                    due = schedule.last_due(settings, kind, self.clock.now + ahead[kind])
                    self.out(f"    {label}: next {when(due)}")
                else:
                    self.out(f"    {label}: off")
        messages = list(self.channel_messages())
        self.out(f"  Messages in #{self.study.name} ({len(messages)}, oldest first):")
        for message in messages:
            where = "  in the thread: " if message.channel.is_thread else ""
            self.out(f"    {where}{self.summary(message)}")

    def channel_messages(self) -> Iterator[Message]:
        """The study channel and its threads, oldest first."""
        for message in self.local.channel_messages(self.study):
            yield message
            if message.thread is not None:
                yield from self.local.channel_messages(message.thread)

    def show_new_posts(self) -> None:
        for message in self.channel_messages():
            if message.id in self.seen:
                continue
            self.seen.add(message.id)
            where = f"#{message.channel.name}"
            if message.channel.is_thread:
                where = f"thread {message.channel.name!r}"
            self.out(f"  [{when(self.clock.now)}] the bot posted in {where}:")
            self.show_message(message, indent="    ")

    # --- showing what the bot said ---------------------------------------------------------

    def show_reply(self, reply: Reply) -> None:
        messages = [m for m in (reply.message, *reply.followups) if m is not None]
        if not messages:
            self.out("  (no answer)")
        for message in messages:
            self.seen.add(message.id)
            who = "only you see this" if message.ephemeral else f"in #{message.channel.name}"
            self.out(f"  bot ({who}):")
            self.show_message(message, indent="    ")

    def show_message(self, message: Message, indent: str) -> None:
        for line in self.message_lines(message):
            self.out(f"{indent}{line}" if line else "")

    def message_lines(self, message: Message) -> list[str]:
        lines: list[str] = []
        if message.content:
            lines += self.readable(message.content).splitlines()
        for embed in message.embeds:
            if lines:
                lines.append("")
            if embed.get("title"):
                lines.append(f"== {self.readable(embed['title'])} ==")
            if embed.get("url"):
                lines.append(f"   {embed['url']}")
            if embed.get("description"):
                lines += self.readable(embed["description"]).splitlines()
            for item in embed.get("fields") or []:
                value = self.readable(item["value"]).splitlines() or [""]
                lines.append(f"* {self.readable(item['name'])}: {value[0]}")
                lines += [f"  {more}" for more in value[1:]]
            footer = self.readable((embed.get("footer") or {}).get("text") or "")
            if footer.strip():
                lines.append(f"-- {self.readable(footer)}")
        for component in iter_components(message.components):
            if component.get("type") == 2:
                label = component.get("label") or component.get("custom_id")
                target = f" -> {component['url']}" if component.get("url") else ""
                lines.append(f"[button: {label}{target}]")
            elif component.get("type") == 3:
                lines.append(f"[menu: {component.get('placeholder') or component['custom_id']}]")
        for attachment in message.attachments:
            lines.append(f"[file: {attachment.get('filename')}]")
        return lines or ["(empty message)"]

    def summary(self, message: Message, width: int = 100) -> str:
        """One line: the title and the start of what follows it."""
        lines = [line for line in self.message_lines(message) if line]
        line = lines[0] if len(lines) == 1 else f"{lines[0]} {lines[1]}"
        return line if len(line) <= width else line[: width - 3] + "..."

    def readable(self, text: str) -> str:
        """Mentions and timestamps as Discord's client shows them."""

        def name(match: re.Match[str]) -> str:
            sigil, ident = match.group(1), int(match.group(2))
            if sigil == "#":
                channel = self.local.world.channel(ident)
                return f"#{channel.name}" if channel else match.group(0)
            if sigil == "@&":
                role = self.guild.roles.get(ident)
                return f"@{role.name}" if role else "@role"
            member = self.guild.members.get(ident)
            return f"@{member.name}" if member else match.group(0)

        # The posts' marks are zero-width characters: invisible in Discord, noise in a terminal.
        text = visible(MENTION.sub(name, text))
        return TIMESTAMP.sub(lambda m: when(datetime.fromtimestamp(int(m.group(1)), UTC)), text)

    def report_problems(self) -> None:
        for problem in self.local.take_problems():
            self.out(f"  ! Discord would have refused a request from the bot: {problem}")


def when(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return f"{moment:%a} {moment.day} {moment:%b %Y %H:%M} UTC"


async def run(database: Path | None, start: datetime, *, interactive: bool | None = None) -> int:
    """The sandbox session: reads lines from stdin until :quit or the end of input."""
    interactive = sys.stdin.isatty() if interactive is None else interactive
    with contextlib.ExitStack() as stack:
        if database is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="twopass-sandbox-"))
            database = Path(folder) / "sandbox.sqlite3"
        print(f"twopass sandbox: a local Discord server, database {database}")
        print(f"It is {when(start)}. Type :help for help, :quit to leave.")
        async with LocalDiscord(bot_name="twopass") as local, await Database.open(database) as db:
            local.world.ids = RepeatableIds()
            guild = local.add_guild("Study Hall")
            study = guild.add_text_channel("study")
            alice = guild.add_member("alice")
            guild.add_member("bob")
            admin = guild.add_member("admin", admin=True)
            clock = MovableClock(start)
            bot = TwopassBot(
                settings=Settings(_env_file=None, database=database),  # type: ignore[call-arg]
                db=db,
                clock=clock,
                guild_ready_timeout=0.05,
            )
            async with local.running(bot):
                # Its timers follow the real clock; `:advance` runs what falls due instead.
                bot.posts.scheduler.pause()
                await bot.posts.wait_idle()
                sandbox = Sandbox(local, bot, clock, guild, study, alice)
                settings = await bot.servers.stored(guild.id)
                if settings is None or settings.study_channel_id is None:
                    print("\nadmin> /setup channel channel:#study")
                    await sandbox.slash("/setup channel channel:#study", who=admin)
                sandbox.show_new_posts()
                print(f"\nYou are {alice.name}; the members are alice, bob and admin.")
                await session(sandbox, interactive)
    return 0


async def session(sandbox: Sandbox, interactive: bool) -> None:
    loop = asyncio.get_running_loop()

    def read() -> str | None:
        prompt = f"{sandbox.me.name}> "
        if interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        line = sys.stdin.readline()
        if not line:
            return None
        # Echoed, so the output of a script reads as a transcript.
        print(f"\n{prompt}{line.rstrip()}")
        return line

    # A daemon thread, not the loop's executor: a line being typed when Ctrl+C comes must not
    # keep the process waiting for Enter.
    def read_into(future: asyncio.Future[str | None]) -> None:
        try:
            line = read()
        except BaseException as error:  # handed to the loop, which raises it
            loop.call_soon_threadsafe(future.set_exception, error)
        else:
            loop.call_soon_threadsafe(future.set_result, line)

    while True:
        future: asyncio.Future[str | None] = loop.create_future()
        threading.Thread(target=read_into, args=(future,), daemon=True).start()
        line = await future
        if line is None or not await sandbox.run_line(line):
            break
        sys.stdout.flush()


def main(database: Path | None, start: str | None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # discord.py's notes (no voice support, and the like) mean nothing here.
    logging.getLogger("discord").setLevel(logging.ERROR)
    try:
        moment = parse_start(start)
    except SandboxError as error:
        print(f"twopass: {error}", file=sys.stderr)
        return 2
    return asyncio.run(run(database, moment))
