"""Every roadmap a bot offers, by id: the bundled ones, the operator's folder (`TWOPASS_ROADMAPS`)
and the default (`TWOPASS_CURRICULUM`, or the bundled roadmap), which new servers start on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from curriculum.models import Curriculum

BUNDLED_FOLDER = Path(__file__).parent


class DuplicateRoadmap(Exception):
    """Two of the operator's roadmap files share an id: a server could not say which it uses."""

    def __init__(self, path: Path, roadmap_id: str, other: Path) -> None:
        super().__init__(f"{path}: id {roadmap_id!r} is already used by {other}")
        self.path = path


class Roadmaps:
    """Roadmaps by id, with the default one. A server names its roadmap by id in its settings."""

    def __init__(self, default: Curriculum, others: Iterable[Curriculum] = ()) -> None:
        self.default = default
        self._by_id: dict[str, Curriculum] = {default.id: default}
        for roadmap in others:
            self._by_id.setdefault(roadmap.id, roadmap)

    def __iter__(self) -> Iterator[Curriculum]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, roadmap_id: str) -> Curriculum | None:
        return self._by_id.get(roadmap_id)

    def of(self, roadmap_id: str) -> Curriculum:
        """A server's roadmap. One whose file the operator removed falls back to the default
        (start-up logs which servers those are) rather than failing every command there."""
        return self._by_id.get(roadmap_id, self.default)

    def matching(self, text: str, limit: int = 25) -> list[Curriculum]:
        """Roadmaps whose id or title contains `text` (all when empty), default first."""
        wanted = text.strip().casefold()
        found = [r for r in self if wanted in r.id.casefold() or wanted in r.title.casefold()]
        return found[:limit]


def is_bundled(path: Path) -> bool:
    return path.resolve().parent == BUNDLED_FOLDER.resolve()


def roadmap_files(default_path: Path, folder: Path | None) -> list[Path]:
    """The files to load, the default first, then the bundled ones and the operator's folder,
    sorted so an error always names the same file. A file named twice (the default inside the
    folder) is loaded once."""
    paths = [default_path, *sorted(BUNDLED_FOLDER.glob("*.toml"))]
    if folder is not None:
        paths += sorted(folder.glob("*.toml"))
    seen: set[Path] = set()
    unique = []
    for path in paths:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def assemble(loaded: list[tuple[Path, Curriculum]]) -> Roadmaps:
    """The registry from (file, roadmap) pairs, the default's first. The operator's files
    (`TWOPASS_CURRICULUM`, the folder) may replace a bundled roadmap of the same id (an edited
    copy); two of their own files may not share an id."""
    operators: dict[str, tuple[Path, Curriculum]] = {}
    bundled: dict[str, Curriculum] = {}
    for path, roadmap in loaded:
        if is_bundled(path):
            bundled.setdefault(roadmap.id, roadmap)
        elif roadmap.id in operators:
            raise DuplicateRoadmap(path, roadmap.id, operators[roadmap.id][0])
        else:
            operators[roadmap.id] = (path, roadmap)
    by_id = bundled | {roadmap_id: roadmap for roadmap_id, (_, roadmap) in operators.items()}
    default = by_id[loaded[0][1].id]
    return Roadmaps(default, by_id.values())
