"""Domain results -> Discord embeds, always within Discord's limits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import discord

from bot.domain.inputs import WEEKDAYS
from bot.domain.plan import Standing, Step
from bot.domain.progress import Progress, bar
from bot.store import GuildSettings
from bot.study import Board, CohortView, DoneResult, JoinResult, MemberProgress, Period, TodayResult
from curriculum import Curriculum, Pass

# Discord's embed limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
EMBED_TOTAL_MAX = 6000


GREEN = discord.Colour(0x2ECC71)
BLUE = discord.Colour(0x3498DB)
GOLD = discord.Colour(0xF1C40F)
GREY = discord.Colour(0x95A5A6)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def embed(title: str, description: str = "", colour: discord.Colour = BLUE) -> discord.Embed:
    return discord.Embed(
        title=clip(title, TITLE_MAX), description=clip(description, DESCRIPTION_MAX), colour=colour
    )


def add_field(
    target: discord.Embed,
    name: str,
    value: str,
    inline: bool = False,
    budget: int = EMBED_TOTAL_MAX,
) -> bool:
    """Add a field if the embed still has room within `budget` characters; False once full."""
    name, value = clip(name, FIELD_NAME_MAX), clip(value or "-", FIELD_VALUE_MAX)
    if len(target.fields) >= FIELDS_MAX or len(target) + len(name) + len(value) > budget:
        return False
    target.add_field(name=name, value=value, inline=inline)
    return True


def mention(user_id: int) -> str:
    return f"<@{user_id}>"


def mentions(user_ids: Iterable[int], budget: int = 320) -> str:
    """Whole mentions that fit in `budget` characters, then "+N more": a mention cut in half
    shows as raw text."""
    ids = list(user_ids)
    shown: list[str] = []
    used = 0
    for index, user_id in enumerate(ids):
        piece = mention(user_id)
        rest = len(ids) - index - 1
        reserve = len(f" +{rest} more") if rest else 0
        if used + len(piece) + 1 + reserve > budget:
            return " ".join(shown) + f" +{len(ids) - index} more"
        shown.append(piece)
        used += len(piece) + 1
    return " ".join(shown)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "es" if word.endswith("s") else "s")


def hours(minutes: float) -> str:
    return f"{minutes / 60:.1f} h"


def step_line(curriculum: Curriculum, step: Step) -> str:
    number = curriculum.number_of(step.video.id)
    return (
        f"**{number}. [{step.video.title}]({step.video.url})** - {step.which.label} pass\n"
        f"{step.video.minutes} min of video, about {hours(step.minutes)} of study"
    )


def focus(step: Step) -> str:
    return step.video.first_pass if step.which is Pass.FIRST else step.video.second_pass


def _date(day: date | None) -> str:
    return day.strftime("%a %d %b %Y") if day else "-"


# --- learners ---------------------------------------------------------------------------------


def joined(result: JoinResult) -> discord.Embed:
    member = result.member
    if result.first_time:
        title, intro = "Welcome to the roadmap", "You are in."
    elif result.resumed:
        title, intro = "Welcome back", "Your history is where you left it."
    else:
        title, intro = "Plan updated", "You had already joined; your plan is updated."
    changed = ""
    if result.before and result.before.pace_hours != member.pace_hours:
        changed = f" (was {result.before.pace_hours:g} h)"
    text = (
        f"{intro}\nPace: **{member.pace_hours:g} hours a week**{changed}, timezone `{member.timezone}`.\n"
        f"At this pace you finish on **{_date(result.finish)}**.\n"
        "Every video gets two passes: watch it once, then again with a notebook open, typing the code.\n"
        "Use `/today` to see your next step."
    )
    return embed(title, text, GREEN)


def today(curriculum: Curriculum, result: TodayResult, user_id: int) -> discord.Embed:
    out = embed(
        f"Today - {_date(result.study_today)}",
        f"{mention(user_id)} is {result.standing.label}.",
        BLUE,
    )
    if result.next is None:
        out.description = (
            f"{mention(user_id)} has finished every pass of the roadmap. Time to build something."
        )
    else:
        add_field(out, "Your next step", step_line(curriculum, result.next))
        add_field(out, f"Focus of the {result.next.which.label} pass", focus(result.next))
        add_field(
            out,
            "Log it with",
            f"`/done video:{result.next.video.id} pass:{result.next.which.label}`",
        )
    if result.cohort is not None:
        add_field(out, "The cohort's video of the day", step_line(curriculum, result.cohort))
    return out


def done(curriculum: Curriculum, result: DoneResult, user_id: int) -> discord.Embed:
    colour = GOLD if result.milestone else GREEN
    number = curriculum.number_of(result.video.id)
    lines = [
        f"{mention(user_id)} logged the **{result.which.label} pass** of **{number}. {result.video.title}**"
        + (
            f" on {_date(result.logged.study_date)}"
            if result.logged.study_date != result.today
            else ""
        )
        + ".",
        f"{result.progress.passes_done}/{result.progress.passes_total} passes, "
        f"{hours(result.progress.minutes_done)} of {hours(result.progress.minutes_total)}; {result.standing.label}.",
    ]
    if result.milestone:
        lines.insert(0, f"🎉 {result.milestone}")
    if result.logged.note:
        lines.append(f"> {result.logged.note}")
    if result.logged.link:
        lines.append(result.logged.link)
    if result.next:
        lines.append(f"Next: {result.next.video.title} ({result.next.which.label} pass).")
    return embed("Pass logged", "\n".join(lines), colour)


def progress(curriculum: Curriculum, result: MemberProgress, user_id: int) -> discord.Embed:
    p: Progress = result.progress
    standing: Standing = result.standing
    out = embed(
        "Progress",
        f"{mention(user_id)}: {p.passes_done}/{p.passes_total} passes, {hours(p.minutes_done)} of "
        f"about {hours(p.minutes_total)}.\n{standing.label.capitalize()}; finish {_date(standing.finish)} "
        f"at {result.member.pace_hours:g} h a week.\nStreak: **{p.streak_days}** day{'s' if p.streak_days != 1 else ''}.",
        BLUE,
    )
    for phase in p.phases:
        fraction = phase.minutes_done / phase.minutes_total if phase.minutes_total else 0
        add_field(
            out,
            phase.phase.title,
            f"`{bar(fraction)}` {phase.passes_done}/{phase.passes_total} passes, "
            f"{hours(phase.minutes_done)} of {hours(phase.minutes_total)}",
        )
    if p.recent:
        notes = []
        for logged in p.recent:
            video = curriculum.video(logged.video_id)
            title = video.title if video else logged.video_id
            detail = " - ".join(part for part in (logged.note, logged.link) if part)
            notes.append(f"**{title}** ({Pass(logged.pass_no).label}): {detail}")
        add_field(out, "Latest notes and links", "\n".join(notes))
    return out


def roadmap(curriculum: Curriculum, done: set[tuple[str, int]]) -> list[discord.Embed]:
    """One embed per phase (a message may carry up to 10, 6000 characters in all)."""
    out = []
    for phase in curriculum.phases:
        lines = []
        for video in phase.videos:
            ticks = ("✅" if (video.id, 1) in done else "⬜") + (
                "✅" if (video.id, 2) in done else "⬜"
            )
            bonus = " *(bonus)*" if video.optional else ""
            lines.append(
                f"{ticks} {curriculum.number_of(video.id)}. [{video.title}]({video.url}) - {video.minutes} min{bonus}"
            )
        low, high = phase.guide_hours
        out.append(
            embed(
                phase.title,
                f"{phase.goal}\nEstimate: {hours(phase.estimate_minutes)} with both passes "
                f"(the guide says {low:g}-{high:g} h).\n\n" + "\n".join(lines),
                BLUE,
            )
        )
    return out


# --- the group ------------------------------------------------------------------------------


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


# --- admins ---------------------------------------------------------------------------------


def settings(current: GuildSettings, problems: Sequence[str] = ()) -> discord.Embed:
    channel = (
        f"<#{current.study_channel_id}>"
        if current.study_channel_id
        else "not set (use `/setup channel`)"
    )
    out = embed("Server settings", colour=GREY)
    add_field(out, "Study channel", channel)
    add_field(out, "Timezone", f"`{current.timezone}`", inline=True)
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
        out, "Cohort", f"started {_date(current.cohort_start)} at {current.default_pace:g} h a week"
    )
    if problems:
        add_field(out, "Needs attention", "\n".join(f"• {p}" for p in problems))
    return out


HELP = (
    "**The method: two passes per video.**\n"
    "1. *First pass*: just watch, start to finish. No notes, no pausing. Get the shape of it.\n"
    "2. *Second pass*: watch again with a notebook and an editor open. Pause often, write the ideas in "
    "your own words, type every line of code, then break it and try things. It takes 2-3x the video.\n\n"
    "**Commands**\n"
    "`/join` - join this server's roadmap (pace, timezone, reminders)\n"
    "`/leave` - stop reminders and leave the boards; your history is kept\n"
    "`/today` - your next step, how you stand against your plan, the cohort's video of the day\n"
    "`/done` - log a pass (first or second), with an optional note, link or date\n"
    "`/undo` - remove a pass logged by mistake\n"
    "`/progress` - your progress (or a member's) per phase, streak, notes\n"
    "`/leaderboard` - members by study hours, this week or all time\n"
    "`/cohort` - who is on which video, who moved this week\n"
    "`/roadmap` - every video with links, lengths and your ticks\n"
    "`/setup` - (admins) the study channel and when the bot posts\n"
    "`/checkin now` - (admins) post this week's check-in now"
)


def help_embed() -> discord.Embed:
    return embed("twopass", HELP, BLUE)
