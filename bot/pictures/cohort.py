"""The cohort map for /cohort: members (rows) by videos (columns), one page at a time.

800 px wide; 28 px a row, so a page of 25 members is ~920 px tall. Each cell is the member's
state for that video (not yet / first pass / second pass); the cohort's video of the day is
framed; members who moved this week are highlighted with a dot and a bold name. The caller
pages: it passes one page of rows and "page i of n". On a roadmap of many videos the cells
narrow and the columns are numbered every 2nd, 5th, 10th... video (the video of the day's
always), so the numbers never run together.
"""

from __future__ import annotations

import itertools
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
CELL_GAP = 3  # px between two cells
GRID_LEFT = PAD + NAME_WIDTH + 8
GRID_WIDTH = WIDTH - PAD - GRID_LEFT
LABEL_GAP = 2  # px at least between the labels of neighbouring columns
SPACED_GAP = 8  # px at least between labels that skip columns, so they read apart


def _phase_gap(cohort: CohortMap) -> int:
    """The gap between phases: PHASE_GAP, narrower when so many phases would crowd the cells."""
    gaps = len({c.phase for c in cohort.columns}) - 1
    return min(PHASE_GAP, GRID_WIDTH // 4 // gaps) if gaps > 0 else 0


def _pitch(cohort: CohortMap) -> int:
    gaps = _phase_gap(cohort) * max(0, len({c.phase for c in cohort.columns}) - 1)
    return max(1, min(MAX_PITCH, (GRID_WIDTH - gaps) // max(1, len(cohort.columns))))


def _cell_gap(cohort: CohortMap) -> int:
    """The pixels between two cells: fewer on a roadmap of so many videos that cells are thin."""
    pitch = _pitch(cohort)
    return CELL_GAP if pitch >= 4 * CELL_GAP else 1 if pitch >= 2 else 0


def column_left(cohort: CohortMap, column: int) -> int:
    """The left edge of `column`'s cells (a gap separates phases)."""
    phases_before = len({c.phase for c in cohort.columns[: column + 1]}) - 1
    return GRID_LEFT + column * _pitch(cohort) + phases_before * _phase_gap(cohort)


def cell_box(cohort: CohortMap, row: int, column: int) -> Box:
    """Where the cell of `row` (0-based on this page) and `column` is drawn."""
    left = column_left(cohort, column)
    top = ROWS_TOP + row * ROW_PITCH
    # Both edges are drawn (Pillow's boxes include them): the cell is pitch - gap px wide.
    return (left, top, left + _pitch(cohort) - 1 - _cell_gap(cohort), top + ROW_PITCH - 4)


def labelled(cohort: CohortMap) -> list[int]:
    """The columns whose label is drawn over them. Every one when they fit side by side (the
    bundled roadmap); otherwise every 2nd, 5th, 10th, 20th... (the first as well when it has
    room), the fewest skipped that leave a clear space between them; and the video of the
    day's always, in place of any it would touch."""
    spans = []
    for column, video in enumerate(cohort.columns):
        left, _, right, _ = cell_box(cohort, 0, column)
        half = text.width(video.label, SMALL, bold=column == cohort.video_of_the_day) / 2
        spans.append(((left + right) / 2 - half, (left + right) / 2 + half))

    def apart(columns: list[int], gap: float) -> bool:
        pairs = itertools.pairwise(columns)
        return all(spans[a][1] + gap <= spans[b][0] for a, b in pairs) and all(
            spans[c][1] <= WIDTH - PAD / 2 for c in columns
        )

    count = len(spans)
    kept = list(range(count))
    if not apart(kept, LABEL_GAP):
        for step in (2, 5, 10, 20, 50, 100, 200, 500, 1000):
            kept = list(range(step - 1, count, step))
            if kept and spans[0][1] + SPACED_GAP <= spans[kept[0]][0]:
                kept.insert(0, 0)
            if apart(kept, SPACED_GAP):
                break
        else:
            kept = [0] if count else []
    today = cohort.video_of_the_day
    if today is not None and today not in kept:
        low, high = spans[today]
        kept = [
            c for c in kept if spans[c][1] + SPACED_GAP <= low or high + SPACED_GAP <= spans[c][0]
        ]
        kept = sorted([*kept, today])
    return kept


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
    today = cohort.video_of_the_day
    for column in labelled(cohort):
        left, _, right, _ = cell_box(cohort, 0, column)
        is_today = column == today
        text.draw(
            image,
            (left + right) / 2,
            HEADER_TOP + 14,
            cohort.columns[column].label,
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
    left, _, right, _ = cell_box(cohort, 0, today)
    gap = _cell_gap(cohort)  # the frame keeps to the gaps, off the neighbouring cells
    bottom = ROWS_TOP + max(1, len(cohort.rows)) * ROW_PITCH
    pen.rounded_rectangle(
        (left - gap, HEADER_TOP - 4, right + gap, bottom - 1),
        6,
        outline=canvas.ACCENT,
        width=max(1, min(2, gap)),
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
