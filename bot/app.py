"""The bot object: wires settings, the database, the roadmap and the clock into each feature's
service, and those into discord.py. The one place that knows every feature."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import datetime
from typing import Any

import discord
from discord.ext import commands, tasks

from bot.clock import Clock, utc_now
from bot.db import Database
from bot.group.repo import GroupRepo
from bot.group.service import Group
from bot.learners import plan
from bot.learners.repo import LearnerRepo
from bot.learners.service import Learners
from bot.pictures import aio as pictures
from bot.posts import throttle
from bot.posts.compose import StudyComposer
from bot.posts.poster import DiscordPoster
from bot.posts.publisher import Publisher
from bot.posts.repo import PostRepo
from bot.posts.scheduler import PostScheduler
from bot.server.repo import ServerRepo
from bot.server.service import Servers
from bot.settings import Settings
from bot.sharding import IDENTIFY_INTERVAL, IdentifyGate, owns_guild, shards_run, share_of
from bot.tree import TwopassTree
from curriculum import Curriculum, Roadmaps, default_curriculum

log = logging.getLogger(__name__)

# Each module is one feature's cog; loaded in this order at start-up.
EXTENSIONS: tuple[str, ...] = (
    "cogs.learners",
    "cogs.group",
    "cogs.server",
    "cogs.posts",
    "cogs.data",
    "cogs.meta",
)


# How long shutdown waits for scheduled posts, then for commands, still in flight.
POSTS_GRACE_SECONDS = 3.0
COMMANDS_GRACE_SECONDS = 4.0


def intents() -> discord.Intents:
    # Guilds only: an interaction carries its member, so no privileged intent is needed and any
    # server can add the bot without Discord's verification.
    return discord.Intents(guilds=True)


class TwopassBot(commands.AutoShardedBot):
    """Sharded like RoboDanny: Discord refuses more than 2,500 servers on one connection.

    With no shard count set, discord.py asks Discord for its recommendation (one shard per
    1,000 servers) and runs them all; ``shard_count`` and ``shard_ids`` in the settings fix the
    count and run only some shards here. Shards identify as fast as Discord's
    ``max_concurrency`` allows, one per bucket per ``identify_interval`` seconds.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        curriculum: Curriculum | None = None,
        roadmaps: Roadmaps | None = None,
        clock: Clock = utc_now,
        sync_commands: bool = True,
        identify_interval: float = IDENTIFY_INTERVAL,
        **options: Any,
    ) -> None:
        # The bot never joins voice: without these, discord.py 2.7 warns at every start that
        # PyNaCl and davey (voice support) are missing. They are the flags it checks itself.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        options.setdefault(
            "allowed_mentions", discord.AllowedMentions(everyone=False, roles=False, users=True)
        )
        options.setdefault("shard_count", settings.shard_count)
        if settings.shard_ids is not None:
            options.setdefault("shard_ids", list(settings.shard_ids))
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            tree_cls=TwopassTree,
            help_command=None,
            **options,
        )
        self.settings = settings
        self.db = db
        # Every roadmap a server may choose; new servers start on the default one.
        self.roadmaps = roadmaps or Roadmaps(curriculum or default_curriculum())
        self.curriculum = self.roadmaps.default
        self.clock = clock
        self.sync_commands = sync_commands
        self._identify_gate = IdentifyGate(identify_interval, self._max_concurrency)
        # One service per feature; they reach each other only through these objects.
        self.servers = Servers(ServerRepo(db), self.roadmaps, settings.default_timezone)
        self.learners = Learners(LearnerRepo(db), self.servers, self.roadmaps)
        self.groups = Group(GroupRepo(db), self.servers, self.roadmaps)
        # A roadmap switch re-credits the server's passes and rebuilds its totals.
        self.servers.passes = self.learners
        self.servers.totals = self.groups
        # Scheduled posts: built here, started in setup_hook, stopped in close. A process
        # running some of the shards posts only for their servers.
        post_repo = PostRepo(db)
        self.serves = owns_guild(self.shard_ids, self.shard_count)
        # Discord's global limit is per bot, across processes: shared through Redis when
        # there is one, else split evenly by shards.
        redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
        self.throttle = throttle.for_processes(
            settings.post_rate, share_of(self.shard_ids, self.shard_count), redis_url
        )
        self.posts = PostScheduler(
            Publisher(
                post_repo,
                self.servers,
                StudyComposer(self.learners, self.groups),
                DiscordPoster(self, self.throttle),
                clock,
                serves=self.serves,
            ),
            self.servers,
            post_repo,
            shards=shards_run(self.shard_ids, self.shard_count),
        )
        # A settings change reschedules the server's posts directly, not through an event a
        # cog might not be listening for.
        self.servers.posts = self.posts
        # Erasing a member also clears them as who ran /setup, and their mentions in stored posts.
        self.learners.others = [self.servers, post_repo]
        # Set once the first connection's server check is done: the start-up work is over,
        # and the posts missed while offline may go out (not to servers that removed the bot).
        self.reconciled = asyncio.Event()
        # Servers the bot was removed from are erased once their data has been kept long enough;
        # not before that check, which finds those that invited it back while it was down.
        self.retention = tasks.loop(hours=24)(self.erase_left_servers)
        self.retention.before_loop(self.reconciled.wait)

    def now(self) -> datetime:
        return self.clock()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py's default sleeps 5 s before every shard but the first; Discord allows
        # `max_concurrency` shards per 5 s, so wait only for this shard's bucket.
        await self._identify_gate.wait(shard_id or 0)

    async def _max_concurrency(self) -> int:
        if self.shard_count in (None, 1):
            return 1  # one shard: nothing to space out, no extra request
        limits = await self.fetch_session_start_limits()
        return limits.max_concurrency

    async def setup_hook(self) -> None:
        if isinstance(self.throttle, throttle.SharedBucket) and self.user is not None:
            self.throttle.name(self.user.id)  # logged in by now
        await self.load_cogs()
        await self.sync_points()
        await self.posts.start(after=self.reconciled)
        self.retention.start()
        if self.sync_commands:
            await self.sync_if_changed()

    async def sync_points(self) -> None:
        """Passes store their points when logged; for each roadmap whose lengths changed since
        the last start, re-credit the passes of the servers on it, then rebuild the totals."""
        stale: list[tuple[Curriculum, str]] = []
        for roadmap in self.roadmaps:
            table = sorted(plan.credit_table(roadmap).items())
            digest = hashlib.sha256(json.dumps(table).encode()).hexdigest()
            if await self.db.get_state(f"points:{roadmap.id}") != digest:
                stale.append((roadmap, digest))
        for roadmap, _ in stale:
            changed = await self.learners.recredit(roadmap)
            if changed:
                log.info(
                    "re-credited %d passes on roadmap %s: its lengths changed", changed, roadmap.id
                )
        if stale:
            await self.groups.rebuild_totals()
        for roadmap, digest in stale:
            await self.db.set_state(f"points:{roadmap.id}", digest)
        await self._report_unknown_roadmaps()

    async def _report_unknown_roadmaps(self) -> None:
        for settings in await self.servers.all():
            if self.roadmaps.get(settings.curriculum_id) is None:
                log.warning(
                    "server %d uses roadmap %r, which is not loaded (TWOPASS_ROADMAPS?): it "
                    "sees %r until the file is back or an admin picks one with /setup roadmap",
                    settings.guild_id,
                    settings.curriculum_id,
                    self.roadmaps.default.id,
                )

    async def close(self) -> None:
        """Shut down in order: refuse new interactions, stop the scheduled posts (letting one in
        flight record what it sent), let commands in flight answer, then leave Discord. Each wait
        is bounded so a supervisor's stop (SIGTERM, then SIGKILL after ~10 s) never cuts a write
        short; the entry point closes the database after this."""
        self.retention.cancel()
        tree = self.tree
        if isinstance(tree, TwopassTree):
            tree.refuse_new()
        await self.posts.close(grace=POSTS_GRACE_SECONDS)
        if isinstance(tree, TwopassTree):
            left = await tree.drain(grace=COMMANDS_GRACE_SECONDS)
            if left:
                log.warning("closing with %d commands still unanswered", left)
        # The commands have answered, so the picture threads are idle: this does not wait.
        pictures.shutdown()
        if isinstance(self.throttle, throttle.SharedBucket):
            await self.throttle.close()
        await super().close()

    async def load_cogs(self) -> None:
        for extension in EXTENSIONS:
            await self.load_extension(extension)

    def command_payload(self) -> list[dict[str, Any]]:
        """Exactly what a sync sends to Discord."""
        return [command.to_dict(self.tree) for command in self.tree.get_commands()]

    async def sync_if_changed(self) -> bool:
        """Sync only when the commands changed since the last sync to the same place."""
        guild_id = self.settings.dev_guild_id
        guild = discord.Object(guild_id) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        key = f"command-sync:{self.application_id}:{guild_id or 'global'}"
        if await self.db.get_state(key) == digest:
            log.info("slash commands unchanged since the last sync; not syncing")
            return False
        await self.tree.sync(guild=guild)
        await self.db.set_state(key, digest)
        log.info(
            "synced %d slash commands %s",
            len(payload),
            f"to guild {guild_id}" if guild_id else "globally",
        )
        return True

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.servers.left(guild.id, self.now())

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.servers.returned(guild.id)

    async def erase_left_servers(self) -> int:
        """Erase every server the bot was removed from more than the retention period ago:
        members, passes, history, note edits, totals, posts with their parts, notes, then its
        settings. Each step is idempotent,
        and the settings go last, so an interrupted run is finished by the next."""
        # Only this process's shards': another's servers are checked by their own process.
        expired = [g for g in await self.servers.expired(self.now()) if self.serves(g)]
        for guild_id in expired:
            members = await self.learners.erase_server(guild_id)
            await self.posts.erase_server(guild_id)
            await self.servers.erase(guild_id)
            log.info(
                "erased server %d (%d members): removed the bot over 30 days ago", guild_id, members
            )
        return len(expired)

    async def on_ready(self) -> None:
        # Removed from or invited back to servers while offline: Discord sends no event for it.
        # Only this process's shards: the others' servers are not missing, just elsewhere.
        try:
            await self.servers.reconcile(
                {guild.id for guild in self.guilds}, self.now(), serves=self.serves
            )
        finally:
            self.reconciled.set()  # over, even if it failed: nobody waits forever
        user = self.user
        log.info(
            "connected as %s (%s) to %d servers on %d of %s shards",
            user,
            user.id if user else "?",
            len(self.guilds),
            len(self.shards),
            self.shard_count,
        )
