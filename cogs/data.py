"""A member's own data: /export (a copy, privately) and /forget (erase it, after a confirm).
The admin versions (`/setup export`, `/setup forget`) live with /setup and share the confirm."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TwopassBot
from bot.learners import render
from bot.learners.export import Export
from bot.tree import Buttons
from cogs.checks import actor, guild_id

CONFIRM_TIMEOUT = 60.0  # seconds an erase button works; then it expires and nothing happens


async def send_export(
    interaction: discord.Interaction[discord.Client],
    data: Export,
    files: list[tuple[str, bytes]],
) -> None:
    """Answer privately with the export's files, or say why there are none."""
    if data.empty:
        await interaction.response.send_message(
            render.nothing_to_export(data.user_id), ephemeral=True
        )
        return
    await interaction.response.send_message(
        render.exported(data, files),
        files=[discord.File(io.BytesIO(body), filename=name) for name, body in files],
        ephemeral=True,
    )


class ConfirmErase(Buttons):
    """Erase / Cancel buttons on a private prompt: only the member who asked can press them,
    once, within CONFIRM_TIMEOUT; after that the prompt says it expired."""

    def __init__(self, owner_id: int, erase: Callable[[], Awaitable[str]]) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT)
        self.owner_id = owner_id
        self.erase_action = erase
        self.origin: discord.Interaction[discord.Client] | None = None

    async def interaction_check(self, interaction: discord.Interaction[discord.Client]) -> bool:
        if not await super().interaction_check(interaction):
            return False
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "This button belongs to whoever asked.", ephemeral=True
            )
            return False
        return True

    async def on_timeout(self) -> None:
        if self.origin is not None:
            # The prompt may be gone or its token expired: then nothing is left to update.
            with contextlib.suppress(discord.HTTPException):
                await self.origin.edit_original_response(
                    content=render.FORGET_EXPIRED, embed=None, view=None
                )

    @discord.ui.button(label="Erase", style=discord.ButtonStyle.danger, custom_id="forget:erase")
    async def confirm(
        self, interaction: discord.Interaction[discord.Client], _: discord.ui.Button[ConfirmErase]
    ) -> None:
        self.stop()
        message = await self.erase_action()
        await interaction.response.edit_message(content=message, embed=None, view=None)

    @discord.ui.button(
        label="Cancel", style=discord.ButtonStyle.secondary, custom_id="forget:cancel"
    )
    async def cancel(
        self, interaction: discord.Interaction[discord.Client], _: discord.ui.Button[ConfirmErase]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(
            content=render.FORGET_CANCELLED, embed=None, view=None
        )


async def ask_to_erase(
    bot: TwopassBot, interaction: discord.Interaction[discord.Client], user_id: int
) -> None:
    """Answer with the erase prompt for `user_id` (the asker, or a member an admin names)."""
    server, who, own = guild_id(interaction), actor(interaction), user_id == interaction.user.id

    async def erase() -> str:
        erased = await bot.learners.forget(server, user_id, who)
        return render.forgotten(erased, user_id, own)

    view = ConfirmErase(interaction.user.id, erase)
    view.origin = interaction
    await interaction.response.send_message(
        embed=render.forget_prompt(user_id, own), view=view, ephemeral=True
    )


class DataCog(commands.Cog):
    def __init__(self, bot: TwopassBot) -> None:
        self.bot = bot

    @app_commands.command(
        description="Your passes, notes, links and history in this server, as CSV and JSON files"
    )
    @app_commands.guild_only()
    async def export(self, interaction: discord.Interaction[discord.Client]) -> None:
        data, files = await self.bot.learners.export(
            guild_id(interaction), interaction.user.id, self.bot.now()
        )
        await send_export(interaction, data, files)

    @app_commands.command(description="Erase everything this bot stores about you in this server")
    @app_commands.guild_only()
    async def forget(self, interaction: discord.Interaction[discord.Client]) -> None:
        await ask_to_erase(self.bot, interaction, interaction.user.id)


async def setup(bot: TwopassBot) -> None:
    await bot.add_cog(DataCog(bot))
