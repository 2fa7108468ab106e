"""The progress card for /progress: 800 px wide, ~860 px tall for a three-phase roadmap.

Top to bottom: the member's name and totals; the current and best streak and this week's hours;
every video of the roadmap, phase by phase, as a tile coloured by how far the member is (with
two pips: first pass, second pass) under the phase's hours done of its estimate; a calendar of
the last 12 weeks (one column a week, Monday on top) with the days they studied. A phase of more
videos than a row holds (an operator's roadmap) wraps its tiles onto more rows.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from PIL import Image, ImageDraw

from bot.pictures import canvas, text
from bot.pictures.canvas import BODY, PAD, SMALL, TITLE, WIDTH
from bot.pictures.model import PassState, Picture, ProgressCard

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]

STATS_TOP = 112
STATS_HEIGHT = 84
PHASES_TOP = 216
PHASE_HEIGHT = 124
TILE_GAP = 8
TILE_HEIGHT = 52
TILE_MAX = 88
# Tiles in one row at most: each stays 49 px wide, room for a three-digit label and both pips.
TILES_PER_ROW = 13
WEEKS = 12
CELL = 22
CELL_PITCH = 27
GRID_LEFT = PAD + 56


def _per_row(card: ProgressCard) -> int:
    """Tiles in a row: as many as the longest phase has, up to TILES_PER_ROW."""
    most = max((len(p.videos) for p in card.phases), default=1)
    return max(1, min(most, TILES_PER_ROW))


def _rows(card: ProgressCard, phase: int) -> int:
    return max(1, -(-len(card.phases[phase].videos) // _per_row(card)))


def phase_top(card: ProgressCard, phase: int) -> int:
    """Where `phase` (0-based; the number of phases for the calendar below them) starts."""
    return PHASES_TOP + sum(
        PHASE_HEIGHT + (_rows(card, index) - 1) * (TILE_HEIGHT + TILE_GAP) for index in range(phase)
    )


def tile_box(card: ProgressCard, phase: int, video: int) -> Box:
    """Where the tile of `video` (0-based within `phase`) is drawn."""
    per_row = _per_row(card)
    tile = min(TILE_MAX, (WIDTH - 2 * PAD - (per_row - 1) * TILE_GAP) // per_row)
    row, column = divmod(video, per_row)
    left = PAD + column * (tile + TILE_GAP)
    top = phase_top(card, phase) + 52 + row * (TILE_HEIGHT + TILE_GAP)
    return (left, top, left + tile, top + TILE_HEIGHT)


def _heatmap_top(card: ProgressCard) -> int:
    return phase_top(card, len(card.phases))


def first_day(today: date) -> date:
    """The Monday that starts the calendar: 12 weeks including today's."""
    return today - timedelta(days=today.weekday(), weeks=WEEKS - 1)


def day_box(card: ProgressCard, day: date) -> Box | None:
    """Where `day`'s square of the calendar is, or None when it is not shown."""
    offset = (day - first_day(card.today)).days
    if offset < 0 or day > card.today:
        return None
    left = GRID_LEFT + (offset // 7) * CELL_PITCH
    top = _heatmap_top(card) + 44 + (offset % 7) * CELL_PITCH
    return (left, top, left + CELL, top + CELL)


def height(card: ProgressCard) -> int:
    return _heatmap_top(card) + 44 + 7 * CELL_PITCH + 48


def render_progress_card(card: ProgressCard) -> Picture:
    """Draw `card` and describe it; pure, so safe to run in a worker thread."""
    image = canvas.card(height(card))
    pen = ImageDraw.Draw(image)
    _header(image, card)
    _stats(image, pen, card)
    for index in range(len(card.phases)):
        _phase(image, pen, card, index)
    _calendar(image, pen, card)
    return Picture(canvas.png(image), alt_text(card), image.width, image.height)


def _totals(card: ProgressCard) -> tuple[int, int, float, float]:
    videos = [v for p in card.phases for v in p.videos]
    done = sum(int(v.state) for v in videos)
    return (
        done,
        2 * len(videos),
        sum(p.hours_done for p in card.phases),
        sum(p.hours_estimate for p in card.phases),
    )


def _header(image: Image.Image, card: ProgressCard) -> None:
    text.draw(
        image, PAD, PAD + 18, card.name, TITLE, canvas.TEXT, bold=True, max_width=WIDTH - 2 * PAD
    )
    done, total, hours_done, hours_total = _totals(card)
    summary = (
        f"{done} of {total} passes · {canvas.hours(hours_done)} of "
        f"{canvas.hours(hours_total)} estimated"
    )
    text.draw(image, PAD, PAD + 60, summary, SMALL, canvas.MUTED)


def _stats(image: Image.Image, pen: ImageDraw.ImageDraw, card: ProgressCard) -> None:
    week = canvas.hours(card.week_hours)
    if card.week_target_hours:
        week_label = f"this week, of {canvas.hours(card.week_target_hours)}"
    else:
        week_label = "this week"
    stats = (
        (_days(card.current_streak), "current streak"),
        (_days(card.best_streak), "best streak"),
        (week, week_label),
    )
    width = (WIDTH - 2 * PAD - 2 * 16) // 3
    for index, (value, label) in enumerate(stats):
        left = PAD + index * (width + 16)
        pen.rounded_rectangle(
            (left, STATS_TOP, left + width, STATS_TOP + STATS_HEIGHT), 10, fill=canvas.PANEL
        )
        colour = canvas.ACCENT if index == 0 and card.current_streak else canvas.TEXT
        text.draw(image, left + 16, STATS_TOP + 30, value, TITLE, colour, bold=True)
        text.draw(image, left + 16, STATS_TOP + 64, label, SMALL, canvas.MUTED)


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _phase(image: Image.Image, pen: ImageDraw.ImageDraw, card: ProgressCard, index: int) -> None:
    phase = card.phases[index]
    top = phase_top(card, index)
    figure = f"{canvas.hours(phase.hours_done)} of {canvas.hours(phase.hours_estimate)}"
    figure_width = text.draw(
        image, WIDTH - PAD, top + 14, figure, SMALL, canvas.MUTED, align="right"
    )
    text.draw(
        image,
        PAD,
        top + 14,
        phase.title,
        BODY,
        canvas.TEXT,
        bold=True,
        max_width=WIDTH - 2 * PAD - figure_width - 16,
    )
    bar = (PAD, top + 34, WIDTH - PAD, top + 42)
    pen.rounded_rectangle(bar, 4, fill=canvas.STATE[PassState.NONE])
    share = min(1.0, phase.hours_done / phase.hours_estimate) if phase.hours_estimate > 0 else 0.0
    if share > 0:
        right = bar[0] + max(8, round((bar[2] - bar[0]) * share))
        pen.rounded_rectangle(
            (bar[0], bar[1], right, bar[3]), 4, fill=canvas.STATE[PassState.SECOND]
        )
    for position, video in enumerate(phase.videos):
        _tile(image, pen, tile_box(card, index, position), video.label, video.state)


def _tile(
    image: Image.Image, pen: ImageDraw.ImageDraw, box: Box, label: str, state: PassState
) -> None:
    left, top, right, bottom = box
    ink = canvas.ON_STATE[state]
    pen.rounded_rectangle(box, 8, fill=canvas.STATE[state])
    centre = (left + right) / 2
    text.draw(
        image,
        centre,
        top + 19,
        label,
        SMALL,
        ink,
        bold=True,
        align="center",
        max_width=right - left - 8,
    )
    pip = (right - left - 24) // 2
    for which in (0, 1):
        x = left + 10 + which * (pip + 4)
        shape = (x, bottom - 14, x + pip, bottom - 8)
        if int(state) > which:
            pen.rectangle(shape, fill=ink)
        else:
            pen.rectangle(shape, outline=ink, width=1)


def _calendar(image: Image.Image, pen: ImageDraw.ImageDraw, card: ProgressCard) -> None:
    top = _heatmap_top(card)
    start = first_day(card.today)
    shown = [start + timedelta(days=n) for n in range((card.today - start).days + 1)]
    studied = sum(1 for d in shown if d in card.study_days)
    text.draw(image, PAD, top + 14, f"Last {WEEKS} weeks", BODY, canvas.TEXT, bold=True)
    grid_right = GRID_LEFT + WEEKS * CELL_PITCH
    text.draw(
        image, grid_right, top + 14, f"{studied} study days", SMALL, canvas.MUTED, align="right"
    )
    for row, name in ((0, "Mon"), (2, "Wed"), (4, "Fri"), (6, "Sun")):
        text.draw(image, PAD, top + 44 + row * CELL_PITCH + CELL / 2, name, SMALL, canvas.MUTED)
    for day in shown:
        box = day_box(card, day)
        if box is None:
            continue
        colour = canvas.STUDIED if day in card.study_days else canvas.NOT_STUDIED
        pen.rounded_rectangle(box, 4, fill=colour)
        if day == card.today:
            pen.rounded_rectangle(
                (box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3), 6, outline=canvas.ACCENT, width=2
            )
    span = f"{start.day} {start:%b} – {card.today.day} {card.today:%b %Y}"
    bottom = top + 44 + 7 * CELL_PITCH
    text.draw(image, GRID_LEFT, bottom + 14, span, SMALL, canvas.MUTED)
    _legend(image, pen, grid_right + 48, top + 44)


def _legend(image: Image.Image, pen: ImageDraw.ImageDraw, left: int, top: int) -> None:
    entries = (
        (canvas.STATE[PassState.SECOND], "second pass (active)"),
        (canvas.STATE[PassState.FIRST], "first pass (watched)"),
        (canvas.STATE[PassState.NONE], "not yet"),
        (canvas.STUDIED, "a day with study"),
    )
    for index, (colour, label) in enumerate(entries):
        y = top + index * 36
        pen.rounded_rectangle((left, y, left + 22, y + 22), 4, fill=colour)
        text.draw(image, left + 34, y + 11, label, SMALL, canvas.TEXT)
    y = top + len(entries) * 36
    pen.rounded_rectangle((left - 2, y - 2, left + 24, y + 24), 6, outline=canvas.ACCENT, width=2)
    text.draw(image, left + 34, y + 11, "today", SMALL, canvas.TEXT)


def alt_text(card: ProgressCard) -> str:
    """The card in words: totals, each phase, streaks, the calendar and this week."""
    done, total, hours_done, hours_total = _totals(card)
    lines = [
        f"Progress of {text.clean(card.name)}: {done} of {total} passes, "
        f"{canvas.hours(hours_done)} of {canvas.hours(hours_total)} estimated."
    ]
    start = first_day(card.today)
    studied = sum(1 for d in card.study_days if start <= d <= card.today)
    week = f"This week {canvas.hours(card.week_hours)}"
    if card.week_target_hours:
        week += f" of {canvas.hours(card.week_target_hours)}"
    lines.append(
        f"Streak {_days(card.current_streak)}, best {_days(card.best_streak)}. "
        f"Studied on {studied} of the last {(card.today - start).days + 1} days. {week}."
    )
    for phase in card.phases:
        twice = [v.label for v in phase.videos if v.state is PassState.SECOND]
        once = [v.label for v in phase.videos if v.state is PassState.FIRST]
        parts = [
            f"{phase.title}: {canvas.hours(phase.hours_done)} of {canvas.hours(phase.hours_estimate)}"
        ]
        if twice:
            parts.append(f"second pass {', '.join(twice)}")
        if once:
            parts.append(f"first pass only {', '.join(once)}")
        if not twice and not once:
            parts.append("not started")
        lines.append("; ".join(parts) + ".")
    return canvas.alt_text(lines)
