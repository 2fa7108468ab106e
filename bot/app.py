"""The bot object: wires settings, store, curriculum and clock into discord.py."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from bot.clock import Clock, utc_now
from bot.settings import Settings
from bot.store import Store
from bot.tree import TwopassTree
from curriculum import Curriculum, default_curriculum

log = logging.getLogger(__name__)

# Each module is one feature's cog; loaded in this order at start-up.
EXTENSIONS: tuple[str, ...] = ()


def intents() -> discord.Intents:
    # Guilds only: an interaction carries its member, so no privileged intent is needed and any
    # server can add the bot without Discord's verification.
    return discord.Intents(guilds=True)


class TwopassBot(commands.Bot):
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        curriculum: Curriculum | None = None,
        clock: Clock = utc_now,
        **options: Any,
    ) -> None:
        options.setdefault("allowed_mentions", discord.AllowedMentions(everyone=False, roles=False))
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            tree_cls=TwopassTree,
            help_command=None,
            **options,
        )
        self.settings = settings
        self.store = store
        self.curriculum = curriculum or default_curriculum()
        self.clock = clock

    def now(self) -> Any:
        return self.clock()

    async def setup_hook(self) -> None:
        for extension in EXTENSIONS:
            await self.load_extension(extension)

    async def on_ready(self) -> None:
        user = self.user
        log.info(
            "connected as %s (%s) to %d servers", user, user.id if user else "?", len(self.guilds)
        )
