"""Start-up and shutdown: the entry point owns the store and the bot and closes both."""

from __future__ import annotations

import logging

import discord

from bot.app import TwopassBot
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)

# The gateway's close code for a connection that would carry too many servers.
SHARDING_REQUIRED = 4011


async def serve(settings: Settings) -> int:
    token = settings.discord_token
    assert token is not None, "checked by the caller"
    async with await Store.open(settings.database) as store:
        log.info(
            "database %s at schema version %d", settings.database, await store.schema_version()
        )
        bot = TwopassBot(settings=settings, store=store)
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
            except discord.ConnectionClosed as exc:
                if exc.code != SHARDING_REQUIRED:
                    raise
                log.error(
                    "Discord requires more shards: shard %s of %s would carry more than 2,500 "
                    "servers (close code 4011). Leave TWOPASS_SHARD_COUNT unset to use the count "
                    "Discord recommends, or raise it",
                    exc.shard_id if exc.shard_id is not None else 0,
                    bot.shard_count or 1,
                )
                return 1
    return 0
