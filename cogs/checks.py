"""What every cog shares: reading the server and the actor from an interaction, and the
runtime half of the admin commands' guard."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.learners.service import Actor


def require_manage_guild(interaction: discord.Interaction[discord.Client]) -> bool:
    """The runtime half of an admin command's guard. `default_permissions` only sets who sees the
    command by default; a server can grant it to anyone under Integrations, so check again here."""
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])
    return True


def guild_id(interaction: discord.Interaction[discord.Client]) -> int:
    assert interaction.guild_id is not None, "the tree refuses commands outside servers"
    return interaction.guild_id


def actor(interaction: discord.Interaction[discord.Client]) -> Actor:
    return Actor(interaction.user.id, may_correct=interaction.permissions.manage_guild)
