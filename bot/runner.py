"""Start-up and shutdown: the entry point owns the database and the bot and closes both.

Start-up checks the roadmap, then the database, then connects to Discord; each failure is a
`StartupError` (one line, an exit code). If Discord cannot be reached at start, the process
exits with 1 rather than retrying: a supervisor (systemd, Docker, ...) restarts it with its own
backoff and its logs show the one line. Once connected, discord.py reconnects by itself.

SIGTERM (what a supervisor sends) and SIGINT (Ctrl+C) close the bot in order (see
`TwopassBot.close`); the database is closed last, which checkpoints its write-ahead log."""

from __future__ import annotations

import asyncio
import logging
import signal

import aiohttp
import discord

from bot.app import TwopassBot
from bot.settings import Settings
from bot.startup_checks import (
    EXIT_CONFIG,
    EXIT_RUNTIME,
    StartupError,
    check_roadmaps,
    check_stored_timezones,
    open_database,
)

log = logging.getLogger(__name__)

# The gateway's close code for a connection that would carry too many servers.
SHARDING_REQUIRED = 4011
# What a failed first contact with Discord raises: DNS, refused or reset connections, timeouts,
# and Discord's own 5xx answers.
UNREACHABLE = (
    aiohttp.ClientError,
    OSError,
    TimeoutError,
    discord.GatewayNotFound,
    discord.DiscordServerError,
)


async def serve(settings: Settings) -> int:
    token = settings.discord_token
    assert token is not None, "checked by the caller"
    roadmaps = check_roadmaps(settings)
    async with await open_database(settings.database) as db:
        await check_stored_timezones(db)
        log.info("database %s at schema version %d", db.name, await db.schema_version())
        bot = TwopassBot(settings=settings, db=db, roadmaps=roadmaps)
        stop_on_signals(bot)
        async with bot:
            try:
                await bot.start(token.get_secret_value())
            except discord.LoginFailure:
                raise StartupError(
                    "Discord refused the token: check DISCORD_TOKEN (reset it in the developer "
                    "portal if needed)",
                    EXIT_RUNTIME,
                ) from None
            except discord.PrivilegedIntentsRequired:
                raise StartupError(
                    "Discord asked for a privileged intent; this bot should need none",
                    EXIT_RUNTIME,
                ) from None
            except discord.ConnectionClosed as exc:
                if exc.code != SHARDING_REQUIRED:
                    raise
                raise sharding_required(settings, bot, exc) from None
            except UNREACHABLE as exc:
                raise StartupError(
                    f"cannot reach Discord ({_reason(exc)}); exiting with {EXIT_RUNTIME} "
                    "so a supervisor can restart it",
                    EXIT_RUNTIME,
                ) from None
            # After a signal `start` returns once the gateway is closed; wait for the rest of
            # the close (HTTP session) before the database goes.
            await bot.close()
    log.info("stopped")
    return 0


def sharding_required(
    settings: Settings, bot: TwopassBot, exc: discord.ConnectionClosed
) -> StartupError:
    """Discord closed a shard with 4011: it would carry more than 2,500 servers. A count set in
    the settings is too low (fix it: exit 2); Discord's own recommendation fell behind a
    growing bot (restarting asks again: exit 1)."""
    shard = exc.shard_id if exc.shard_id is not None else 0
    count = bot.shard_count or 1
    if settings.shard_count is not None:
        return StartupError(
            f"Discord requires more shards: shard {shard} of {count} would carry more than "
            "2,500 servers (close code 4011). Raise TWOPASS_SHARD_COUNT (--shard-count), or "
            "leave it unset to use the count Discord recommends",
            EXIT_CONFIG,
        )
    return StartupError(
        f"Discord requires more shards: shard {shard} of the {count} it recommended would carry "
        "more than 2,500 servers (close code 4011); restarting asks Discord again",
        EXIT_RUNTIME,
    )


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


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
