"""The command tree: one error policy for every slash command."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands

from bot.errors import NotInServer, UserError

log = logging.getLogger(__name__)

# Commands that make sense outside a server.
ANYWHERE = frozenset({"help"})

SHUTTING_DOWN = "The bot is restarting. Please try again in a minute."


class TwopassTree(app_commands.CommandTree[discord.Client]):
    def __init__(self, client: discord.Client, **options: Any) -> None:
        super().__init__(client, **options)
        # The tasks answering interactions right now, so shutdown can let them finish.
        self._in_flight: set[asyncio.Task[object]] = set()
        self._closing = False

    def refuse_new(self) -> None:
        """From now on, interactions get a short 'restarting' answer instead of running."""
        self._closing = True

    async def drain(self, grace: float) -> int:
        """Refuse new interactions, then wait up to `grace` seconds for those in flight to be
        answered. Returns how many were still running (the caller closes the connection anyway)."""
        self.refuse_new()
        current = asyncio.current_task()
        running = {task for task in self._in_flight if task is not current}
        if not running:
            return 0
        _, pending = await asyncio.wait(running, timeout=grace)
        return len(pending)

    async def interaction_check(self, interaction: discord.Interaction[discord.Client]) -> bool:
        if self._closing:
            # Answered rather than ignored: Discord would show "the application did not respond".
            if interaction.type is discord.InteractionType.application_command:
                await reply_error(interaction, SHUTTING_DOWN)
            return False
        # discord.py runs each interaction (check, command, error handler) in a task of its own.
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        command = interaction.command
        if interaction.guild_id is None and (
            command is None or command.qualified_name not in ANYWHERE
        ):
            if interaction.type is discord.InteractionType.application_command:
                await reply_error(interaction, NotInServer().message)
            return False
        return True

    async def on_error(
        self, interaction: discord.Interaction[discord.Client], error: app_commands.AppCommandError
    ) -> None:
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        if isinstance(cause, UserError):
            await reply_error(interaction, cause.message)
        elif isinstance(cause, app_commands.MissingPermissions):
            await reply_error(
                interaction, "Only members with the Manage Server permission can do this."
            )
        elif isinstance(cause, app_commands.CheckFailure):
            await reply_error(interaction, "You cannot use this command here.")
        else:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("command /%s failed", command, exc_info=cause)
            await reply_error(
                interaction, "Something went wrong on our side. Please try again in a moment."
            )


async def reply_error(interaction: discord.Interaction[discord.Client], message: str) -> None:
    """Answer privately whether or not the interaction was already answered."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error reply for interaction %s", interaction.id)
