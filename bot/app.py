"""The bot object: wires settings, the database, the roadmap and the clock into each feature's
service, and those into discord.py. The one place that knows every feature."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any

import discord
from discord.ext import commands

from bot.clock import Clock, utc_now
from bot.db import Database
from bot.group.repo import GroupRepo
from bot.group.service import Group
from bot.learners import plan
from bot.learners.repo import LearnerRepo
from bot.learners.service import Learners
from bot.pictures import aio as pictures
from bot.posts.compose import StudyComposer
from bot.posts.poster import DiscordPoster
from bot.posts.publisher import Publisher
from bot.posts.repo import PostRepo
from bot.posts.scheduler import PostScheduler
from bot.posts.throttle import TokenBucket
from bot.server.repo import ServerRepo
from bot.server.service import Servers
from bot.settings import Settings
from bot.tree import TwopassTree
from curriculum import Curriculum, default_curriculum

log = logging.getLogger(__name__)

# Each module is one feature's cog; loaded in this order at start-up.
EXTENSIONS: tuple[str, ...] = (
    "cogs.learners",
    "cogs.group",
    "cogs.server",
    "cogs.posts",
    "cogs.meta",
)


# How long shutdown waits for scheduled posts, then for commands, still in flight.
POSTS_GRACE_SECONDS = 3.0
COMMANDS_GRACE_SECONDS = 4.0


def intents() -> discord.Intents:
    # Guilds only: an interaction carries its member, so no privileged intent is needed and any
    # server can add the bot without Discord's verification.
    return discord.Intents(guilds=True)


class TwopassBot(commands.Bot):
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        curriculum: Curriculum | None = None,
        clock: Clock = utc_now,
        sync_commands: bool = True,
        **options: Any,
    ) -> None:
        # The bot never joins voice: without these, discord.py 2.7 warns at every start that
        # PyNaCl and davey (voice support) are missing. They are the flags it checks itself.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        options.setdefault(
            "allowed_mentions", discord.AllowedMentions(everyone=False, roles=False, users=True)
        )
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            tree_cls=TwopassTree,
            help_command=None,
            **options,
        )
        self.settings = settings
        self.db = db
        self.curriculum = curriculum or default_curriculum()
        self.clock = clock
        self.sync_commands = sync_commands
        # One service per feature; they reach each other only through these objects.
        self.servers = Servers(ServerRepo(db), self.curriculum.id, settings.default_timezone)
        self.learners = Learners(LearnerRepo(db), self.servers, self.curriculum)
        self.groups = Group(GroupRepo(db), self.servers, self.curriculum)
        # Scheduled posts: built here, started in setup_hook, stopped in close.
        post_repo = PostRepo(db)
        self.posts = PostScheduler(
            Publisher(
                post_repo,
                self.servers,
                StudyComposer(self.learners, self.groups),
                DiscordPoster(self, TokenBucket(settings.post_rate)),
                clock,
            ),
            self.servers,
            post_repo,
        )
        # A settings change reschedules the server's posts directly, not through an event a
        # cog might not be listening for.
        self.servers.posts = self.posts

    def now(self) -> datetime:
        return self.clock()

    async def setup_hook(self) -> None:
        await self.load_cogs()
        await self.sync_points()
        await self.posts.start()
        if self.sync_commands:
            await self.sync_if_changed()

    async def sync_points(self) -> None:
        """Passes store their points when logged; if the roadmap's lengths changed since the
        last start, re-credit the stored passes and rebuild the totals from them."""
        key = f"points:{self.curriculum.id}"
        table = sorted(plan.credit_table(self.curriculum).items())
        digest = hashlib.sha256(json.dumps(table).encode()).hexdigest()
        if await self.db.get_state(key) == digest:
            return
        changed = await self.learners.recredit()
        await self.groups.rebuild_totals()
        await self.db.set_state(key, digest)
        if changed:
            log.info("re-credited %d passes after the roadmap's lengths changed", changed)

    async def close(self) -> None:
        """Shut down in order: refuse new interactions, stop the scheduled posts (letting one in
        flight record what it sent), let commands in flight answer, then leave Discord. Each wait
        is bounded so a supervisor's stop (SIGTERM, then SIGKILL after ~10 s) never cuts a write
        short; the entry point closes the database after this."""
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

    async def on_ready(self) -> None:
        user = self.user
        log.info(
            "connected as %s (%s) to %d servers", user, user.id if user else "?", len(self.guilds)
        )
