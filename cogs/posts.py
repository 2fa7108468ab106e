"""/checkin now (Manage Server only): a check-in on demand; and the channel deletions the
scheduled posts must hear about at once."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TwopassBot
from bot.posts.publisher import Status, describe
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
        record = outcome.record
        what = describe(record) if record is not None else "the check-in"
        if outcome.status is Status.ALREADY_POSTED:
            text = (
                f"Nothing new since the last check-in: {what} is already posted ({where}). "
                "The next one covers from today."
            )
        else:
            follows = (
                "The next scheduled check-in covers the days after it."
                if outcome.scheduled
                else "The weekly check-in is off (`/setup posts`): the next `/checkin now` "
                "covers the days after it."
            )
            text = f"Posted {what}: {where}. {follows}"
        await interaction.followup.send(text, ephemeral=True)

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.bot.servers.channel_deleted(channel.guild.id, channel.id, self.bot.now())


async def setup(bot: TwopassBot) -> None:
    await bot.add_cog(CheckinCog(bot))
