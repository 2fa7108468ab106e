"""The study roadmap: data files in this folder, their models and their loader."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from pydantic import ValidationError

from curriculum.models import Curriculum, Phase, Video, _DuplicateId
from curriculum.timemodel import SECOND_PASS_FACTOR, Pass

__all__ = [
    "DEFAULT_PATH",
    "SECOND_PASS_FACTOR",
    "Curriculum",
    "CurriculumError",
    "Pass",
    "Phase",
    "Video",
    "default_curriculum",
    "load_curriculum",
]

DEFAULT_PATH = Path(__file__).with_name("ml_engineer.toml")


class CurriculumError(Exception):
    """A curriculum file that cannot be used; the message names the file, item and field."""


def load_curriculum(path: Path | str) -> Curriculum:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CurriculumError(f"{path}: cannot read the file ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CurriculumError(f"{path}: not valid TOML ({exc})") from None
    try:
        return Curriculum.model_validate(raw)
    except ValidationError as exc:
        raise CurriculumError(f"{path}: {_describe(exc, raw)}") from None


@cache
def default_curriculum() -> Curriculum:
    """The bundled roadmap, loaded once per process."""
    return load_curriculum(DEFAULT_PATH)


def _describe(exc: ValidationError, raw: object) -> str:
    """One line for the first problem: where it is (with the item's id) and what is wrong."""
    error = exc.errors()[0]
    location: tuple[int | str, ...] = tuple(error["loc"])
    message = error["msg"]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, _DuplicateId):
        location = tuple(
            int(part) if part.isdigit() else part for part in cause.location.split(".")
        )
        message = str(cause)
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{_item_path(location, raw)}: {message}"


def _item_path(location: tuple[int | str, ...], raw: object) -> str:
    """Render ('phases', 1, 'videos', 0, 'minutes') as "phases[2] 'implementation' > videos[1]
    'micrograd' > field 'minutes'" so a person can find the line in the file."""
    parts: list[str] = []
    node = raw
    pending = ""
    for key in location:
        if isinstance(key, int):
            node = node[key] if isinstance(node, list) and key < len(node) else None
            label = f"{pending}[{key + 1}]"
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                label += f" {node['id']!r}"
            parts.append(label)
            pending = ""
        else:
            if pending:
                parts.append(f"field {pending!r}")
            node = node.get(key) if isinstance(node, dict) else None
            pending = key
    if pending:
        parts.append(f"field {pending!r}")
    return " > ".join(parts) if parts else "top level"
