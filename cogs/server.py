"""/setup: where and when the bot posts, the roadmap and cohort, members' data (Manage Server)."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import zones
from bot.app import TwopassBot
from bot.embeds import clip
from bot.errors import BadInput
from bot.server import render
from bot.server.records import GuildSettings
from bot.server.rules import SetupChange
from cogs.checks import guild_id, require_manage_guild
from cogs.data import ask_to_erase, send_export
from curriculum import Curriculum

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
OnOff = Literal["on", "off"]

# What the bot needs in the study channel, with the words an admin sees in Discord's settings.
NEEDED = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
    # The check-in's first message uploads its chart; without this Discord refuses the message.
    "attach_files": "Attach Files",
    # Scheduled posts look back through the channel to make sure a retry never posts twice.
    "read_message_history": "Read Message History",
}
# Without these the weekly check-in still goes out, in the channel instead of its own thread.
FOR_THREADS = {
    "create_public_threads": "Create Public Threads",
    "send_messages_in_threads": "Send Messages in Threads",
}


def missing_permissions(
    channel: discord.abc.GuildChannel, me: discord.Member, wanted: dict[str, str] = NEEDED
) -> list[str]:
    """What to grant, as an admin would name it. Without Send Messages (or View Channel)
    Discord withholds Embed Links and the rest too; those are named only when the settings
    deny them as well, so granting what is named is enough."""
    granted = channel.permissions_for(me)
    configured = _configured(channel, me)
    return [
        label
        for flag, label in wanted.items()
        if not getattr(granted, flag) and (flag in _ROOTS or not getattr(configured, flag))
    ]


# Missing, these take others with them (Discord's implicit denies).
_ROOTS = frozenset({"view_channel", "send_messages"})


def _configured(channel: discord.abc.GuildChannel, me: discord.Member) -> discord.Permissions:
    """The bot's permissions in `channel` from its roles and the channel's overwrites alone,
    before Discord's implicit denies (Send Messages missing removes Embed Links, ...)."""
    if me.guild_permissions.administrator:
        return discord.Permissions.all()
    perms = discord.Permissions(me.guild_permissions.value)
    allow, deny = channel.overwrites_for(me.guild.default_role).pair()
    perms.handle_overwrite(allow.value, deny.value)
    roles_allow = roles_deny = 0
    for role in me.roles:
        if role.is_default():
            continue
        allow, deny = channel.overwrites_for(role).pair()
        roles_allow |= allow.value
        roles_deny |= deny.value
    perms.handle_overwrite(roles_allow, roles_deny)
    allow, deny = channel.overwrites_for(me).pair()
    perms.handle_overwrite(allow.value, deny.value)
    return perms


def channel_problems(channel: discord.abc.GuildChannel, me: discord.Member) -> list[str]:
    """What an admin should fix in the study channel, worst first."""
    problems = []
    missing = missing_permissions(channel, me)
    if missing:
        problems.append(f"I am missing {', '.join(missing)} in {channel.mention}.")
    no_threads = missing_permissions(channel, me, FOR_THREADS)
    if no_threads:
        problems.append(
            f"Check-ins will be posted in {channel.mention} itself, not in a thread: "
            f"I am missing {', '.join(no_threads)} there."
        )
    return problems


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class ServerCog(
    commands.GroupCog,
    group_name="setup",
    group_description="The server's posts, roadmap, cohort and members' data",
):
    def __init__(self, bot: TwopassBot) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction[discord.Client]) -> bool:
        return require_manage_guild(interaction)

    @app_commands.command(
        name="channel", description="Choose the study channel and the posting times"
    )
    @app_commands.describe(
        channel="Where the daily video and the weekly check-in are posted",
        timezone="The server's timezone for posting times, e.g. Europe/Berlin",
        checkin_day="Day of the weekly check-in",
        checkin_time="Time of the weekly check-in, HH:MM (24-hour)",
        daily_time="Time of the daily video post, HH:MM (24-hour)",
        admin_channel="Where I tell admins when a post fails (default: a DM to you)",
    )
    async def channel(
        self,
        interaction: discord.Interaction[discord.Client],
        channel: discord.TextChannel,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        checkin_day: Weekday | None = None,
        checkin_time: app_commands.Range[str, 3, 5] | None = None,
        daily_time: app_commands.Range[str, 3, 5] | None = None,
        admin_channel: discord.TextChannel | None = None,
    ) -> None:
        # Saving reschedules the server's posts: acknowledge first (Discord allows 3 s).
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild = interaction.guild
        assert guild is not None, "the tree refuses commands outside servers"
        # discord.py resolved `channel` from this server's cache (or refused the option).
        target = channel
        missing = missing_permissions(target, guild.me)
        if missing:
            raise BadInput(
                f"I cannot post in {target.mention}: I am missing {', '.join(missing)}. "
                "Grant them to my role there and run this again; nothing was saved."
            )
        change = SetupChange(
            channel_id=target.id,
            timezone=timezone,
            checkin_day=checkin_day,
            checkin_time=checkin_time,
            daily_time=daily_time,
            admin_channel_id=admin_channel.id if admin_channel else None,
            by=interaction.user.id,
        )
        saved = await self.bot.servers.setup(guild_id(interaction), change, self.bot.now())
        await interaction.followup.send(
            embed=render.settings(
                saved, channel_problems(target, guild.me), self._roadmap(saved), saved=True
            ),
            ephemeral=True,
        )

    @channel.autocomplete("timezone")
    async def _timezones(
        self, interaction: discord.Interaction[discord.Client], current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=label, value=zone)
            for label, zone in zones.timezone_choices(current)
        ]

    @app_commands.command(name="show", description="Show this server's settings")
    async def show(self, interaction: discord.Interaction[discord.Client]) -> None:
        current, notes = await self.bot.servers.report(guild_id(interaction), self.bot.now())
        problems: list[str] = []
        guild = interaction.guild
        if guild is not None and current.study_channel_id:
            channel = guild.get_channel(current.study_channel_id)
            if channel is None:
                problems.append(
                    "The study channel no longer exists: choose another with `/setup channel`."
                )
            else:
                problems.extend(channel_problems(channel, guild.me))
        problems.extend(notes)
        await interaction.response.send_message(
            embed=render.settings(current, problems, self._roadmap(current)), ephemeral=True
        )

    @app_commands.command(
        name="posts", description="Turn the daily video and the weekly check-in on or off"
    )
    @app_commands.describe(daily="The daily video post", checkin="The weekly check-in")
    async def posts(
        self,
        interaction: discord.Interaction[discord.Client],
        daily: OnOff | None = None,
        checkin: OnOff | None = None,
    ) -> None:
        if daily is None and checkin is None:
            raise BadInput("Say which post to change: `daily`, `checkin` or both.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        change = SetupChange(
            daily_enabled=None if daily is None else daily == "on",
            checkin_enabled=None if checkin is None else checkin == "on",
        )
        saved = await self.bot.servers.setup(guild_id(interaction), change, self.bot.now())
        await interaction.followup.send(
            embed=render.settings(saved, roadmap=self._roadmap(saved), saved=True), ephemeral=True
        )

    @app_commands.command(name="roadmap", description="Choose the roadmap this server follows")
    @app_commands.describe(roadmap="The roadmap: start typing its name")
    async def roadmap(
        self,
        interaction: discord.Interaction[discord.Client],
        roadmap: app_commands.Range[str, 1, 40],
    ) -> None:
        # Re-crediting the server's passes and rescheduling its posts: acknowledge first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        switch = await self.bot.servers.set_roadmap(guild_id(interaction), roadmap, self.bot.now())
        await interaction.followup.send(embed=render.roadmap_switch(switch), ephemeral=True)

    @roadmap.autocomplete("roadmap")
    async def _roadmaps(
        self, interaction: discord.Interaction[discord.Client], current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=clip(f"{r.title} ({r.id})", 100), value=r.id)
            for r in self.bot.servers.roadmaps.matching(current)
        ]

    @app_commands.command(name="cohort", description="Set the cohort's start date and pace")
    @app_commands.describe(
        start="The cohort's first day, YYYY-MM-DD: the daily video counts from it",
        pace="The cohort's pace in hours a week: how fast the daily video moves on",
    )
    async def cohort(
        self,
        interaction: discord.Interaction[discord.Client],
        start: app_commands.Range[str, 1, 20] | None = None,
        pace: app_commands.Range[float, 1, 60] | None = None,
    ) -> None:
        if start is None and pace is None:
            raise BadInput(
                "Say what to change: `start` (YYYY-MM-DD), `pace` (hours a week) or both."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        change = SetupChange(cohort_start=start, cohort_pace=pace)
        saved = await self.bot.servers.setup(guild_id(interaction), change, self.bot.now())
        await interaction.followup.send(
            embed=render.settings(saved, roadmap=self._roadmap(saved), saved=True), ephemeral=True
        )

    @app_commands.command(
        name="export", description="Every member's data in this server, as CSV and JSON files"
    )
    async def export(self, interaction: discord.Interaction[discord.Client]) -> None:
        data, files = await self.bot.learners.export(guild_id(interaction), None, self.bot.now())
        await send_export(interaction, data, files)

    @app_commands.command(
        name="forget", description="Erase everything this bot stores about a member here"
    )
    @app_commands.describe(
        member="The member whose data to erase",
        user_id="Or their user id, for someone who has left the server",
    )
    async def forget(
        self,
        interaction: discord.Interaction[discord.Client],
        member: discord.User | None = None,
        user_id: app_commands.Range[str, 1, 20] | None = None,
    ) -> None:
        if (member is None) == (user_id is None):
            raise BadInput("Name one member: `member`, or `user_id` for someone who has left.")
        if member is not None:
            target = member.id
        elif user_id is not None and user_id.strip().isascii() and user_id.strip().isdigit():
            target = int(user_id.strip())
        else:
            raise BadInput(
                f"`{user_id}` is not a user id: it is a number like `123456789012345678`."
            )
        await ask_to_erase(self.bot, interaction, target)

    def _roadmap(self, settings: GuildSettings) -> Curriculum:
        return self.bot.servers.roadmaps.of(settings.curriculum_id)


async def setup(bot: TwopassBot) -> None:
    await bot.add_cog(ServerCog(bot))
