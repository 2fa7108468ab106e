"""A learner's results -> Discord embeds: /join, /today, /done, /progress, /roadmap, /help."""

from __future__ import annotations

import discord

from bot.embeds import BLUE, GOLD, GREEN, add_field, day_label, embed, hours, mention, plural
from bot.learners.export import Erased, Export
from bot.learners.plan import Standing, Step
from bot.learners.progress import Progress, bar
from bot.learners.service import DoneResult, JoinResult, MemberProgress, TodayResult
from curriculum import Curriculum, Pass


def step_line(curriculum: Curriculum, step: Step) -> str:
    number = curriculum.number_of(step.video.id)
    return (
        f"**{number}. [{step.video.title}]({step.video.url})** - {step.which.label} pass\n"
        f"{step.video.minutes} min of video, about {hours(step.minutes)} of study"
    )


def focus(step: Step) -> str:
    return step.video.first_pass if step.which is Pass.FIRST else step.video.second_pass


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
        f"At this pace you finish on **{day_label(result.finish)}**.\n"
        "Every video gets two passes: watch it once, then again with a notebook open, typing the code.\n"
        "Use `/today` to see your next step."
    )
    return embed(title, text, GREEN)


def today(curriculum: Curriculum, result: TodayResult, user_id: int) -> discord.Embed:
    out = embed(
        f"Today - {day_label(result.study_today)}",
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
            f" on {day_label(result.logged.study_date)}"
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
        f"about {hours(p.minutes_total)}.\n{standing.label.capitalize()}; finish {day_label(standing.finish)} "
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
    "`/export` - your data in this server as CSV and JSON files; `/forget` - erase it\n"
    "`/setup` - (admins) the study channel, posting times, roadmap, cohort and members' data\n"
    "`/checkin now` - (admins) post this week's check-in now"
)


def help_embed() -> discord.Embed:
    return embed("twopass", HELP, BLUE)


# --- members' data: /export and /forget ------------------------------------------------------


def exported(data: Export, files: list[tuple[str, bytes]]) -> str:
    whose = "This server's data" if data.user_id is None else "Your data in this server"
    members = f"{plural(len(data.members), 'member')}, " if data.user_id is None else ""
    zipped = (
        " (zipped: together they were too big for one Discord upload)" if len(files) == 1 else ""
    )
    return (
        f"{whose}: {members}{plural(len(data.passes), 'pass')} held now and "
        f"{_entries(len(data.history))}{zipped}. The CSV opens in a spreadsheet; "
        "the JSON has everything, settings included."
    )


def nothing_to_export(user_id: int | None) -> str:
    if user_id is None:
        return "Nothing is stored about this server's members yet."
    return "Nothing is stored about you in this server: you have not joined or logged a pass."


def forget_prompt(user_id: int, own: bool) -> discord.Embed:
    if own:
        title, whose, their, keep = "Erase your data in this server?", "you", "your", "/export"
    else:
        title, whose, their, keep = (
            "Erase a member's data?",
            mention(user_id),
            "their",
            "/setup export",
        )
    lines = [
        f"This erases everything twopass stores about {whose} in this server: {their} "
        f"membership and pace, every pass with {their} notes and links, {their} history and "
        f"{their} place on the boards. It cannot be undone; `{keep}` first to keep a copy.",
        "Messages already posted in channels are the server's and stay.",
    ]
    if own:
        lines.append("A later `/join` starts from zero.")
    return embed(title, "\n".join(lines), GOLD)


def forgotten(erased: Erased, user_id: int, own: bool) -> str:
    if erased.nothing:
        return (
            "Nothing was stored about you in this server."
            if own
            else f"Nothing was stored about {mention(user_id)} in this server."
        )
    whose = "Your" if own else f"{mention(user_id)}'s"
    return (
        f"Erased. {whose} data in this server is gone: {plural(erased.passes, 'pass')} and "
        f"{_entries(erased.history)}." + (" `/join` to start again from zero." if own else "")
    )


FORGET_EXPIRED = (
    "Nothing was erased: the confirmation expired. Run the command again if you meant it."
)
FORGET_CANCELLED = "Cancelled: nothing was erased."


def _entries(count: int) -> str:
    return f"{count} history {'entry' if count == 1 else 'entries'}"
