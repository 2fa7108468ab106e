"""A scheduled post's messages as plain data: what is sent, and the mark that lets the bot
recognise each message in a channel's history after Discord's nonce window. No Discord here."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

MARK_ROOM = 64  # characters a renderer leaves free in each message for its mark

_MARK = re.compile(r"(?:^| · )twopass · (daily|checkin) (\S+)(?: · (\d+)/\d+)?$")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message: text and embeds as Discord's JSON (already within Discord's limits)."""

    content: str = ""
    embeds: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Mark:
    """Which post and which of its messages (1 is the first) a message is, written in the message
    so the bot can recognise it in the channel's history: the footer of its last embed, or the last
    line of its text when it has no embed, e.g. `twopass · checkin 2026-W10 · 2/4`."""

    kind: str
    period_key: str
    index: int

    def text(self, total: int) -> str:
        base = f"twopass · {self.kind} {self.period_key}"
        return base if total == 1 else f"{base} · {self.index}/{total}"

    def on(self, message: Outgoing) -> bool:
        """Whether `message` (as Discord returns it) carries this mark."""
        texts = [str(e.get("footer", {}).get("text", "")) for e in message.embeds]
        texts.append(message.content.rpartition("\n")[2].removeprefix("-# "))
        for text in texts:
            found = _MARK.search(text)
            if found and (found[1], found[2], int(found[3] or 1)) == (
                self.kind,
                self.period_key,
                self.index,
            ):
                return True
        return False


def stamped(message: Outgoing, text: str) -> Outgoing:
    """`message` with a mark's text: in the footer of its last embed, or as a small last line."""
    if message.embeds:
        *rest, last = message.embeds
        footer = dict(last.get("footer", {}))
        footer["text"] = f"{footer['text']} · {text}" if footer.get("text") else text
        return replace(message, embeds=(*rest, {**last, "footer": footer}))
    line = f"-# {text}"
    return replace(message, content=f"{message.content}\n{line}" if message.content else line)


@dataclass(frozen=True, slots=True)
class Composed:
    """A post: its first message, and further parts (in a thread named `thread_name` if any)."""

    head: Outgoing
    parts: tuple[Outgoing, ...] = ()
    thread_name: str | None = None
