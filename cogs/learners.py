"""What a learner does: /join, /leave, /today, /done, /undo, /progress, /roadmap."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import zones
from bot.app import TwopassBot
from bot.embeds import messages_of, picture
from bot.learners import inputs, render
from bot.learners.videos import choices
from bot.pictures import render_in_thread, render_progress_card
from bot.tree import Answer
from cogs.checks import actor, guild_id
from curriculum import Pass

PassChoice = Literal["first", "second"]
PASSES = {"first": Pass.FIRST, "second": Pass.SECOND}


class LearnersCog(commands.Cog):
    def __init__(self, bot: TwopassBot) -> None:
        self.bot = bot

    async def video_autocomplete(
        self, interaction: discord.Interaction[discord.Client], current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=c.name, value=c.value)
            for c in choices(
                await self.bot.learners.roadmap(guild_id(interaction), self.bot.now()), current
            )
        ]

    async def timezone_autocomplete(
        self, interaction: discord.Interaction[discord.Client], current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=label, value=zone)
            for label, zone in zones.timezone_choices(current)
        ]

    @app_commands.command(description="Join this server's roadmap, or change your pace")
    @app_commands.guild_only()
    @app_commands.describe(
        hours_per_week="How many hours a week you can study (default 5)",
        timezone="Your timezone, e.g. Europe/Berlin (default: the server's)",
        reminders="Mention me in the weekly check-in when I have been quiet for a week",
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    async def join(
        self,
        interaction: discord.Interaction[discord.Client],
        hours_per_week: app_commands.Range[float, 1, 60] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        reminders: bool | None = None,
    ) -> None:
        async with Answer(interaction, private=True) as answer:
            result = await self.bot.learners.join(
                guild_id(interaction),
                interaction.user.id,
                self.bot.now(),
                pace_hours=hours_per_week,
                timezone=timezone,
                reminders=reminders,
                name=interaction.user.display_name,
            )
            await answer(embed=render.joined(result))

    @app_commands.command(
        description="Leave the roadmap: no reminders, off the boards; your history is kept"
    )
    @app_commands.guild_only()
    async def leave(self, interaction: discord.Interaction[discord.Client]) -> None:
        async with Answer(interaction, private=True) as answer:
            await self.bot.learners.leave(guild_id(interaction), interaction.user.id)
            await answer(
                "You have left the roadmap. Your passes are kept: `/join` again to pick up where "
                "you were."
            )

    @app_commands.command(
        description="Your next step, how you stand against your plan, and the cohort's video"
    )
    @app_commands.guild_only()
    async def today(self, interaction: discord.Interaction[discord.Client]) -> None:
        result = await self.bot.learners.today(
            guild_id(interaction), interaction.user.id, self.bot.now()
        )
        # Always private: it says where the member stands against their own plan.
        await interaction.response.send_message(
            embed=render.today(result.roadmap, result, interaction.user.id), ephemeral=True
        )

    @app_commands.command(description="Log a pass of a video")
    @app_commands.guild_only()
    @app_commands.describe(
        video="The video: its id, number or words of its title",
        pass_="first (just watch) or second (notes, code, experiments)",
        note="What you learned, built or broke (optional)",
        link="A link to your notebook or repo (optional)",
        date="The day you studied it, YYYY-MM-DD or 'yesterday' (up to 7 days back)",
        private="Only you see the answer",
        member="(Manage Server) log it for this member, to correct their record",
        minutes="How long the pass really took you, in minutes (optional)",
    )
    @app_commands.rename(pass_="pass")
    @app_commands.autocomplete(video=video_autocomplete)
    async def done(
        self,
        interaction: discord.Interaction[discord.Client],
        video: app_commands.Range[str, 1, 100],
        pass_: PassChoice,
        note: app_commands.Range[str, 1, inputs.NOTE_MAX] | None = None,
        link: app_commands.Range[str, 1, inputs.LINK_MAX] | None = None,
        date: app_commands.Range[str, 1, 20] | None = None,
        private: bool = False,
        member: discord.Member | None = None,
        minutes: app_commands.Range[int, 1, 1440] | None = None,
    ) -> None:
        target = member or interaction.user
        # Public unless asked otherwise; an admin's correction is only ever private.
        async with Answer(interaction, private=private or member is not None) as answer:
            result = await self.bot.learners.log(
                guild_id(interaction),
                target.id,
                video,
                PASSES[pass_],
                self.bot.now(),
                on=date,
                note=note,
                link=link,
                actor=actor(interaction),
                spent_minutes=minutes,
            )
            if result.corrected_by is not None:
                # An admin's correction is not the member's accomplishment: only they see it.
                await answer(render.corrected(result.roadmap, result, target.id), private=True)
            elif result.edited:
                await answer(embed=render.edited(result.roadmap, result), private=True)
            else:
                await answer(embed=render.done(result.roadmap, result, target.id))

    @app_commands.command(description="Remove a pass you logged by mistake")
    @app_commands.guild_only()
    @app_commands.describe(
        video="The video",
        pass_="Which pass to remove",
        member="(Manage Server) remove it from this member's record",
    )
    @app_commands.rename(pass_="pass")
    @app_commands.autocomplete(video=video_autocomplete)
    async def undo(
        self,
        interaction: discord.Interaction[discord.Client],
        video: app_commands.Range[str, 1, 100],
        pass_: PassChoice,
        member: discord.Member | None = None,
    ) -> None:
        target = member or interaction.user
        which = PASSES[pass_]
        async with Answer(interaction, private=True) as answer:
            title = await self.bot.learners.undo(
                guild_id(interaction), target.id, video, which, self.bot.now(), actor(interaction)
            )
            whose = "your" if target.id == interaction.user.id else f"{target.mention}'s"
            by = (
                ""
                if target.id == interaction.user.id
                else ", naming you as who made the correction"
            )
            await answer(
                f"Removed {whose} {which.label} pass of **{title}**. "
                f"The change is kept in the history{by}."
            )

    @app_commands.command(description="Progress per phase, streak and notes (yours or a member's)")
    @app_commands.guild_only()
    @app_commands.describe(
        member="Whose progress (default: yours)",
        share="Show it to the channel (without where you stand against your plan)",
    )
    async def progress(
        self,
        interaction: discord.Interaction[discord.Client],
        member: discord.Member | None = None,
        share: bool = False,
    ) -> None:
        target = member or interaction.user
        result = await self.bot.learners.progress_of(
            guild_id(interaction), target.id, self.bot.now(), asked_by=interaction.user.id
        )
        # Standing against one's own plan is personal: only in the member's own private view.
        personal = target.id == interaction.user.id and not share
        # The card takes tens of milliseconds in a worker thread (more when renders queue):
        # acknowledge first, as private as the answer will be.
        await interaction.response.defer(ephemeral=not share, thinking=True)
        card = await render_in_thread(
            render_progress_card,
            render.progress_card(result.roadmap, result, target.display_name, personal=personal),
        )
        out = render.progress(result.roadmap, result, target.id, personal=personal)
        file = picture(card.png, "progress.png", card.alt, out)
        await interaction.followup.send(embed=out, file=file, ephemeral=not share)

    @app_commands.command(description="The whole roadmap with links, lengths and your ticks")
    @app_commands.guild_only()
    async def roadmap(self, interaction: discord.Interaction[discord.Client]) -> None:
        done = await self.bot.learners.done_passes(guild_id(interaction), interaction.user.id)
        roadmap = await self.bot.learners.roadmap(guild_id(interaction), self.bot.now())
        measured = await self.bot.learners.measured_ratios(guild_id(interaction), roadmap)
        # A long roadmap (an operator's) can need more than one message.
        first, *more = messages_of(render.roadmap(roadmap, done, measured))
        await interaction.response.send_message(embeds=first, ephemeral=True)
        for embeds in more:
            await interaction.followup.send(embeds=embeds, ephemeral=True)


async def setup(bot: TwopassBot) -> None:
    await bot.add_cog(LearnersCog(bot))
