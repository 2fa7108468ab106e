"""The group's views -> Discord embeds: /leaderboard pages and /cohort."""

from __future__ import annotations

from datetime import timedelta

import discord

from bot import wording
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
from bot.group.board import QUIET_DAYS, Board, BoardEntry, CohortView, Period
from bot.pictures import CohortMap, MemberRow, PassState, VideoColumn

_SIX_DAYS = timedelta(days=6)
MAP_PAGE_SIZE = 25  # members on one page of the cohort map: ~920 px tall, legible on a phone


def _line(entry: BoardEntry, caller_id: int) -> str:
    line = (
        f"{entry.rank}. {mention(entry.user_id)} - {wording.hours(entry.hours)} "
        f"({plural(entry.passes, 'pass')})"
    )
    # The caller finds themselves at a glance.
    return f"**{line}** ← you" if entry.user_id == caller_id else line


def leaderboard(board: Board, caller_id: int) -> discord.Embed:
    if board.period is Period.WEEK and board.since is not None:
        title = (
            f"Leaderboard: this week ({wording.date_range(board.since, board.since + _SIX_DAYS)})"
        )
    else:
        title = "Leaderboard: all time"
    if not board.size:
        return embed(title, "No passes logged yet. Be the first: `/done`.", GREY)
    shown = board.entries
    lines = [_line(entry, caller_id) for entry in shown]
    mine = board.rank_of(caller_id)
    if mine is None:
        lines.append("\nYou are not on this board yet: log a pass with `/done`.")
    elif mine not in shown:
        lines.append("\n" + _line(mine, caller_id))
    out = embed(title, "\n".join(lines), GOLD)
    footer = "Hours are the roadmap's estimate of each pass's study time"
    if board.pages > 1:
        footer = f"Page {board.page + 1} of {board.pages} · {footer}"
    out.set_footer(text=footer)
    return out


def cohort(view: CohortView) -> list[discord.Embed]:
    """The map of who is where, and who moved; both embeds share one message's 6000 characters.
    Each member is named once, at the pass they are on; what is done behind them is counted."""
    out = embed("The cohort", f"{wording.plural(len(view.members), 'active member')}.", BLUE)
    if not view.members:
        out.description = "Nobody has joined yet: `/join` to start the cohort."
        return [out]
    moves = embed(view.moved_window.capitalize(), colour=GREY)
    add_field(moves, f"Moved {view.moved_window}", mentions(view.moved_this_week) or "nobody yet")
    # A count, never names: who has gone quiet is theirs to tell (the check-in nudges only
    # those who asked for it).
    add_field(
        moves,
        f"Quiet for {QUIET_DAYS} days or more",
        wording.plural(len(view.quiet), "member") if view.quiet else "nobody",
    )
    if view.finished:
        add_field(moves, "Finished the roadmap", mentions(view.finished))
    budget = EMBED_TOTAL_MAX - len(moves)
    for crowd in view.videos:
        if not (crowd.first_only or crowd.both or crowd.on_it):
            continue
        watching = [u for u in crowd.on_it if u not in crowd.first_only]
        second = [u for u in crowd.on_it if u in crowd.first_only]
        parts = []
        if watching:
            parts.append(f"on the first pass: {mentions(watching)}")
        if second:
            parts.append(f"on the second pass: {mentions(second)}")
        done = []
        if crowd.both:
            done.append(f"{len(crowd.both)} did both passes")
        ahead = len(crowd.first_only) - len(second)
        if ahead > 0:
            done.append(f"{ahead} did the first pass")
        if done:
            parts.append(", ".join(done))
        if not add_field(out, crowd.video.title, "\n".join(parts), budget=budget):
            break
    return [out, moves]


def _map_order(view: CohortView) -> list[int]:
    """The map's rows: furthest along first (most passes), then in join order, so the picture
    reads as a staircase down the roadmap and a page keeps its members between turns."""
    held = {user: 0 for user in view.members}
    for crowd in view.videos:
        for user in (*crowd.first_only, *crowd.both, *crowd.both):
            if user in held:
                held[user] += 1
    return sorted(view.members, key=lambda user: -held[user])


def cohort_pages(view: CohortView) -> int:
    return max(1, -(-len(view.members) // MAP_PAGE_SIZE))


def cohort_map(view: CohortView, page: int) -> CohortMap:
    """Page `page` (0-based, clamped) of the cohort map: members by videos, each cell the pass
    they hold, the video of the day framed, who moved this week marked."""
    pages = cohort_pages(view)
    page = min(max(page, 0), pages - 1)
    columns = tuple(
        VideoColumn(str(number), crowd.phase) for number, crowd in enumerate(view.videos, start=1)
    )
    moved = set(view.moved_this_week)
    both = [set(crowd.both) for crowd in view.videos]
    first = [set(crowd.first_only) for crowd in view.videos]
    shown = _map_order(view)[page * MAP_PAGE_SIZE : (page + 1) * MAP_PAGE_SIZE]
    rows = []
    for user in shown:
        states = tuple(
            PassState.SECOND
            if user in both[column]
            else PassState.FIRST
            if user in first[column]
            else PassState.NONE
            for column in range(len(view.videos))
        )
        rows.append(MemberRow(member_name(view, user), states, moved_this_week=user in moved))
    today = next(
        (i for i, crowd in enumerate(view.videos) if crowd.video.id == view.video_of_the_day),
        None,
    )
    return CohortMap(
        title="The cohort",
        columns=columns,
        rows=tuple(rows),
        video_of_the_day=today,
        page=page + 1,
        pages=pages,
    )


def member_name(view: CohortView, user_id: int) -> str:
    """The name a picture draws: as the member gave it at /join, else the end of their id (a
    member who joined before names were kept, until they /join again)."""
    return view.names.get(user_id) or f"member …{str(user_id)[-4:]}"
