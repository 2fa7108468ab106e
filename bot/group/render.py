"""The group's views -> Discord embeds: /leaderboard pages and /cohort."""

from __future__ import annotations

import discord

from bot.embeds import (
    BLUE,
    EMBED_TOTAL_MAX,
    GOLD,
    GREY,
    add_field,
    embed,
    mention,
    mentions,
    plural,
)
from bot.group.board import Board, CohortView, Period


def leaderboard(board: Board, caller_id: int) -> discord.Embed:
    title = "Leaderboard - this week" if board.period is Period.WEEK else "Leaderboard - all time"
    if not board.size:
        return embed(title, "No passes logged yet. Be the first: `/done`.", GREY)
    shown = board.entries
    lines = [
        f"**{entry.rank}.** {mention(entry.user_id)} - {entry.hours:.1f} h ({plural(entry.passes, 'pass')})"
        for entry in shown
    ]
    mine = board.rank_of(caller_id)
    if mine is None:
        lines.append("\nYou are not on this board yet.")
    elif mine not in shown:
        lines.append(f"\nYou: **{mine.rank}.** {mine.hours:.1f} h ({plural(mine.passes, 'pass')})")
    out = embed(title, "\n".join(lines), GOLD)
    out.set_footer(
        text=f"Page {board.page + 1}/{board.pages} · points are estimated study hours: "
        "a second pass counts 2.5x its video, a first pass 1x"
    )
    return out


def cohort(view: CohortView) -> list[discord.Embed]:
    """The map of who is where, and who moved; both embeds share one message's 6000 characters."""
    out = embed("The cohort", f"{len(view.members)} active members.", BLUE)
    if not view.members:
        out.description = "Nobody has joined yet: `/join` to start the cohort."
        return [out]
    moves = embed("This week", colour=GREY)
    add_field(moves, "Moved this week", mentions(view.moved_this_week) or "nobody yet")
    add_field(moves, "Quiet for 14 days or more", mentions(view.quiet) or "nobody")
    if view.finished:
        add_field(moves, "Finished the roadmap", mentions(view.finished))
    budget = EMBED_TOTAL_MAX - len(moves)
    for crowd in view.videos:
        if not (crowd.first_only or crowd.both or crowd.on_it):
            continue
        parts = []
        if crowd.on_it:
            parts.append(f"on it: {mentions(crowd.on_it)}")
        if crowd.first_only:
            parts.append(f"first pass: {mentions(crowd.first_only)}")
        if crowd.both:
            parts.append(f"both passes: {mentions(crowd.both)}")
        if not add_field(out, crowd.video.title, "\n".join(parts), budget=budget):
            break
    return [out, moves]
