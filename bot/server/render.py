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
    plural,
)
from bot.server.records import GuildSettings, RoadmapSwitch
from bot.timekeeping import WEEKDAYS
from curriculum import Curriculum


def settings(
    current: GuildSettings,
    problems: Sequence[str] = (),
    roadmap: Curriculum | None = None,
    *,
    saved: bool = False,
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
    if roadmap is not None:
        add_field(out, "Roadmap", f"{roadmap.title} (`{roadmap.id}`)")
    add_field(
        out,
        "Cohort",
        f"started {day_label(current.cohort_start)} at {current.default_pace:g} h a week",
    )
    if problems:
        add_field(out, "Needs attention", "\n".join(f"• {p}" for p in problems))
    return out


def roadmap_switch(switch: RoadmapSwitch) -> discord.Embed:
    after, before = switch.after, switch.before
    size = (
        f"{plural(after.video_count, 'video')}, about {after.estimate_minutes / 60:.0f} h "
        "with both passes"
    )
    if after is before:
        return embed(
            f"Roadmap: {after.title}",
            f"This server already follows **{after.title}** ({size}). Nothing changed.",
            GREY,
        )
    lines = [
        f"This server now follows **{after.title}** ({size}) instead of **{before.title}**.",
        "Each member's plan restarts today from the study they have on it; the daily video "
        "follows it from the next post.",
    ]
    if switch.stranded_members:
        lines.append(
            f"{plural(switch.stranded_members, 'member')} "
            f"{'has' if switch.stranded_members == 1 else 'have'} passes on videos this roadmap "
            "lacks. Those passes stay in their history and `/export`, count for nothing on this "
            f"roadmap's boards and progress, and count again if you switch back to "
            f"**{before.title}**."
        )
    else:
        lines.append("Every pass logged here is on this roadmap's videos: nobody loses hours.")
    return embed(f"Roadmap: {after.title}", "\n\n".join(lines), GREEN)
