"""Building blocks for every feature's embeds, always within Discord's limits."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date

import discord

# Discord's embed limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
EMBED_TOTAL_MAX = 6000
ALT_TEXT_MAX = 1024  # an attachment's description (Discord's alt text)


MESSAGE_EMBEDS_MAX = 10  # embeds in one message (their characters count against EMBED_TOTAL_MAX)

GREEN = discord.Colour(0x2ECC71)
BLUE = discord.Colour(0x3498DB)
GOLD = discord.Colour(0xF1C40F)
GREY = discord.Colour(0x95A5A6)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def embed(title: str, description: str = "", colour: discord.Colour = BLUE) -> discord.Embed:
    return discord.Embed(
        title=clip(title, TITLE_MAX), description=clip(description, DESCRIPTION_MAX), colour=colour
    )


def add_field(
    target: discord.Embed,
    name: str,
    value: str,
    inline: bool = False,
    budget: int = EMBED_TOTAL_MAX,
) -> bool:
    """Add a field if the embed still has room within `budget` characters; False once full."""
    name, value = clip(name, FIELD_NAME_MAX), clip(value or "-", FIELD_VALUE_MAX)
    if len(target.fields) >= FIELDS_MAX or len(target) + len(name) + len(value) > budget:
        return False
    target.add_field(name=name, value=value, inline=inline)
    return True


def messages_of(embeds: Iterable[discord.Embed]) -> list[list[discord.Embed]]:
    """Embeds grouped, in order, into as few messages as Discord's limits allow: at most 10 a
    message and 6000 characters across them (each embed is within its own limits already)."""
    out: list[list[discord.Embed]] = []
    size = 0
    for item in embeds:
        if not out or len(out[-1]) == MESSAGE_EMBEDS_MAX or size + len(item) > EMBED_TOTAL_MAX:
            out.append([])
            size = 0
        out[-1].append(item)
        size += len(item)
    return out


def picture(png: bytes, filename: str, alt: str, shown_in: discord.Embed) -> discord.File:
    """A PNG as an attachment with its alt text, shown as `shown_in`'s image (Discord draws an
    embed's image under its text, so the numbers read first and the picture shows them)."""
    shown_in.set_image(url=f"attachment://{filename}")
    return discord.File(io.BytesIO(png), filename=filename, description=clip(alt, ALT_TEXT_MAX))


def mention(user_id: int) -> str:
    return f"<@{user_id}>"


def mentions(user_ids: Iterable[int], budget: int = 320) -> str:
    """Whole mentions that fit in `budget` characters, then "+N more": a mention cut in half
    shows as raw text."""
    ids = list(user_ids)
    shown: list[str] = []
    used = 0
    for index, user_id in enumerate(ids):
        piece = mention(user_id)
        rest = len(ids) - index - 1
        reserve = len(f" +{rest} more") if rest else 0
        if used + len(piece) + 1 + reserve > budget:
            return " ".join(shown) + f" +{len(ids) - index} more"
        shown.append(piece)
        used += len(piece) + 1
    return " ".join(shown)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "es" if word.endswith("s") else "s")


def hours(minutes: float) -> str:
    return f"{minutes / 60:.1f} h"


def day_label(day: date | None) -> str:
    return day.strftime("%a %d %b %Y") if day else "-"
