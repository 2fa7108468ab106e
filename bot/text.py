"""Text that members type, made safe to show and checked before it is stored.

Pure functions, no Discord import: the bot shows members' notes, links and typed names inside
embeds and error sentences, where Discord renders markdown. Without care a note such as
``[free nitro](https://evil.example)`` becomes a disguised link, ``@everyone`` a mention and a
video name with a backtick breaks the code span it is quoted in.

API
---
``escape_user_text(text, limit=None) -> str``
    Text for an embed or message body: markdown, masked links and mentions shown literally.
``code_span(text, limit=80) -> str``
    Text quoted as inline code (e.g. what the member typed, in an error), whatever it contains.
``parse_link(text) -> str | None``
    A link a member attaches to a pass: only http(s) to a public host; raises ``BadLink``.
``masked_link(label, url) -> str``
    ``[label](url)`` with the label escaped and the url unable to end the link early.
``BadLink``
    ``Exception`` whose ``message`` is the sentence to show the member.

Escape at render time, once: escaping is not idempotent (an escaped text escaped again shows
its backslashes), so store what the member typed and escape where it is shown.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

__all__ = [
    "LINK_MAX",
    "BadLink",
    "code_span",
    "escape_user_text",
    "masked_link",
    "parse_link",
]

LINK_MAX = 512
"""Longest link accepted, in characters (the slash option should use the same limit)."""

ELLIPSIS = "…"
_ZWSP = "\u200b"

# Every character Discord's markdown gives a meaning to somewhere: emphasis (* _), strike (~),
# code (`), spoilers (|), quotes (>), headings and subtext (# -), masked links ([ ] ( )),
# mentions, channels, emoji and timestamps (<), and the escape character itself. A backslash
# before any punctuation shows that character literally, so escaping a few more than strictly
# needed is harmless.
_MARKDOWN = re.compile(r"([\\*_~`|>#\-\[\]()<])")
# "1. item" at the start of a line is a numbered list.
_NUMBERED = re.compile(r"^(\s*\d+)\.", re.MULTILINE)
# @everyone and @here ping when a message allows it; a zero-width space breaks them.
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)


class BadLink(Exception):
    """A link we refuse; ``message`` is the one sentence the member sees."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def escape_user_text(text: str, limit: int | None = None) -> str:
    """``text`` as it should appear in an embed: literally, with no markdown, link or mention.

    With ``limit``, the result is at most ``limit`` characters: the member's text is cut (never
    in the middle of an escape) and ends with "…".
    """
    escaped = _escape(text)
    if limit is None or len(escaped) <= limit:
        return escaped
    if limit < 1:
        return ""
    # Grow the kept prefix of the raw text while its escaped form still fits.
    kept: list[str] = []
    size = len(ELLIPSIS)
    for char in text:
        piece = _escape(char)
        if size + len(piece) > limit:
            break
        kept.append(char)
        size += len(piece)
    # Escape the kept prefix as a whole so line-start rules (numbered lists) still apply,
    # then trim from the end in whole characters if that made it longer.
    while kept and len(_escape("".join(kept))) + len(ELLIPSIS) > limit:
        kept.pop()
    return _escape("".join(kept)) + ELLIPSIS


def _escape(text: str) -> str:
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _NUMBERED.sub(r"\1\\.", text)
    return _MASS_MENTION.sub(lambda m: "@" + _ZWSP + m[1], text)


def code_span(text: str, limit: int = 80) -> str:
    """``text`` as inline code that cannot be broken by what it contains.

    Discord has no escape inside code spans, so a backtick is shown as the look-alike "ˋ";
    line breaks become spaces (a code span is one line), @everyone/@here cannot ping, and text
    longer than ``limit`` is cut with "…". An empty text shows as ``(empty)``.
    """
    flat = " ".join(text.replace("`", "ˋ").split())
    flat = _MASS_MENTION.sub(lambda m: "@" + _ZWSP + m[1], flat)
    if not flat:
        return "(empty)"
    if len(flat) > limit:
        flat = flat[: max(limit - 1, 1)].rstrip() + ELLIPSIS
    return f"`{flat}`"


_EXAMPLE = "e.g. `https://github.com/you/micrograd`"
_HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def parse_link(text: str | None) -> str | None:
    """A link to keep with a pass, or ``None`` when nothing was given.

    Accepted: an ``http`` or ``https`` address whose host has a dot (``github.com``) or is a
    public IP address, with no spaces, at most ``LINK_MAX`` characters. Forgiven: surrounding
    spaces, the ``<...>`` Discord users put around links, and a missing scheme
    (``github.com/you/x`` becomes ``https://github.com/you/x``).

    Refused, with a sentence saying why (``BadLink``): other schemes (``javascript:``,
    ``mailto:``, ``file:``), spaces or control characters, a host without a dot such as
    ``localhost``, addresses that only work on the member's own machine or network (loopback,
    private and link-local IPs, ``.local``/``.localhost`` names): the group could not open
    them; and a user name or password before the host (``https://github.com@evil.example``
    leads to ``evil.example``).
    """
    if text is None or not text.strip():
        return None
    link = text.strip()
    if link.startswith("<") and link.endswith(">"):
        link = link[1:-1].strip()
    if len(link) > LINK_MAX:
        raise BadLink(f"That link has {len(link)} characters: links can have at most {LINK_MAX}.")
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in link):
        raise BadLink(f"A link cannot contain spaces: paste the full address, {_EXAMPLE}.")
    scheme = link.split(":", 1)[0].lower() if ":" in link else ""
    if "://" not in link and not re.match(r"^[a-z][a-z0-9+.-]*:(?!\d)", link, re.IGNORECASE):
        # No scheme: "github.com/you/x" (a port, "host:8080/x", is not a scheme either).
        link = "https://" + link
        scheme = "https"
    if scheme not in ("http", "https"):
        raise BadLink(f"Only web links (http or https) can be attached, {_EXAMPLE}.")
    try:
        parts = urlsplit(link)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise BadLink(f"That is not a web address I can read, {_EXAMPLE}.") from None
    if parts.username is not None or parts.password is not None:
        raise BadLink(
            "Links with a name before `@` in the address are not accepted: they can hide "
            f"where the link really goes. Paste the plain address, {_EXAMPLE}."
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise BadLink(f"That link has no website in it: paste the full address, {_EXAMPLE}.")
    _check_host(host)
    return link


def _check_host(host: str) -> None:
    local = (
        "That address only works on your own machine or network, so the group could not "
        f"open it. Share a public link, {_EXAMPLE}."
    )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if not address.is_global:
            raise BadLink(local)
        return
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise BadLink(f"{code_span(host)} is not a website name I can read, {_EXAMPLE}.") from None
    labels = ascii_host.split(".")
    if len(labels) < 2:
        if ascii_host == "localhost":
            raise BadLink(local)
        raise BadLink(f"{code_span(host)} is not a full website name (it needs a dot), {_EXAMPLE}.")
    if labels[-1] in ("local", "localhost", "internal", "lan", "home"):
        raise BadLink(local)
    if not all(_HOST_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise BadLink(f"{code_span(host)} is not a website name I can read, {_EXAMPLE}.")


def masked_link(label: str, url: str) -> str:
    """``[label](url)`` for an embed: the label escaped, the url unable to end the link early.

    ``url`` should come from ``parse_link``. Parentheses and spaces in it are percent-encoded,
    so ``https://en.wikipedia.org/wiki/Foo_(bar)`` stays one link.
    """
    safe_url = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    safe_url = safe_url.replace("<", "%3C").replace(">", "%3E")
    return f"[{escape_user_text(label)}]({safe_url})"
