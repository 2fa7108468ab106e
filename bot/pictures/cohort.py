"""The cohort map for /cohort: members (rows) by videos (columns), one page at a time.

800 px wide; 28 px a row, so a page of 25 members is ~920 px tall. Each cell is the member's
state for that video (not yet / first pass / second pass); the cohort's video of the day is
framed; members who moved this week are highlighted with a dot and a bold name. The caller
pages: it passes one page of rows and "page i of n".
"""

from __future__ import annotations

import logging
from collections import Counter

from PIL import Image, ImageDraw

from bot.pictures import canvas, text
from bot.pictures.canvas import PAD, SMALL, TITLE, WIDTH
from bot.pictures.model import CohortMap, PassState, Picture
from bot.wording import plural

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]

NAME_WIDTH = 176
HEADER_TOP = 108
ROWS_TOP = 142
ROW_PITCH = 28
PHASE_GAP = 8
MAX_PITCH = 40


def _pitch(cohort: CohortMap) -> int:
    gaps = PHASE_GAP * len({c.phase for c in cohort.columns}) - PHASE_GAP
    available = WIDTH - PAD - (PAD + NAME_WIDTH + 8) - max(0, gaps)
    return min(MAX_PITCH, available // max(1, len(cohort.columns)))


def column_left(cohort: CohortMap, column: int) -> int:
    """The left edge of `column`'s cells (a gap separates phases)."""
    phases_before = len({c.phase for c in cohort.columns[: column + 1]}) - 1
    return PAD + NAME_WIDTH + 8 + column * _pitch(cohort) + phases_before * PHASE_GAP


def cell_box(cohort: CohortMap, row: int, column: int) -> Box:
    """Where the cell of `row` (0-based on this page) and `column` is drawn."""
    left = column_left(cohort, column)
    top = ROWS_TOP + row * ROW_PITCH
    return (left, top, left + _pitch(cohort) - 4, top + ROW_PITCH - 4)


def height(cohort: CohortMap) -> int:
    return ROWS_TOP + max(1, len(cohort.rows)) * ROW_PITCH + 16 + 2 * 34 + PAD


def render_cohort_map(cohort: CohortMap) -> Picture:
    """Draw one page of the cohort map and describe it; pure, so safe in a worker thread."""
    image = canvas.card(height(cohort))
    pen = ImageDraw.Draw(image)
    _header(image, pen, cohort)
    if not cohort.rows:
        text.draw(image, PAD, ROWS_TOP + ROW_PITCH / 2, "No members yet.", SMALL, canvas.MUTED)
    for index, row in enumerate(cohort.rows):
        top = ROWS_TOP + index * ROW_PITCH
        left = PAD + 18
        if row.moved_this_week:
            pen.rounded_rectangle(
                (PAD - 8, top - 2, WIDTH - PAD + 8, top + ROW_PITCH - 2), 6, fill=canvas.PANEL
            )
            pen.ellipse((PAD, top + 8, PAD + 10, top + 18), fill=canvas.ACCENT)
        text.draw(
            image,
            left,
            top + (ROW_PITCH - 4) / 2,
            row.name,
            SMALL,
            canvas.TEXT if row.moved_this_week else canvas.MUTED,
            bold=row.moved_this_week,
            max_width=NAME_WIDTH - 18,
        )
        for column, state in enumerate(row.states):
            pen.rounded_rectangle(cell_box(cohort, index, column), 4, fill=canvas.STATE[state])
    _frame_video_of_the_day(pen, cohort)
    _legend(image, pen, height(cohort) - PAD - 2 * 34 + 6)
    return Picture(canvas.png(image), alt_text(cohort), image.width, image.height)


def _header(image: Image.Image, pen: ImageDraw.ImageDraw, cohort: CohortMap) -> None:
    page = f"page {cohort.page} of {cohort.pages}"
    page_width = text.draw(image, WIDTH - PAD, PAD + 18, page, SMALL, canvas.MUTED, align="right")
    text.draw(
        image,
        PAD,
        PAD + 18,
        cohort.title,
        TITLE,
        canvas.TEXT,
        bold=True,
        max_width=WIDTH - 3 * PAD - page_width,
    )
    moved = sum(1 for r in cohort.rows if r.moved_this_week)
    summary = f"{plural(len(cohort.rows), 'member')} on this page · {moved} moved this week"
    text.draw(image, PAD, PAD + 58, summary, SMALL, canvas.MUTED)
    pitch = _pitch(cohort)
    today = cohort.video_of_the_day
    for column, video in enumerate(cohort.columns):
        centre = column_left(cohort, column) + (pitch - 4) / 2
        is_today = column == today
        text.draw(
            image,
            centre,
            HEADER_TOP + 14,
            video.label,
            SMALL,
            canvas.ACCENT if is_today else canvas.MUTED,
            bold=is_today,
            align="center",
        )


def _frame_video_of_the_day(pen: ImageDraw.ImageDraw, cohort: CohortMap) -> None:
    """Drawn over the cells, around the gaps beside them, so the column reads as one."""
    today = cohort.video_of_the_day
    if today is None:
        return
    left = column_left(cohort, today)
    bottom = ROWS_TOP + max(1, len(cohort.rows)) * ROW_PITCH
    pen.rounded_rectangle(
        (left - 3, HEADER_TOP - 4, left + _pitch(cohort) - 1, bottom - 1),
        6,
        outline=canvas.ACCENT,
        width=2,
    )


def _legend(image: Image.Image, pen: ImageDraw.ImageDraw, top: int) -> None:
    x = PAD
    for state, label in (
        (PassState.SECOND, "second pass"),
        (PassState.FIRST, "first pass"),
        (PassState.NONE, "not yet"),
    ):
        pen.rounded_rectangle((x, top, x + 22, top + 22), 4, fill=canvas.STATE[state])
        x += 32 + round(text.draw(image, x + 32, top + 11, label, SMALL, canvas.TEXT)) + 28
    top += 34
    pen.ellipse((PAD + 6, top + 6, PAD + 16, top + 16), fill=canvas.ACCENT)
    x = (
        PAD
        + 32
        + round(text.draw(image, PAD + 32, top + 11, "moved this week", SMALL, canvas.TEXT))
        + 28
    )
    pen.rounded_rectangle((x, top - 2, x + 22, top + 24), 5, outline=canvas.ACCENT, width=2)
    text.draw(image, x + 32, top + 11, "video of the day", SMALL, canvas.TEXT)


def alt_text(cohort: CohortMap) -> str:
    """The page in words: who moved, each video's counts, then each member's."""
    moved = [text.clean(r.name) for r in cohort.rows if r.moved_this_week]
    lines = [
        f"{cohort.title}, page {cohort.page} of {cohort.pages}: "
        f"{plural(len(cohort.rows), 'member')} by {plural(len(cohort.columns), 'video')}."
    ]
    if cohort.video_of_the_day is not None:
        lines.append(f"Video of the day: {cohort.columns[cohort.video_of_the_day].label}.")
    lines.append(
        f"Moved this week: {', '.join(moved)}." if moved else "Nobody on this page moved this week."
    )
    per_video = []
    for column, video in enumerate(cohort.columns):
        counts = Counter(r.states[column] for r in cohort.rows)
        if counts[PassState.FIRST] or counts[PassState.SECOND]:
            per_video.append(
                f"{video.label}: {counts[PassState.SECOND]} second, {counts[PassState.FIRST]} first"
            )
    if per_video:
        lines.append("Per video: " + "; ".join(per_video) + ".")
    for row in cohort.rows:
        counts = Counter(row.states)
        lines.append(
            f"{text.clean(row.name)}: {counts[PassState.SECOND]} second, "
            f"{counts[PassState.FIRST]} first pass only."
        )
    return canvas.alt_text(lines)
