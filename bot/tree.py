"""The command tree: one error policy for every slash command."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

log = logging.getLogger(__name__)


class TwopassTree(app_commands.CommandTree[discord.Client]):
    async def on_error(
        self, interaction: discord.Interaction[discord.Client], error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command.qualified_name if interaction.command else "?"
        log.exception("command /%s failed", command, exc_info=error)
        await reply_error(
            interaction, "Something went wrong on our side; nothing was changed. Please try again."
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
