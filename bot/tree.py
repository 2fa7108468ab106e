"""The command tree: one error policy for every slash command."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.errors import NotInServer, UserError

log = logging.getLogger(__name__)

# Commands that make sense outside a server.
ANYWHERE = frozenset({"help"})


class TwopassTree(app_commands.CommandTree[discord.Client]):
    async def interaction_check(self, interaction: discord.Interaction[discord.Client]) -> bool:
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
