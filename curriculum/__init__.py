"""The study roadmap: data files in this folder, their models and their loader."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from curriculum.check import Fault, check_text
from curriculum.models import Curriculum, Phase, Video
from curriculum.roadmaps import DuplicateRoadmap, Roadmaps
from curriculum.timemodel import SECOND_PASS_FACTOR, Pass

__all__ = [
    "DEFAULT_PATH",
    "SECOND_PASS_FACTOR",
    "Curriculum",
    "CurriculumError",
    "DuplicateRoadmap",
    "Fault",
    "Pass",
    "Phase",
    "Roadmaps",
    "Video",
    "default_curriculum",
    "load_curriculum",
]

DEFAULT_PATH = Path(__file__).with_name("ml_engineer.toml")


class CurriculumError(Exception):
    """A curriculum file that cannot be used. The message is one line (the file, how many
    faults, the first one); `faults` holds every one, each with its line."""

    def __init__(self, path: Path, faults: list[Fault], *, unreadable: bool = False) -> None:
        self.path = path
        self.faults = faults
        # A file that cannot be read is a wrong path (bad usage), not an invalid roadmap.
        self.unreadable = unreadable
        more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
        first = faults[0] if faults else "no faults"
        super().__init__(f"{path}: {first}{more}")


def load_curriculum(path: Path | str) -> Curriculum:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        fault = Fault(None, "", f"cannot read the file ({reason})")
        raise CurriculumError(path, [fault], unreadable=isinstance(exc, OSError)) from None
    curriculum, faults = check_text(text)
    if curriculum is None:
        raise CurriculumError(path, faults)
    return curriculum


@cache
def default_curriculum() -> Curriculum:
    """The bundled roadmap, loaded once per process."""
    return load_curriculum(DEFAULT_PATH)
