"""Start-up and shutdown: the entry point owns the database and the bot and closes both."""

from __future__ import annotations

import logging

import discord

from bot.app import TwopassBot
from bot.db import Database
from bot.settings import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> int:
    token = settings.discord_token
    assert token is not None, "checked by the caller"
    async with await Database.open(settings.database) as db:
        log.info("database %s at schema version %d", settings.database, await db.schema_version())
        bot = TwopassBot(settings=settings, db=db)
        async with bot:
            try:
                await bot.start(token.get_secret_value())
            except discord.LoginFailure:
                log.error(
                    "Discord refused the token: check DISCORD_TOKEN in .env (reset it in the developer portal if needed)"
                )
                return 1
            except discord.PrivilegedIntentsRequired:
                log.error("Discord asked for a privileged intent; this bot should need none")
                return 1
    return 0
