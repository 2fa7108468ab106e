"""/checkin now (Manage Server only): the weekly check-in on demand."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TwopassBot
from bot.posts.publisher import Status
from bot.posts.schedule import PostKind
from cogs.checks import guild_id, require_manage_guild


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class CheckinCog(commands.GroupCog, group_name="checkin", group_description="The weekly check-in"):
    def __init__(self, bot: TwopassBot) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction[discord.Client]) -> bool:
        return require_manage_guild(interaction)

    @app_commands.command(name="now", description="Post this week's check-in now")
    async def now(self, interaction: discord.Interaction[discord.Client]) -> None:
        # A check-in is several messages and maybe a thread: more than Discord's 3 seconds.
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.bot.posts.publisher.post_now(guild_id(interaction), PostKind.CHECKIN)
        where = outcome.link or "the study channel"
        if outcome.status is Status.ALREADY_POSTED:
            text = f"This week's check-in is already posted: {where}"
        else:
            text = f"Posted this week's check-in: {where}"
        await interaction.followup.send(text, ephemeral=True)


async def setup(bot: TwopassBot) -> None:
    await bot.add_cog(CheckinCog(bot))
