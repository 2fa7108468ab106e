"""/help: the method in a few lines and every command."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TwopassBot
from bot.learners import render


class MetaCog(commands.Cog):
    def __init__(self, bot: TwopassBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="The two-pass method and every command")
    async def help_command(self, interaction: discord.Interaction[discord.Client]) -> None:
        await interaction.response.send_message(embed=render.help_embed(), ephemeral=True)


async def setup(bot: TwopassBot) -> None:
    await bot.add_cog(MetaCog(bot))
