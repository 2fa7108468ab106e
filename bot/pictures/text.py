"""Text in any script with fonts that ship in this package, never the machine's.

A fresh machine has no system fonts, and members' names mix Latin, Cyrillic, CJK and emoji. Each
character goes to the first font that has it: Noto Sans, then Noto Sans CJK, then Noto Color
Emoji (subset copies in `fonts/`, SIL OFL 1.1); a character none of them has is drawn as its
compatibility form when they have that (a name in Unicode's styled letters, '𝓐𝓵𝓲𝓬𝓮', as 'Alice'),
else as '?', so no name shows as empty boxes. Fonts are FreeType objects that must not be shared between
threads, so every thread keeps its own.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont, features

log = logging.getLogger(__name__)

FONTS = Path(__file__).resolve().parent / "fonts"
LATIN = {False: FONTS / "NotoSans-Regular.ttf", True: FONTS / "NotoSans-Bold.ttf"}
CJK = FONTS / "NotoSansCJK-Regular.subset.woff2"
EMOJI = FONTS / "NotoColorEmoji.subset.ttf"
# The emoji font holds bitmaps of one size only; they are drawn at that size, then scaled.
EMOJI_PPEM = 27
EMOJI_BITMAP = 32
PLACEHOLDER = "?"
ELLIPSIS = "…"

# Characters that only modify the emoji before them (joiners, variation selectors, keycaps,
# tags); skin tones are dropped because the emoji font keeps the plain form only.
_JOINERS = frozenset([0x200D, 0xFE0E, 0xFE0F, 0x20E3, *range(0xE0020, 0xE0080)])
_SKIN_TONES = range(0x1F3FB, 0x1F400)
# Raqm shapes emoji sequences (flags, families) into one glyph; without it they draw apart.
_LAYOUT = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC


class Face(Enum):
    LATIN = "latin"
    CJK = "cjk"
    EMOJI = "emoji"


FALLBACK = (Face.LATIN, Face.CJK, Face.EMOJI)


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of text drawn with one font."""

    face: Face
    text: str


class _Fonts(threading.local):
    def __init__(self) -> None:
        self.fonts: dict[tuple[Face, int, bool], ImageFont.FreeTypeFont] = {}
        self.covered: dict[tuple[Face, str], bool] = {}
        self.notdef: dict[Face, bytes] = {}
        self.emoji: dict[tuple[str, int], Image.Image] = {}


_local = _Fonts()


def font(face: Face, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The font of `face` at `size` px for this thread (CJK and emoji have one weight)."""
    if face is Face.EMOJI:
        size, bold = EMOJI_PPEM, False
    elif face is Face.CJK:
        bold = False
    key = (face, size, bold)
    cached = _local.fonts.get(key)
    if cached is None:
        path = LATIN[bold] if face is Face.LATIN else CJK if face is Face.CJK else EMOJI
        cached = ImageFont.truetype(str(path), size, layout_engine=_LAYOUT)
        _local.fonts[key] = cached
    return cached


def has_glyph(face: Face, char: str) -> bool:
    """Whether `face` draws `char` as itself rather than as its .notdef box."""
    key = (face, char)
    known = _local.covered.get(key)
    if known is not None:
        return known
    probe = font(face, 24)
    if face is Face.EMOJI:
        left, top, right, bottom = probe.getbbox(char)
        known = right > left and bottom > top
    else:
        notdef = _local.notdef.get(face)
        if notdef is None:
            notdef = _local.notdef[face] = bytes(probe.getmask("\U0010fffd"))
        known = bytes(probe.getmask(char)) != notdef
    _local.covered[key] = known
    return known


def clean(text: str) -> str:
    """NFC, with control and format characters removed (but emoji joiners kept)."""
    text = unicodedata.normalize("NFC", text)
    return "".join(
        c
        for c in text
        if ord(c) in _JOINERS or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )


def runs(text: str) -> list[Run]:
    """Split cleaned text into runs by the font that has each character."""
    out: list[Run] = []
    face: Face | None = None
    buffer: list[str] = []
    joined = False  # the previous character was a zero-width joiner

    def flush() -> None:
        if face is not None and buffer:
            out.append(Run(face, "".join(buffer)))
        buffer.clear()

    for char in clean(text):
        code = ord(char)
        if code in _SKIN_TONES:
            continue
        if code in _JOINERS:
            if face is Face.EMOJI:
                buffer.append(char)
                joined = code == 0x200D
            continue
        if joined and has_glyph(Face.EMOJI, char):
            buffer.append(char)
            joined = False
            continue
        joined = False
        for chosen, glyph in _faces(char):
            if chosen is not face:
                flush()
                face = chosen
            buffer.append(glyph)
    flush()
    return out


def _face(char: str) -> Face | None:
    """The first font that has `char` (a space is the Latin font's), or None."""
    if char.isspace():
        return Face.LATIN
    return next((f for f in FALLBACK if has_glyph(f, char)), None)


def _faces(char: str) -> list[tuple[Face, str]]:
    """What draws `char`: itself in the first font that has it; else its compatibility form
    when the fonts have all of it (letters styled by Unicode, '𝓐' 'Ⓐ' 'ﬁ', as 'A' 'A' 'fi');
    else the placeholder."""
    face = _face(char)
    if face is not None:
        return [(face, " " if char.isspace() else char)]
    plain = unicodedata.normalize("NFKC", char)
    if plain != char:
        faces = [(_face(c), " " if c.isspace() else c) for c in plain]
        if all(f is not None for f, _ in faces):
            return [(f, c) for f, c in faces if f is not None]
    return [(Face.LATIN, PLACEHOLDER)]


def _emoji_scale(size: int) -> float:
    # Emoji a little taller than capitals, as chat clients draw them.
    return size * 1.15 / EMOJI_BITMAP


def _run_width(run: Run, size: int, bold: bool) -> float:
    width = font(run.face, size, bold).getlength(run.text)
    return width * _emoji_scale(size) if run.face is Face.EMOJI else width


def width(text: str, size: int, *, bold: bool = False) -> float:
    """The width in pixels `text` takes when drawn at `size`."""
    return sum(_run_width(r, size, bold) for r in runs(text))


def fit(text: str, size: int, max_width: float, *, bold: bool = False) -> str:
    """`text`, cut with an ellipsis where needed so it fits in `max_width` pixels."""
    if width(text, size, bold=bold) <= max_width:
        return text
    pieces = [c for r in runs(text) for c in _clusters(r)]
    low, high = 0, len(pieces)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if width("".join(pieces[:middle]) + ELLIPSIS, size, bold=bold) <= max_width:
            low = middle
        else:
            high = middle - 1
    return "".join(pieces[:low]).rstrip() + ELLIPSIS


def _clusters(run: Run) -> list[str]:
    """Characters, with an emoji's joiners and joined emoji kept together."""
    if run.face is not Face.EMOJI:
        return list(run.text)
    out: list[str] = []
    glue = False
    for char in run.text:
        if out and (glue or ord(char) in _JOINERS):
            out[-1] += char
        else:
            out.append(char)
        glue = ord(char) == 0x200D
    return out


def _emoji_image(text: str, size: int) -> Image.Image:
    key = (text, size)
    cached = _local.emoji.get(key)
    if cached is None:
        emoji = font(Face.EMOJI, size)
        wide = max(1, round(emoji.getlength(text)))
        image = Image.new("RGBA", (wide, EMOJI_BITMAP), (0, 0, 0, 0))
        ImageDraw.Draw(image).text((0, 0), text, font=emoji, embedded_color=True)
        scale = _emoji_scale(size)
        target = (max(1, round(wide * scale)), max(1, round(EMOJI_BITMAP * scale)))
        cached = image.resize(target, Image.Resampling.LANCZOS)
        if len(_local.emoji) > 1024:
            _local.emoji.clear()
        _local.emoji[key] = cached
    return cached


def draw(
    image: Image.Image,
    x: float,
    center_y: float,
    text: str,
    size: int,
    fill: tuple[int, int, int],
    *,
    bold: bool = False,
    align: Literal["left", "right", "center"] = "left",
    max_width: float | None = None,
) -> float:
    """Draw one line of `text` vertically centred on `center_y`; return its width.

    `x` is the left edge, the right edge or the centre, as `align` says. With `max_width` the
    text is cut with an ellipsis to fit.
    """
    if max_width is not None:
        text = fit(text, size, max_width, bold=bold)
    pieces = runs(text)
    total = sum(_run_width(r, size, bold) for r in pieces)
    left = x - total if align == "right" else x - total / 2 if align == "center" else x
    # Latin capitals are ~0.71 em tall: centre them, and everything shares their baseline.
    baseline = center_y + 0.36 * size
    pen = ImageDraw.Draw(image)
    for run in pieces:
        if run.face is Face.EMOJI:
            sprite = _emoji_image(run.text, size)
            top = round(baseline - 0.86 * sprite.height)
            image.paste(sprite, (round(left), top), sprite)
        else:
            pen.text(
                (left, baseline),
                run.text,
                font=font(run.face, size, bold),
                fill=fill,
                anchor="ls",
            )
        left += _run_width(run, size, bold)
    return total
