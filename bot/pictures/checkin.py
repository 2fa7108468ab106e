"""The weekly check-in as one picture: passes per day, then hours per active member.

800 px wide; ~830 px tall with ten members (the default top N). Each day's bar stacks its
second passes (bottom, green) under its first passes (blue); members are ranked by estimated
hours, a tie kept in the order given (the check-in's: who reached the total first), and those
past the top N are counted in one line.
"""

from __future__ import annotations

import logging
import re

from PIL import Image, ImageDraw

from bot.pictures import canvas, text
from bot.pictures.canvas import BODY, PAD, SMALL, TITLE, WIDTH
from bot.pictures.model import CheckinChart, MemberHours, PassState, Picture
from bot.wording import plural

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]

DAYS_TOP = 160
BAR_HEIGHT = 190
MEMBERS_TOP = DAYS_TOP + BAR_HEIGHT + 92
MEMBER_PITCH = 34
NAME_WIDTH = 200
VALUE_WIDTH = 76


def ranked(chart: CheckinChart) -> list[MemberHours]:
    """The members shown, most hours first; a stable sort, so a tie keeps the order given
    (the post's text and the boards give a tie to whoever reached the total first, and the top
    N must leave out the same members they would)."""
    order = sorted(chart.members, key=lambda m: -m.hours)
    return order[: max(0, chart.top)]


def _most(chart: CheckinChart) -> int:
    return max((d.first + d.second for d in chart.days), default=0)


def day_bar(chart: CheckinChart, index: int) -> Box:
    """The box of day `index`'s whole bar (second passes at its bottom); empty when no passes."""
    column = (WIDTH - 2 * PAD) / max(1, len(chart.days))
    bar = min(64, round(column * 0.6))
    centre = PAD + column * (index + 0.5)
    day = chart.days[index]
    most = _most(chart)
    tall = round(BAR_HEIGHT * (day.first + day.second) / most) if most else 0
    bottom = DAYS_TOP + BAR_HEIGHT
    return (round(centre - bar / 2), bottom - tall, round(centre + bar / 2), bottom)


def member_bar(chart: CheckinChart, rank: int) -> Box:
    """The box of the `rank`-th shown member's hours bar (0-based)."""
    shown = ranked(chart)
    most = max((m.hours for m in shown), default=0.0)
    left = PAD + NAME_WIDTH
    span = WIDTH - PAD - VALUE_WIDTH - left
    top = MEMBERS_TOP + rank * MEMBER_PITCH + 6
    long = max(4, round(span * shown[rank].hours / most)) if most > 0 else 4
    return (left, top, left + long, top + MEMBER_PITCH - 12)


def height(chart: CheckinChart) -> int:
    rows = len(ranked(chart)) + (1 if len(chart.members) > chart.top else 0)
    return MEMBERS_TOP + max(1, rows) * MEMBER_PITCH + PAD


def render_checkin_chart(chart: CheckinChart) -> Picture:
    """Draw the week's chart and describe it; pure, so safe in a worker thread."""
    image = canvas.card(height(chart))
    pen = ImageDraw.Draw(image)
    hours = sum(m.hours for m in chart.members)
    text.draw(
        image, PAD, PAD + 18, chart.title, TITLE, canvas.TEXT, bold=True, max_width=WIDTH - 2 * PAD
    )
    summary = (
        f"{plural(sum(chart.passes), 'pass')} · {canvas.hours(hours)} · "
        f"{plural(len(chart.members), 'member')} active"
    )
    text.draw(image, PAD, PAD + 58, summary, SMALL, canvas.MUTED)
    _days(image, pen, chart)
    _people(image, pen, chart)
    return Picture(canvas.png(image), alt_text(chart), image.width, image.height)


def _days(image: Image.Image, pen: ImageDraw.ImageDraw, chart: CheckinChart) -> None:
    text.draw(image, PAD, DAYS_TOP - 40, "Passes per day", BODY, canvas.TEXT, bold=True)
    x = WIDTH - PAD
    for state, label in ((PassState.FIRST, "first"), (PassState.SECOND, "second")):
        x -= round(text.width(label, SMALL))
        text.draw(image, x, DAYS_TOP - 40, label, SMALL, canvas.TEXT)
        pen.rounded_rectangle(
            (x - 30, DAYS_TOP - 51, x - 8, DAYS_TOP - 29), 4, fill=canvas.STATE[state]
        )
        x -= 30 + 24
    bottom = DAYS_TOP + BAR_HEIGHT
    pen.line((PAD, bottom + 1, WIDTH - PAD, bottom + 1), fill=canvas.BORDER, width=2)
    most = _most(chart)
    for index, day in enumerate(chart.days):
        left, top, right, _ = day_bar(chart, index)
        centre = (left + right) / 2
        if most and day.second:
            split = bottom - round(BAR_HEIGHT * day.second / most)
            pen.rectangle((left, split, right, bottom), fill=canvas.STATE[PassState.SECOND])
        else:
            split = bottom
        if most and day.first:
            pen.rectangle((left, top, right, split), fill=canvas.STATE[PassState.FIRST])
        total = day.first + day.second
        text.draw(
            image,
            centre,
            top - 16,
            str(total),
            SMALL,
            canvas.TEXT if total else canvas.MUTED,
            bold=True,
            align="center",
        )
        text.draw(
            image,
            centre,
            bottom + 22,
            f"{day.day:%a} {day.day.day}",
            SMALL,
            canvas.MUTED,
            align="center",
        )


def _people(image: Image.Image, pen: ImageDraw.ImageDraw, chart: CheckinChart) -> None:
    text.draw(image, PAD, MEMBERS_TOP - 26, "Hours per member", BODY, canvas.TEXT, bold=True)
    shown = ranked(chart)
    if not shown:
        text.draw(
            image,
            PAD,
            MEMBERS_TOP + MEMBER_PITCH / 2,
            "Nobody logged a pass this week.",
            SMALL,
            canvas.MUTED,
        )
    for rank, member in enumerate(shown):
        box = member_bar(chart, rank)
        middle = (box[1] + box[3]) / 2
        text.draw(image, PAD, middle, member.name, SMALL, canvas.TEXT, max_width=NAME_WIDTH - 16)
        pen.rounded_rectangle(box, 4, fill=canvas.STATE[PassState.SECOND])
        text.draw(
            image,
            WIDTH - PAD,
            middle,
            canvas.hours(member.hours),
            SMALL,
            canvas.TEXT,
            align="right",
        )
    rest = len(chart.members) - len(shown)
    if rest > 0:
        middle = MEMBERS_TOP + len(shown) * MEMBER_PITCH + MEMBER_PITCH / 2
        text.draw(image, PAD, middle, f"and {plural(rest, 'member')} more", SMALL, canvas.MUTED)


_HOURS = "Hours: "


def alt_text(chart: CheckinChart) -> str:
    """The week in words: the window's totals, each day of the bars, then each shown member's
    hours."""
    firsts, seconds = chart.passes
    lines = [
        f"{chart.title}: {plural(firsts + seconds, 'pass')} ({firsts} first, {seconds} second), "
        f"{canvas.hours(sum(m.hours for m in chart.members))} by "
        f"{plural(len(chart.members), 'member')}."
    ]
    lines.append(
        "Per day: "
        + ", ".join(f"{d.day:%a} {d.day.day} {d.first + d.second}" for d in chart.days)
        + "."
    )
    shown = ranked(chart)
    if shown:
        lines.append(
            _HOURS + ", ".join(f"{text.clean(m.name)} {canvas.hours(m.hours)}" for m in shown) + "."
        )
    rest = len(chart.members) - len(shown)
    if rest > 0:
        lines.append(f"And {plural(rest, 'member')} more.")
    return canvas.alt_text(lines)


def alt_without(alt: str, name: str, instead: str) -> str:
    """`alt` (as `alt_text` wrote it, perhaps clipped) with the member drawn as `name` called
    `instead` in its hours; the same text when it does not name them. Only whole entries of the
    hours count, not a word of the title or a longer name that holds this one."""
    start = alt.find(_HOURS)
    drawn = text.clean(name)
    if start < 0 or not drawn:
        return alt
    start += len(_HOURS)
    # An entry is `name hours` after the label or a comma, then a comma, the full stop, or
    # the end of a clipped text.
    entry = re.compile(rf"(^|, ){re.escape(drawn)}(?= \d+(?:\.\d)? h(?:, |\.|…|$)| ?…|$)")
    return alt[:start] + entry.sub(lambda found: found[1] + instead, alt[start:])
