"""A learner's results -> Discord embeds: /join, /today, /done, /progress, /roadmap, /help."""

from __future__ import annotations

import discord

from bot import wording, zones
from bot.embeds import (
    BLUE,
    FIELD_VALUE_MAX,
    GOLD,
    GREEN,
    add_field,
    day_label,
    embed,
    hours,
    mention,
    plural,
)
from bot.learners.export import Erased, Export
from bot.learners.plan import Standing, Step
from bot.learners.progress import Progress, bar
from bot.learners.service import (
    MIN_REPORTS,
    DoneResult,
    JoinResult,
    MemberProgress,
    TodayResult,
)
from bot.learners.streaks import streak_sentence
from bot.pictures import PassState, PhaseState, ProgressCard, VideoState
from bot.text import escape_user_text, masked_link
from curriculum import Curriculum, Pass

NOTE_SHOWN = 300  # characters of a member's note shown in a reply (escaped, so it may grow)


def step_line(curriculum: Curriculum, step: Step) -> str:
    number = curriculum.number_of(step.video.id)
    return (
        f"**{number}. [{step.video.title}]({step.video.url})** - {step.which.label} pass\n"
        f"{step.video.minutes} min of video, about {hours(step.minutes)} of study"
    )


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def focus(step: Step) -> str:
    return step.video.first_pass if step.which is Pass.FIRST else step.video.second_pass


def _by_group(by_group: bool) -> str:
    """Why a projected finish is not the time model's, said only when it is not."""
    if not by_group:
        return ""
    return f" (second passes timed by the group where {MIN_REPORTS} or more reported them)"


def joined(result: JoinResult) -> discord.Embed:
    member = result.member
    if result.first_time:
        title, intro = "Welcome to the roadmap", "You are in."
    elif result.resumed:
        title, intro = "Welcome back", "Your history is where you left it."
    elif result.restarted:
        title, intro = "Plan updated", "You had already joined; your plan is updated."
    else:
        title, intro = "Settings saved", "You had already joined; your plan goes on as it was."
    changed = ""
    if result.before and result.before.pace_hours != member.pace_hours:
        changed = f" (was {result.before.pace_hours:g} h)"
    finish = (
        f"At this pace you finish on **{day_label(result.finish)}**"
        f"{_by_group(result.finish_by_group)}."
        if result.finish
        else "You have done every pass of the roadmap."
    )
    lines = [
        intro,
        f"Pace: **{member.pace_hours:g} hour{'' if member.pace_hours == 1 else 's'} a week**"
        f"{changed}. "
        f"Timezone: {zones.zone_label(member.timezone)}. "
        f"Check-in reminders: {'on' if member.reminders else 'off'}.",
        finish,
    ]
    if result.restarted:
        lines.append(
            "Your plan starts again from today at the new pace: the days you were ahead or "
            "behind before no longer count, and your passes all still do."
        )
    lines += [
        "Every video gets two passes: watch it once, then again with a notebook open, typing the code.",
        "Use `/today` to see your next step.",
    ]
    return embed(title, "\n".join(lines), GREEN)


def today(curriculum: Curriculum, result: TodayResult, user_id: int) -> discord.Embed:
    """Private to the member: their standing against their own plan is theirs alone."""
    out = embed(
        f"Today - {day_label(result.study_today)}",
        f"{_capital(result.standing.clause)}.\n"
        f"{_capital(streak_sentence(result.streak, result.study_today))}.",
        BLUE,
    )
    if result.next is None:
        out.description = "You have finished every pass of the roadmap. Time to build something."
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
    """The public reply to /done: what was done (the pass, this week's hours, the streak, a
    milestone), never where the member stands against their plan."""
    colour = GOLD if result.milestone else GREEN
    number = curriculum.number_of(result.video.id)
    when = (
        f" on {wording.short_date(result.logged.study_date, result.today)}"
        if result.logged.study_date < result.today
        else ""
    )
    took = (
        f" in {wording.hours(result.logged.spent_minutes / 60)}"
        if result.logged.spent_minutes
        else ""
    )
    lines = [
        f"{mention(user_id)} did the **{result.which.label} pass** of "
        f"**{number}. {result.video.title}**{when}{took}.",
        " · ".join(
            part
            for part in (
                f"{hours(result.week_minutes)} of study this week",
                f"{result.streak.current}-day streak" if result.streak.alive else "",
                f"{result.totals.passes_done}/{result.totals.passes_total} passes",
            )
            if part
        ),
    ]
    if result.milestone:
        lines.insert(0, f"🎉 {mention(user_id)}: {result.milestone}")
    lines += _note_lines(result)
    if result.next:
        lines.append(f"Next: {result.next.video.title} ({result.next.which.label} pass).")
    return embed("Pass logged", "\n".join(lines), colour)


def _note_lines(result: DoneResult) -> list[str]:
    lines = []
    if result.logged.note:
        lines.append(f"> {escape_user_text(result.logged.note, NOTE_SHOWN)}")
    if result.logged.link:
        lines.append(masked_link("notes / code", result.logged.link))
    return lines


def corrected(curriculum: Curriculum, result: DoneResult, user_id: int) -> str:
    """The private answer to an admin who logged or edited a pass for a member."""
    number = curriculum.number_of(result.video.id)
    what = "Updated the note and link of" if result.edited else "Logged"
    return (
        f"{what} {mention(user_id)}'s {result.which.label} pass of **{number}. "
        f"{result.video.title}** as a correction. Only you see this; their history records "
        f"that you made it."
    )


def edited(curriculum: Curriculum, result: DoneResult) -> discord.Embed:
    """The private answer to a member who corrected the note or link of a logged pass."""
    number = curriculum.number_of(result.video.id)
    lines = [
        f"Updated your {result.which.label} pass of **{number}. {result.video.title}**; "
        "the history keeps what it said before.",
        *_note_lines(result),
    ]
    return embed("Pass updated", "\n".join(lines), GREEN)


def progress(
    curriculum: Curriculum,
    result: MemberProgress,
    user_id: int,
    *,
    personal: bool,
) -> discord.Embed:
    """Per phase, the streak and the latest notes. `personal` (the member asking about
    themselves, privately) adds their standing against their own plan and their own pace of
    second passes; nobody else ever sees those."""
    p: Progress = result.progress
    today = result.today
    streak = p.streak
    best = f" (best: {wording.plural(streak.best, 'day')})" if streak.best > streak.current else ""
    lines = [
        f"{mention(user_id)}: {p.passes_done}/{p.passes_total} passes, {hours(p.minutes_done)} of "
        f"about {hours(p.minutes_total)}.",
        f"{_capital(streak_sentence(streak, today))}{best}.",
    ]
    if personal:
        standing: Standing = result.standing
        finish = (
            f"; at {result.member.pace_hours:g} h a week you finish {day_label(standing.finish)}"
            f"{_by_group(standing.finish_by_group)}"
            if standing.finish
            else ""
        )
        lines.insert(1, f"{_capital(standing.clause)}{finish}.")
        spent, video = result.second_pass_time
        if video:
            lines.append(
                f"Your second passes took {spent / video:.1f}x their videos "
                f"({wording.hours(spent / 60)} for {wording.hours(video / 60)} of video; "
                "the plan assumes 2.5x)."
            )
    out = embed("Progress", "\n".join(lines), BLUE)
    for phase in p.phases:
        fraction = phase.minutes_done / phase.minutes_total if phase.minutes_total else 0
        add_field(
            out,
            phase.phase.title,
            f"`{bar(fraction)}` {phase.passes_done}/{phase.passes_total} passes, "
            f"{hours(phase.minutes_done)} of {hours(phase.minutes_total)}",
        )
    if p.recent:
        # Whole entries only: a note or link cut at the field's limit shows as broken markdown.
        notes: list[str] = []
        room = FIELD_VALUE_MAX
        for logged in p.recent:
            video_ = curriculum.video(logged.video_id)
            title = video_.title if video_ else logged.video_id
            note = escape_user_text(logged.note, 200) if logged.note else None
            link = masked_link("link", logged.link) if logged.link else None
            stamp = discord.utils.format_dt(logged.logged_at, "R")
            head = f"**{title}** ({Pass(logged.pass_no).label}, {stamp}): "
            # The link goes first when both do not fit: the note is in the member's export.
            for detail in (" - ".join(x for x in (note, link) if x), link or note or ""):
                line = head + detail
                if len(line) + (1 if notes else 0) <= room:
                    room -= len(line) + (1 if notes else 0)
                    notes.append(line)
                    break
            else:
                break
        if notes:
            add_field(out, "Latest notes and links", "\n".join(notes))
    return out


def progress_card(
    curriculum: Curriculum, result: MemberProgress, name: str, *, personal: bool
) -> ProgressCard:
    """The /progress picture's input: every video's passes phase by phase, the streak, the days
    studied and this week's hours. The weekly target (the member's pace) only in their own
    private view, like the rest of their plan."""
    phases = []
    for phase in result.progress.phases:
        videos = tuple(
            VideoState(
                str(curriculum.number_of(video.id)),
                PassState.SECOND
                if (video.id, 2) in result.done
                else PassState.FIRST
                if (video.id, 1) in result.done
                else PassState.NONE,
            )
            for video in phase.phase.videos
        )
        phases.append(
            PhaseState(phase.phase.title, videos, phase.minutes_done / 60, phase.minutes_total / 60)
        )
    streak = result.progress.streak
    return ProgressCard(
        name=name,
        phases=tuple(phases),
        current_streak=streak.current,
        best_streak=streak.best,
        study_days=result.study_days,
        today=result.today,
        week_hours=result.week_minutes / 60,
        week_target_hours=result.member.pace_hours if personal else None,
    )


def roadmap(
    curriculum: Curriculum,
    done: set[tuple[str, int]],
    measured: dict[str, tuple[float, int]] | None = None,
) -> list[discord.Embed]:
    """One embed per phase (a message may carry up to 10, 6000 characters in all). `measured`:
    per video, the group's own second-pass ratio and how many reported it."""
    measured = measured or {}
    out = []
    for phase in curriculum.phases:
        lines = []
        for video in phase.videos:
            ticks = ("✅" if (video.id, 1) in done else "⬜") + (
                "✅" if (video.id, 2) in done else "⬜"
            )
            bonus = " *(bonus)*" if video.optional else ""
            ratio = ""
            if video.id in measured:
                value, count = measured[video.id]
                ratio = f" · second pass: {value:.1f}x here ({count} reports)"
            lines.append(
                f"{ticks} {curriculum.number_of(video.id)}. [{video.title}]({video.url}) - {video.minutes} min{bonus}{ratio}"
            )
        low, high = phase.guide_hours
        out.append(
            embed(
                phase.title,
                f"{phase.goal}\nAbout {hours(phase.estimate_minutes)} for both passes of "
                f"every video (the guide: {wording.hours_range(low, high)}).\n\n"
                + "\n".join(lines),
                BLUE,
            )
        )
    return out


HELP = (
    "**The method: two passes per video.**\n"
    "1. *First pass*: just watch, start to finish. No notes, no pausing. Get the shape of it.\n"
    "2. *Second pass*: watch again with a notebook and an editor open. Pause often, write the ideas in "
    "your own words, type every line of code, then break it and try things. It takes 2-3x the video.\n\n"
    "**What others see.** `/done` is shared with the channel: what you did, your hours this "
    "week and your streak. Everything about where you stand against your own plan is yours "
    "alone: `/today` always answers only you, and `/progress` too unless you add `share:true`. "
    "Errors and admins' corrections are private.\n\n"
    "**Commands**\n"
    "`/join` - join this server's roadmap (pace, timezone, reminders)\n"
    "`/leave` - stop reminders and leave the boards; your history is kept\n"
    "`/today` - your next step, how you stand against your plan, the cohort's video of the day\n"
    "`/done` - log a pass (first or second), with an optional note, link, date or the minutes it took\n"
    "`/undo` - remove a pass logged by mistake\n"
    "`/progress` - your progress per phase, streak, notes (`share:true` shows it to the channel)\n"
    "`/leaderboard` - members by study hours, this week or all time\n"
    "`/cohort` - who is on which video, who moved this week\n"
    "`/roadmap` - every video with links, lengths and your ticks\n"
    "`/export` - your data in this server as CSV and JSON files; `/forget` - erase it\n"
    "`/setup` - (admins) the study and admin channels, posting times, roadmap, cohort and members' data\n"
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
