"""A server's settings -> the /setup embed."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot import zones
from bot.embeds import (
    GREEN,
    GREY,
    add_field,
    day_label,
    embed,
)
from bot.server.records import GuildSettings
from bot.timekeeping import WEEKDAYS


def settings(
    current: GuildSettings, problems: Sequence[str] = (), *, saved: bool = False
) -> discord.Embed:
    channel = (
        f"<#{current.study_channel_id}>"
        if current.study_channel_id
        else "not set (use `/setup channel`)"
    )
    out = (
        embed("Saved", "The server's settings are now:", GREEN)
        if saved
        else embed("Server settings", colour=GREY)
    )
    add_field(out, "Study channel", channel)
    admins = (
        f"<#{current.admin_channel_id}>"
        if current.admin_channel_id
        else f"a DM to <@{current.setup_by}>"
        if current.setup_by
        else "nowhere yet (set `admin_channel` in `/setup channel`)"
    )
    add_field(out, "Trouble with posts is reported to", admins)
    add_field(out, "Timezone", zones.zone_label(current.timezone), inline=True)
    add_field(
        out,
        "Daily video",
        f"{'on' if current.daily_enabled else 'off'}, at {current.daily_time:%H:%M}",
        inline=True,
    )
    add_field(
        out,
        "Weekly check-in",
        f"{'on' if current.checkin_enabled else 'off'}, {WEEKDAYS[current.checkin_weekday].capitalize()} "
        f"at {current.checkin_time:%H:%M}",
        inline=True,
    )
    add_field(
        out,
        "Cohort",
        f"started {day_label(current.cohort_start)} at {current.default_pace:g} h a week",
    )
    if problems:
        add_field(out, "Needs attention", "\n".join(f"• {p}" for p in problems))
    return out
