"""Start-up and shutdown: the entry point owns the database and the bot and closes both.

SIGTERM (what a supervisor sends) and SIGINT (Ctrl+C) close the bot in order (see
`TwopassBot.close`); the database is closed last, which checkpoints its write-ahead log."""

from __future__ import annotations

import asyncio
import logging
import signal

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
        stop_on_signals(bot)
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
            # After a signal `start` returns once the gateway is closed; wait for the rest of
            # the close (HTTP session) before the database goes.
            await bot.close()
    log.info("stopped")
    return 0


def stop_on_signals(bot: TwopassBot) -> None:
    """Close the bot on SIGTERM or SIGINT; `bot.start` then returns and `serve` exits 0."""
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[None]] = set()

    def stop(signum: int) -> None:
        log.info(
            "received %s; finishing the work in flight and stopping", signal.Signals(signum).name
        )
        task = loop.create_task(bot.close())
        closing.add(task)  # keep a reference until it is done
        task.add_done_callback(closing.discard)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop, signum)
