"""What every picture shares: its own dark card, the palette, type sizes and PNG encoding.

Discord shows an image inline at up to ~550 px wide on desktop and the full width of a phone, on
a dark or a light theme. The pictures are 800 px wide and carry their own dark background, so
they read the same on both themes; the smallest text is 21 px, which is ~14.4 px when Discord
scales 800 to 550.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from bot.pictures.model import ALT_TEXT_LIMIT, PassState

WIDTH = 800
PAD = 28

SMALL = 21  # the least any text may be: ~14 px at Discord's inline size
BODY = 24
TITLE = 32

Colour = tuple[int, int, int]

BACKGROUND: Colour = (22, 24, 31)
BORDER: Colour = (52, 57, 70)
PANEL: Colour = (32, 35, 45)
TEXT: Colour = (240, 242, 247)
MUTED: Colour = (160, 167, 184)
ACCENT: Colour = (250, 204, 21)  # the video of the day, today, who moved: warm on cool

# Not yet / first pass / second pass: one hue family rising in brightness, so the order reads
# without colour vision too (blue for the watch, bright green for the active pass).
STATE: dict[PassState, Colour] = {
    PassState.NONE: (45, 50, 63),
    PassState.FIRST: (59, 130, 246),
    PassState.SECOND: (74, 222, 128),
}
# Text drawn on a cell of each state.
ON_STATE: dict[PassState, Colour] = {
    PassState.NONE: MUTED,
    PassState.FIRST: (255, 255, 255),
    PassState.SECOND: (10, 30, 18),
}
STUDIED: Colour = STATE[PassState.SECOND]
NOT_STUDIED: Colour = STATE[PassState.NONE]


def card(height: int) -> Image.Image:
    """A blank card `height` px tall: the dark background with a thin border."""
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    ImageDraw.Draw(image).rectangle((0, 0, WIDTH - 1, height - 1), outline=BORDER, width=2)
    return image


def png(image: Image.Image) -> bytes:
    """PNG bytes. zlib level 1: at level 6 encoding took 25 of a cohort map's 34 ms for 13%
    smaller files, and every picture stays under ~100 kB either way."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def alt_text(lines: list[str]) -> str:
    """Join the lines of an alt text, dropping whole lines from the end to stay in the limit."""
    kept: list[str] = []
    for line in lines:
        candidate = " ".join([*kept, line])
        if len(candidate) > ALT_TEXT_LIMIT:
            more = "…"
            while kept and len(" ".join([*kept, more])) > ALT_TEXT_LIMIT:
                kept.pop()
            kept.append(more)
            break
        kept.append(line)
    text = " ".join(kept)
    return text[:ALT_TEXT_LIMIT]


def hours(value: float) -> str:
    """Hours to one decimal, as the words beside every picture give them: '3.5 h', '10.7 h',
    '12 h' (no trailing '.0'). Never rounded to the hour: a card saying '11 h' under a text
    saying '10.7 h' reads as two different numbers."""
    return f"{value:.1f}".removesuffix(".0") + " h"
