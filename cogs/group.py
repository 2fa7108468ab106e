"""The group's views: /leaderboard (paged with buttons) and /cohort."""

from __future__ import annotations

import contextlib
from functools import partial
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TwopassBot
from bot.embeds import picture
from bot.group import render
from bot.group.board import Board, CohortView, Period
from bot.pictures import render_cohort_map, render_in_thread
from bot.tree import Buttons, handle_error
from cogs.checks import guild_id

PERIODS = {"this week": Period.WEEK, "all time": Period.ALL_TIME}
PAGER_TIMEOUT = 300.0  # seconds a board's buttons work; then they are shown disabled


def _disable(view: discord.ui.View) -> None:
    # Buttons that still look live but fail when clicked are worse than none.
    for item in view.children:
        if isinstance(item, discord.ui.Button):
            item.disabled = True


class PagerButtons(Buttons):
    """What the pagers' buttons share: an error is answered as a command's is."""

    async def on_error(
        self,
        interaction: discord.Interaction[discord.Client],
        error: Exception,
        item: discord.ui.Item[Any],
    ) -> None:
        # The same policy as commands: a sentence for the member, never "This interaction failed".
        await handle_error(interaction, error)


class OwnedPager(PagerButtons):
    """Previous/next buttons that only the member who asked can turn; shown disabled once they
    time out."""

    command = ""  # named in the answer to anyone else who clicks

    def __init__(self, owner_id: int, timeout: float = PAGER_TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        # The pager's message, edited through its channel: the interaction's token that sent
        # it expires after 15 minutes, and every click restarts the buttons' timeout.
        self.message: discord.PartialMessage | None = None

    def attach_to(self, interaction: discord.Interaction[discord.Client], message_id: int) -> None:
        if interaction.channel is not None:
            self.message = interaction.channel.get_partial_message(message_id)  # type: ignore[union-attr]

    async def on_timeout(self) -> None:
        _disable(self)
        if self.message is not None:
            # The message may be gone meanwhile: then there is nothing to disable.
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=self)

    async def interaction_check(self, interaction: discord.Interaction[discord.Client]) -> bool:
        if not await super().interaction_check(interaction):
            return False
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                f"These buttons belong to whoever asked; run `/{self.command}` yourself.",
                ephemeral=True,
            )
            return False
        return True


class BoardPager(OwnedPager):
    """The leaderboard's pages."""

    command = "leaderboard"

    def __init__(
        self, bot: TwopassBot, board: Board, owner_id: int, timeout: float = PAGER_TIMEOUT
    ) -> None:
        super().__init__(owner_id, timeout=timeout)
        self.bot = bot
        self.board = board
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.previous.disabled = self.board.page <= 0
        self.next.disabled = self.board.page >= self.board.pages - 1

    def current(self) -> discord.Embed:
        return render.leaderboard(self.board, self.owner_id)

    async def _turn(self, interaction: discord.Interaction[discord.Client], by: int) -> None:
        # Each page is read when shown, from the same week the board was opened on.
        page = min(max(self.board.page + by, 0), self.board.pages - 1)
        self.board = await self.bot.groups.leaderboard(
            guild_id(interaction),
            self.board.period,
            self.bot.now(),
            caller=self.owner_id,
            page=page,
            since=self.board.since,
        )
        self._update_buttons()
        await interaction.response.edit_message(embed=self.current(), view=self)

    @discord.ui.button(
        label="Previous", style=discord.ButtonStyle.secondary, custom_id="board:previous"
    )
    async def previous(
        self, interaction: discord.Interaction[discord.Client], _: discord.ui.Button[BoardPager]
    ) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary, custom_id="board:next")
    async def next(
        self, interaction: discord.Interaction[discord.Client], _: discord.ui.Button[BoardPager]
    ) -> None:
        await self._turn(interaction, +1)


class CohortPager(OwnedPager):
    """The cohort map's pages: each turn draws the next page of the same snapshot, so a page
    keeps its members while they are turned."""

    command = "cohort"

    def __init__(
        self, bot: TwopassBot, view: CohortView, owner_id: int, timeout: float = PAGER_TIMEOUT
    ) -> None:
        super().__init__(owner_id, timeout=timeout)
        self.bot = bot
        self.view = view
        self.page = 0
        self.pages = render.cohort_pages(view)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    async def current(self) -> tuple[list[discord.Embed], discord.File]:
        """This page's message: the cohort in words (the numbers) and the page's map under it."""
        drawn = await render_in_thread(render_cohort_map, render.cohort_map(self.view, self.page))
        embeds = render.cohort(self.view)
        return embeds, picture(drawn.png, "cohort.png", drawn.alt, embeds[0])

    async def _turn(self, interaction: discord.Interaction[discord.Client], by: int) -> None:
        # Drawing a page can queue behind other pictures: acknowledge the click first.
        await interaction.response.defer()
        self.page = min(max(self.page + by, 0), self.pages - 1)
        self._update_buttons()
        embeds, file = await self.current()
        await interaction.edit_original_response(embeds=embeds, attachments=[file], view=self)

    @discord.ui.button(
        label="Previous", style=discord.ButtonStyle.secondary, custom_id="cohort:previous"
    )
    async def previous(
        self, interaction: discord.Interaction[discord.Client], _: discord.ui.Button[CohortPager]
    ) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary, custom_id="cohort:next")
    async def next(
        self, interaction: discord.Interaction[discord.Client], _: discord.ui.Button[CohortPager]
    ) -> None:
        await self._turn(interaction, +1)


class ExpiredPager(PagerButtons):
    """The pagers' buttons on a message whose pager this process does not hold: one sent
    before the bot restarted (its pages were in the old process), or one whose timeout could
    not disable them. Registered once with their custom ids, so a click there is answered (the
    buttons shown disabled, and a sentence) instead of failing with "This interaction failed";
    a live pager's buttons are found first, by their message."""

    def __init__(self) -> None:
        super().__init__(timeout=None)
        # The live pagers' custom ids (`board:previous`, ...), each answered with its command.
        for prefix, command in (("board", BoardPager.command), ("cohort", CohortPager.command)):
            for label in ("Previous", "Next"):
                button: discord.ui.Button[ExpiredPager] = discord.ui.Button(
                    label=label, custom_id=f"{prefix}:{label.lower()}"
                )
                button.callback = partial(self._expired, command=command)  # type: ignore[method-assign]
                self.add_item(button)

    async def _expired(
        self, interaction: discord.Interaction[discord.Client], command: str
    ) -> None:
        await interaction.response.send_message(
            f"These buttons have expired; run `/{command}` again.", ephemeral=True
        )
        if interaction.message is None:
            return
        shown = discord.ui.View.from_message(interaction.message)
        _disable(shown)
        shown.stop()  # only shown: nothing listens to it
        # The message may be gone meanwhile: then there is nothing to disable.
        with contextlib.suppress(discord.HTTPException):
            await interaction.message.edit(view=shown)


class GroupCog(commands.Cog):
    def __init__(self, bot: TwopassBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_view(ExpiredPager())

    @app_commands.command(description="Members ranked by estimated study hours")
    @app_commands.guild_only()
    @app_commands.describe(period="This week (default) or all time")
    async def leaderboard(
        self,
        interaction: discord.Interaction[discord.Client],
        period: Literal["this week", "all time"] = "this week",
    ) -> None:
        board = await self.bot.groups.leaderboard(
            guild_id(interaction), PERIODS[period], self.bot.now(), caller=interaction.user.id
        )
        if board.pages == 1:
            await interaction.response.send_message(
                embed=render.leaderboard(board, interaction.user.id)
            )
            return
        pager = BoardPager(self.bot, board, interaction.user.id, timeout=PAGER_TIMEOUT)
        sent = await interaction.response.send_message(embed=pager.current(), view=pager)
        if isinstance(sent.resource, discord.InteractionMessage):
            pager.attach_to(interaction, sent.resource.id)

    @app_commands.command(
        description="Who is on which video, who moved this week, who has gone quiet"
    )
    @app_commands.guild_only()
    async def cohort(self, interaction: discord.Interaction[discord.Client]) -> None:
        # Reads every member's passes: on a big server or a busy database (5 s busy timeout)
        # that can outlast Discord's 3 seconds, so acknowledge first.
        await interaction.response.defer(thinking=True)
        view = await self.bot.groups.cohort(guild_id(interaction), self.bot.now())
        if not view.members:
            await interaction.followup.send(embeds=render.cohort(view))
            return
        pager = CohortPager(self.bot, view, interaction.user.id, timeout=PAGER_TIMEOUT)
        embeds, file = await pager.current()
        if pager.pages == 1:
            await interaction.followup.send(embeds=embeds, file=file)
            return
        sent = await interaction.followup.send(embeds=embeds, file=file, view=pager, wait=True)
        pager.attach_to(interaction, sent.id)


async def setup(bot: TwopassBot) -> None:
    await bot.add_cog(GroupCog(bot))
