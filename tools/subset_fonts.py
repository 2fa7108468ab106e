"""Rebuild the fonts in bot/pictures/fonts/ from Debian's Noto packages.

    apt-get install fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji
    pip install fonttools brotli
    python tools/subset_fonts.py

The full fonts weigh ~50 MB; members' names need far less. Noto Sans keeps Latin, Greek,
Cyrillic and common symbols; Noto Sans CJK keeps kana, the hanzi/kanji of GB 2312, Big5 level 1
and JIS X 0208 and the 2,350 hangul syllables of KS X 1001 (what names use); Noto Color Emoji
keeps every emoji but skin-tone variants, its bitmaps scaled from 136x128 to 34x32 (they are
drawn at ~24 px). A character outside these sets is drawn as a visible placeholder.
"""

from __future__ import annotations

import io
import itertools
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from PIL import Image

SOURCE = Path("/usr/share/fonts")
OUT = Path(__file__).resolve().parent.parent / "bot" / "pictures" / "fonts"

LATIN = [
    (0x20, 0x7E),
    (0xA0, 0x36F),  # Latin-1, Latin Extended-A/B, IPA, spacing and combining marks
    (0x370, 0x3FF),  # Greek
    (0x400, 0x52F),  # Cyrillic and its supplement
    (0x1E00, 0x1FFF),  # Latin Extended Additional (Vietnamese), Greek Extended
    (0x2000, 0x206F),  # punctuation
    (0x20A0, 0x20CF),  # currency
    (0x2100, 0x218F),  # letterlike, number forms
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators
    (0x25A0, 0x25FF),  # geometric shapes
]

EMOJI_SCALE = 4


def _legacy(encoding: str, leads: range, trails: list[int]) -> set[str]:
    """The characters a legacy double-byte encoding can spell: a list of what is common."""
    out: set[str] = set()
    for lead, trail in itertools.product(leads, trails):
        try:
            out.update(bytes([lead, trail]).decode(encoding))
        except UnicodeDecodeError:
            continue
    return out


def _cjk() -> set[str]:
    euc_trail = list(range(0xA1, 0xFF))
    big5_trail = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
    han = (
        _legacy("gb2312", range(0xB0, 0xF8), euc_trail)
        | _legacy("big5", range(0xA4, 0xC7), big5_trail)
        | _legacy("euc_jp", range(0xB0, 0xF5), euc_trail)
    )
    han = {c for c in han if 0x4E00 <= ord(c) <= 0x9FFF}
    hangul = {
        c for c in _legacy("euc_kr", range(0xB0, 0xC9), euc_trail) if 0xAC00 <= ord(c) <= 0xD7A3
    }
    kana_and_marks = {
        chr(c)
        for c in itertools.chain(
            range(0x3000, 0x3100), range(0x3130, 0x3190), range(0xFF00, 0xFFF0)
        )
    }
    return han | hangul | kana_and_marks


def _subset(font: TTFont, unicodes: list[int], features: list[str]) -> None:
    options = subset.Options()
    options.layout_features = features
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)


def latin(weight: str) -> None:
    font = TTFont(SOURCE / "truetype/noto" / f"NotoSans-{weight}.ttf")
    unicodes = [c for low, high in LATIN for c in range(low, high + 1)]
    _subset(font, unicodes, ["kern", "liga", "mark", "mkmk", "ccmp", "locl"])
    font.save(OUT / f"NotoSans-{weight}.ttf")


def cjk() -> None:
    # Index 0 of the collection is the Japanese face; its hanzi/hangul shapes serve all three.
    font = TTFont(SOURCE / "opentype/noto/NotoSansCJK-Regular.ttc", fontNumber=0)
    _subset(font, sorted(ord(c) for c in _cjk()), [])
    font.flavor = "woff2"
    font.save(OUT / "NotoSansCJK-Regular.subset.woff2")


def emoji() -> None:
    font = TTFont(SOURCE / "truetype/noto/NotoColorEmoji.ttf")
    unicodes = [c for c in font.getBestCmap() if not 0x1F3FB <= c <= 0x1F3FF]
    _subset(font, unicodes, ["*"])
    strike = font["CBLC"].strikes[0]
    sizes = strike.bitmapSizeTable
    for glyph in font["CBDT"].strikeData[0].values():
        metrics = glyph.metrics
        image = Image.open(io.BytesIO(glyph.imageData)).convert("RGBA")
        width = max(1, round(metrics.width / EMOJI_SCALE))
        height = max(1, round(metrics.height / EMOJI_SCALE))
        small = image.resize((width, height), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        small.quantize(colors=48, method=Image.Quantize.FASTOCTREE).save(
            buffer, "PNG", optimize=True
        )
        glyph.imageData = buffer.getvalue()
        metrics.width, metrics.height = width, height
        metrics.BearingX = round(metrics.BearingX / EMOJI_SCALE)
        metrics.BearingY = round(metrics.BearingY / EMOJI_SCALE)
        metrics.Advance = round(metrics.Advance / EMOJI_SCALE)
    sizes.ppemX = sizes.ppemY = round(sizes.ppemX / EMOJI_SCALE)
    for lines in (sizes.hori, sizes.vert):
        for field in ("ascender", "descender", "widthMax"):
            setattr(lines, field, round(getattr(lines, field) / EMOJI_SCALE))
    font.save(OUT / "NotoColorEmoji.subset.ttf")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    latin("Regular")
    latin("Bold")
    cjk()
    emoji()
    for path in sorted(OUT.iterdir()):
        print(f"{path.name:40} {path.stat().st_size / 1e6:6.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
