"""Check a roadmap file and report every fault at once, each with its line and in plain words.

`tomllib` gives no positions for values, so lines are found by scanning the text: the Nth
`[[phases]]` header, the Nth `[[phases.videos]]` under it, then `key =` inside that table. A
value written some other way (an inline table, say) falls back to its table's header line.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from curriculum.models import Curriculum, Phase, Video, _DuplicateId

# Where a table starts: () is the top level, (p,) the p-th phase, (p, v) a video of that phase.
Table = tuple[int, ...]

_MODELS: dict[int, type[BaseModel]] = {0: Curriculum, 1: Phase, 2: Video}
_HEADER = re.compile(r"^\s*\[\[\s*(phases(?:\s*\.\s*videos)?)\s*\]\]")
_ANY_HEADER = re.compile(r"^\s*\[")
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column \d+|end of document)\)$")


@dataclass(frozen=True)
class Fault:
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        place = f"line {self.line}: " if self.line else ""
        where = f"{self.where}: " if self.where else ""
        return f"{place}{where}{self.message}"


class _Lines:
    """Line numbers (1-based) of the tables and keys in a curriculum file's text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.tables: dict[Table, int] = {(): 1}
        # The line range of each table: from its header to the line before the next header.
        self._ranges: dict[Table, tuple[int, int]] = {}
        phase = video = -1
        current: Table = ()
        start = 0
        for number, line in enumerate(self.lines):
            if not _ANY_HEADER.match(line):
                continue
            self._ranges.setdefault(current, (start, number))
            match = _HEADER.match(line)
            if match is None:
                current, start = ("other", number), number  # type: ignore[assignment]
                continue
            if match[1] == "phases":
                phase, video = phase + 1, -1
                current = (phase,)
            else:
                video += 1
                current = (phase, video)
            self.tables[current] = number + 1
            start = number
        self._ranges.setdefault(current, (start, len(self.lines)))

    def of(self, table: Table, key: str | None) -> int | None:
        if key is not None and table in self._ranges:
            begin, end = self._ranges[table]
            pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
            for number in range(begin, end):
                if pattern.match(self.lines[number]):
                    return number + 1
        return self.tables.get(table)


def check_text(text: str) -> tuple[Curriculum | None, list[Fault]]:
    """The curriculum if the text is a valid one, else None and every fault found."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_POSITION.search(message)
        if found is None:
            line = None
        else:  # "at end of document": the last line
            line = int(found[1]) if found[1] else max(len(text.splitlines()), 1)
        return None, [Fault(line, "", f"not valid TOML: {_TOML_POSITION.sub('', message)}")]
    lines = _Lines(text)
    faults = _duplicates(raw, lines)
    try:
        curriculum = Curriculum.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        meant = _meant(errors)
        for error in errors:
            cause = (error.get("ctx") or {}).get("error")
            if isinstance(cause, _DuplicateId):
                continue  # reported above, every one of them
            if error["type"] == "too_short" and _raw_length(raw, error["loc"]):
                continue  # pydantic counts only the valid items; theirs are reported already
            if error["type"] == "missing" and _split(tuple(error["loc"]))[:2] in meant:
                continue  # misspelt: its "unknown key" fault names the line and the key meant
            faults.append(_fault(error, raw, lines))
        curriculum = None
    faults.sort(key=lambda fault: fault.line or 0)
    return (curriculum if not faults else None), faults


def _duplicates(raw: dict[str, Any], lines: _Lines) -> list[Fault]:
    faults: list[Fault] = []
    phases = raw.get("phases")
    if not isinstance(phases, list):
        return faults
    phase_ids: dict[str, int] = {}
    video_ids: dict[str, Table] = {}
    for p, phase in enumerate(phases):
        if not isinstance(phase, dict):
            continue
        pid = phase.get("id")
        if isinstance(pid, str):
            if pid in phase_ids:
                faults.append(
                    Fault(
                        lines.of((p,), "id"),
                        _where((p,), raw),
                        f"duplicate phase id {pid!r} (phase {phase_ids[pid] + 1} has it too)",
                    )
                )
            else:
                phase_ids[pid] = p
        videos = phase.get("videos")
        for v, video in enumerate(videos if isinstance(videos, list) else []):
            vid = video.get("id") if isinstance(video, dict) else None
            if not isinstance(vid, str):
                continue
            if vid in video_ids:
                first = video_ids[vid]
                faults.append(
                    Fault(
                        lines.of((p, v), "id"),
                        _where((p, v), raw),
                        f"duplicate video id {vid!r} (already used on line {lines.of(first, 'id')})",
                    )
                )
            else:
                video_ids[vid] = (p, v)
    return faults


def _meant(errors: list[ErrorDetails]) -> set[tuple[Table, str]]:
    """By table, the known keys that an unknown key there is probably a misspelling of."""
    meant = set()
    for error in errors:
        table, key, _ = _split(tuple(error["loc"]))
        if error["type"] == "extra_forbidden" and key is not None:
            close = _close_key(_MODELS[len(table)], key)
            if close is not None:
                meant.add((table, close))
    return meant


def _raw_length(raw: object, location: tuple[int | str, ...]) -> int:
    node: Any = raw
    for part in location:
        if isinstance(part, str) and isinstance(node, dict):
            node = node.get(part)
        elif isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
        else:
            return 0
    return len(node) if isinstance(node, list) else 0


def _split(location: tuple[int | str, ...]) -> tuple[Table, str | None, tuple[int | str, ...]]:
    """('phases', 1, 'videos', 0, 'minutes') -> table (1, 0), key 'minutes', rest ()."""
    table: list[int] = []
    parts = list(location)
    while len(parts) >= 2 and parts[0] in ("phases", "videos") and isinstance(parts[1], int):
        table.append(parts[1])
        parts = parts[2:]
    key = parts[0] if parts and isinstance(parts[0], str) else None
    return tuple(table), key, tuple(parts[1:])


def _where(table: Table, raw: object) -> str:
    """(1, 0) -> "phases[2] 'implementation' > videos[1] 'micrograd'": the item, with its id."""
    parts: list[str] = []
    node: Any = raw
    for depth, index in enumerate(table):
        name = "phases" if depth == 0 else "videos"
        items = node.get(name) if isinstance(node, dict) else None
        node = items[index] if isinstance(items, list) and index < len(items) else None
        label = f"{name}[{index + 1}]"
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            label += f" {node['id']!r}"
        parts.append(label)
    return " > ".join(parts)


def _fault(error: ErrorDetails, raw: object, lines: _Lines) -> Fault:
    table, key, rest = _split(tuple(error["loc"]))
    kind = error["type"]
    line = lines.of(table, None if kind == "missing" else key)
    return Fault(line, _where(table, raw), _words(error, table, key, rest))


def _words(error: ErrorDetails, table: Table, key: str | None, rest: tuple[int | str, ...]) -> str:
    """Say what is wrong as a person would, never in pydantic's words."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    model = _MODELS[len(table)]
    if key is None:
        return "expected a table of keys here"
    if kind == "missing":
        return f"missing key {key!r}"
    if kind == "extra_forbidden":
        close = _close_key(model, key)
        hint = (
            f" (did you mean {close!r}?)" if close else f" (known keys: {', '.join(_known(model))})"
        )
        return f"unknown key {key!r}{hint}"
    if key == "id" and kind in ("string_pattern_mismatch", "string_too_short"):
        return (
            f"id {value!r} must be 1-40 lowercase letters, digits and dashes, "
            "starting with a letter or digit"
        )
    if key == "url":
        return f"url {value!r} must be an https:// link"
    if key == "guide_hours":
        return "guide_hours must be [low, high] with 0 < low <= high, e.g. [10, 15]"
    if key in ("phases", "videos") and kind == "too_short":
        return f"{key!r} needs at least one entry"
    if kind in ("bool_type", "bool_parsing"):
        return f"{key!r} must be true or false (without quotes), not {value!r}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{key!r} must be a whole number (without quotes), not {value!r}"
    if kind == "greater_than":
        return f"{key!r} must be more than {ctx.get('gt')}, not {value!r}"
    if kind == "less_than_equal":
        return f"{key!r} must be at most {ctx.get('le')}, not {value!r}"
    if kind == "string_type":
        return f"{key!r} must be text in quotes"
    if kind == "string_too_short":
        return f"{key!r} is empty"
    if kind == "string_too_long":
        return f"{key!r} is longer than {ctx.get('max_length')} characters"
    if kind in ("list_type", "tuple_type") or rest:
        return f"{key!r} has the wrong shape"
    return f"{key!r} is not valid: {error['msg'].removeprefix('Value error, ')}"


def _known(model: type[BaseModel]) -> list[str]:
    return [name for name in model.model_fields if name not in _nested(model)]


def _close_key(model: type[BaseModel], key: str) -> str | None:
    """The known key `key` is probably a misspelling of, if any."""
    close = difflib.get_close_matches(key, _known(model), n=1)
    return close[0] if close else None


def _nested(model: type[BaseModel]) -> set[str]:
    # Arrays of tables are written as [[...]] headers, not as keys of the table above them.
    return {"phases"} if model is Curriculum else {"videos"} if model is Phase else set()
