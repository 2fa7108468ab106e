"""Scheduled posts -> Discord messages (as JSON payloads), each within Discord's limits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date

import discord

from bot import embeds as render
from bot import wording
from bot.group import render as group_views
from bot.group.board import CohortView
from bot.learners import render as learner_views
from bot.learners.plan import Step
from bot.pictures import CheckinChart, DayPasses, MemberHours, Picture
from bot.posts.checkin import WEEK_DAYS, WeekSummary
from bot.posts.messages import MARK_ROOM, Composed, Outgoing, Upload
from curriculum import Curriculum, Pass

CONTENT_MAX = 2000
EMBEDS_PER_MESSAGE = 10
LINES_PER_EMBED = 3800  # a description's share, leaving room for the title under 6000
MEMBER_LINE_MAX = 600
THREAD_NAME_MAX = 100
CHART_DAYS = WEEK_DAYS  # days a chart draws: a longer window shows its last week's bars
CHART_TOP = 10  # members a chart ranks; the rest are counted in one line
CHART_FILE = "checkin.png"

PROMPT = (
    "Reply with what you built or broke this week: a notebook, a bug you chased, a plot that "
    "surprised you. Half-finished counts."
)


def _message(*embeds: discord.Embed, content: str = "") -> Outgoing:
    """One message, leaving room for the mark the publisher adds to it (`messages.Mark`)."""
    assert len(embeds) <= EMBEDS_PER_MESSAGE and len(content) <= CONTENT_MAX - MARK_ROOM
    assert sum(len(e) for e in embeds) <= render.EMBED_TOTAL_MAX - MARK_ROOM
    return Outgoing(content=content, embeds=tuple(dict(e.to_dict()) for e in embeds))


def _fit(embeds: list[discord.Embed]) -> list[discord.Embed]:
    """Drop the last fields of a message filled to Discord's limit, to make room for its mark."""
    for e in embeds:
        while e.fields and sum(len(x) for x in embeds) > render.EMBED_TOTAL_MAX - MARK_ROOM:
            e.remove_field(len(e.fields) - 1)
    return embeds


def _day(day: date) -> str:
    return day.strftime("%a %d %b")


def daily(curriculum: Curriculum, day: date, step: Step | None, studied_yesterday: int) -> Composed:
    yesterday = (
        f"{render.plural(studied_yesterday, 'member')} logged a pass yesterday."
        if studied_yesterday
        else "Nobody logged a pass yesterday: today is a good day to start."
    )
    if step is None:
        out = render.embed(
            f"Video of the day - {_day(day)}",
            "The cohort's calendar has reached the end of the roadmap. Time to build something "
            f"of your own, and help whoever is still on the way.\n\n{yesterday}",
            render.GOLD,
        )
        return Composed(_message(out))
    out = render.embed(
        f"Video of the day - {_day(day)}", learner_views.step_line(curriculum, step), render.BLUE
    )
    render.add_field(out, f"Focus of the {step.which.label} pass", learner_views.focus(step))
    render.add_field(out, "Yesterday", yesterday)
    render.add_field(
        out,
        "Log it with",
        f"`/done video:{step.video.id} pass:{step.which.label}` - or `/today` for your own next step",
    )
    return Composed(_message(out))


def _member_line(curriculum: Curriculum, week: WeekSummary, index: int) -> str:
    """What a member did, in one short line: passes, hours and the furthest pass. Never where
    they stand against their own plan: that is theirs (`/today`), not the channel's."""
    member = week.active[index]
    video_id, n = member.passes[-1]  # roadmap order: the furthest along
    line = (
        f"{render.mention(member.user_id)} - {wording.plural(len(member.passes), 'pass')}, "
        f"{wording.hours(member.minutes / 60)}, up to {_video(curriculum, video_id)} "
        f"({Pass(n).label})"
    )
    return render.clip(line, MEMBER_LINE_MAX)


def _video(curriculum: Curriculum, video_id: str) -> str:
    """`12. Title`; just the id of a video the roadmap no longer has (renamed or removed)."""
    video = curriculum.video(video_id)
    return f"{curriculum.number_of(video_id)}. {video.title}" if video else video_id


def _chunks(lines: Iterable[str], limit: int) -> list[str]:
    out: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + 1 + len(line) > limit:
            out.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        out.append(current)
    return out


TOP_NAMES = ("Most study", "Top two", "Top three")
MEDALS = ("🥇", "🥈", "🥉")


def checkin_title(week: WeekSummary) -> str:
    """Dates a member reads: "Weekly check-in - Week of 2-8 March" for seven days,
    "Check-in - 2-4 March" for a shorter or longer window (after a manual check-in)."""
    if (week.until - week.since).days == WEEK_DAYS - 1:
        return f"Weekly check-in - {wording.week_title(week.since)}"
    return f"Check-in - {wording.date_range(week.since, week.until)}"


def checkin_chart(week: WeekSummary, names: Mapping[int, str]) -> CheckinChart:
    """The check-in's picture: passes per day, then hours per active member (the top ones).
    Names are as members gave them at /join; one who joined before names were kept shows as
    the end of their id until they /join again."""
    days = week.days[-CHART_DAYS:]
    title = checkin_title(week)
    if len(days) < len(week.days):
        title = f"{title} (bars: {wording.date_range(days[0][0], days[-1][0])})"
    return CheckinChart(
        title=title,
        days=tuple(DayPasses(day, first, second) for day, first, second in days),
        members=tuple(
            MemberHours(names.get(m.user_id) or f"member …{str(m.user_id)[-4:]}", m.minutes / 60)
            for m in week.active
        ),
        top=CHART_TOP,
        # The bars may be the last week only; the totals in words are the whole window's.
        totals=(sum(day[1] for day in week.days), sum(day[2] for day in week.days)),
    )


def checkin(
    curriculum: Curriculum,
    week: WeekSummary,
    cohort: CohortView,
    chart: Picture | None = None,
) -> Composed:
    """The check-in; `chart` (its picture, drawn from the same numbers) goes under the head's
    text, which keeps every number in words."""
    numbers = (
        f"**{render.plural(week.passes, 'pass')}** logged, **{week.hours:.1f} h** of study, "
        f"**{len(week.active)} of {render.plural(week.roster, 'member')}** active."
    )
    title = checkin_title(week)
    head = render.embed(title, numbers, render.GOLD)
    # The same members and numbers as the rest of the post: the most study in its window.
    top = week.active[: len(MEDALS)]
    if top:
        render.add_field(
            head,
            TOP_NAMES[len(top) - 1],
            "\n".join(
                f"{MEDALS[i]} {render.mention(m.user_id)} - {m.minutes / 60:.1f} h "
                f"({render.plural(len(m.passes), 'pass')})"
                for i, m in enumerate(top)
            ),
        )
    # No "in its thread": the bot may not be allowed to start one.
    render.add_field(head, "Your turn", PROMPT)
    upload = None
    if chart is not None:
        head.set_image(url=f"attachment://{CHART_FILE}")
        upload = Upload(CHART_FILE, chart.png, render.clip(chart.alt, render.ALT_TEXT_MAX))

    parts: list[Outgoing] = []
    lines = [_member_line(curriculum, week, i) for i in range(len(week.active))]
    chunks = _chunks(lines, LINES_PER_EMBED)
    for number, chunk in enumerate(chunks, start=1):
        heading = "Member by member" + (f" ({number}/{len(chunks)})" if len(chunks) > 1 else "")
        parts.append(_message(render.embed(heading, chunk, render.GREEN)))
    parts.append(_message(*_fit(group_views.cohort(cohort))))
    if week.nudge:
        mentions = [render.mention(u) for u in week.nudge]
        intro = "Quiet week? No pressure - tell us where you are stuck and someone will help:"
        for chunk in _chunks(mentions, CONTENT_MAX - MARK_ROOM - len(intro) - 1):
            parts.append(_message(content=f"{intro}\n{chunk.replace(chr(10), ' ')}"))
    name = render.clip(title, THREAD_NAME_MAX)
    return Composed(replace(_message(head), file=upload), tuple(parts), name)
