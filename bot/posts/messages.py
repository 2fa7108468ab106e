"""A scheduled post's messages as plain data: what is sent, and the mark that lets the bot
recognise each message in a channel's history after Discord's nonce window. No Discord here.

The mark is invisible: a run of zero-width characters (a start sign, then 32 bits of a hash of the
post and part, two bits a character) at the end of the last embed's footer, or of the text of a
message without embeds. Discord returns footers and text verbatim in the channel's history, which
the nonce is not; an embed's `url` or a button's `custom_id` would also come back, but the one
turns the title into a link and the other shows a button. Members never read bookkeeping such as
an ISO week or "2/4"."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

MARK_ROOM = 64  # characters a renderer leaves free in each message for its mark

_START = "\u2063"  # INVISIBLE SEPARATOR: where a mark begins
_DIGITS = (
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
)  # zero-width space, non-joiner, joiner, word joiner
_BITS = 32


@dataclass(frozen=True, slots=True)
class Upload:
    """A file a message carries: its name, bytes and alt text (the attachment's description)."""

    filename: str
    data: bytes
    description: str

    def __repr__(self) -> str:  # not kilobytes of PNG in a log line
        return f"Upload({self.filename!r}, {len(self.data)} bytes)"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message: text and embeds as Discord's JSON (already within Discord's limits), and
    at most one file. An embed shows the file with the image URL `attachment://<filename>`."""

    content: str = ""
    embeds: tuple[dict[str, Any], ...] = ()
    file: Upload | None = None

    def to_json(self) -> str:
        """Text and embeds, and the file's name and description; its bytes are stored apart."""
        data: dict[str, Any] = {"content": self.content, "embeds": list(self.embeds)}
        if self.file is not None:
            data["file"] = {"filename": self.file.filename, "description": self.file.description}
        return json.dumps(data)

    def without_file(self) -> Outgoing:
        """The message without its file, nor an embed's image that showed it (the text keeps
        every number in words)."""
        if self.file is None:
            return self
        shown = f"attachment://{self.file.filename}"
        embeds = tuple(
            {key: value for key, value in embed.items() if key != "image"}
            if (embed.get("image") or {}).get("url") == shown
            else embed
            for embed in self.embeds
        )
        return replace(self, embeds=embeds, file=None)

    @classmethod
    def from_json(cls, text: str, file_data: bytes | None = None) -> Outgoing:
        data = json.loads(text)
        described = data.get("file")
        upload = (
            Upload(str(described["filename"]), file_data, str(described.get("description") or ""))
            if described and file_data is not None
            else None
        )
        return cls(
            str(data.get("content") or ""),
            tuple(dict(e) for e in data.get("embeds", ())),
            upload,
        )


@dataclass(frozen=True, slots=True)
class Mark:
    """Which post and which of its messages (1 is the first) a message is."""

    kind: str
    period_key: str
    index: int

    def token(self) -> str:
        digest = hashlib.sha256(f"{self.kind}:{self.period_key}:{self.index}".encode()).digest()
        value = int.from_bytes(digest[: _BITS // 8], "big")
        digits = [_DIGITS[(value >> shift) & 3] for shift in range(_BITS - 2, -2, -2)]
        return _START + "".join(digits)

    def on(self, message: Outgoing) -> bool:
        """Whether `message` (as Discord returns it) carries this mark."""
        token = self.token()
        texts = [str((e.get("footer") or {}).get("text", "")) for e in message.embeds]
        texts.append(message.content)
        return any(text.endswith(token) for text in texts)


def stamped(message: Outgoing, mark: Mark) -> Outgoing:
    """`message` with `mark`: at the end of its last embed's footer, or of its text."""
    token = mark.token()
    if message.embeds:
        *rest, last = message.embeds
        footer = dict(last.get("footer") or {})
        footer["text"] = f"{footer.get('text', '')}{token}"
        return replace(message, embeds=(*rest, {**last, "footer": footer}))
    return replace(message, content=f"{message.content}{token}")


def visible(text: str) -> str:
    """`text` without any mark (what a member reads)."""
    return "".join(c for c in text if c != _START and c not in _DIGITS)


@dataclass(frozen=True, slots=True)
class Composed:
    """A post: its first message, and further parts (in a thread named `thread_name` if any)."""

    head: Outgoing
    parts: tuple[Outgoing, ...] = ()
    thread_name: str | None = None

    @property
    def messages(self) -> tuple[Outgoing, ...]:
        return (self.head, *self.parts)
