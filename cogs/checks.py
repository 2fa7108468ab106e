"""Checks shared by the admin cogs."""

from __future__ import annotations

import discord
from discord import app_commands


def require_manage_guild(interaction: discord.Interaction[discord.Client]) -> bool:
    """The runtime half of an admin command's guard. `default_permissions` only sets who sees the
    command by default; a server can grant it to anyone under Integrations, so check again here."""
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])
    return True
