"""The roadmap as immutable, validated data."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Annotated

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from curriculum.timemodel import Pass, pass_minutes, video_minutes_both_passes

# Ids end up in slash-command choices and in the database, so keep them short and plain.
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Text = Annotated[str, Field(min_length=1, max_length=200)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Video(_Frozen):
    id: Id
    title: Text
    creator: Text
    url: str
    # Strict: `minutes = "19"` or `optional = "yes"` is a typo to report, not a value to coerce.
    minutes: Annotated[StrictInt, Field(gt=0, le=24 * 60)]
    optional: StrictBool = False
    first_pass: Text
    second_pass: Text

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        # Validate as a URL but keep the exact text: links are shown as the guide gives them.
        parsed = AnyHttpUrl(value)
        if parsed.scheme != "https" or not parsed.host:
            raise ValueError("must be an https:// link")
        return value

    def pass_minutes(self, which: Pass) -> float:
        return pass_minutes(self.minutes, which)

    @property
    def estimate_minutes(self) -> float:
        return video_minutes_both_passes(self.minutes)


class Phase(_Frozen):
    id: Id
    title: Text
    goal: Text
    guide_hours: tuple[float, float]
    videos: tuple[Video, ...] = Field(min_length=1)

    @field_validator("guide_hours")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1]:
            raise ValueError("must be [low, high] hours with 0 < low <= high")
        return value

    @property
    def estimate_minutes(self) -> float:
        return sum(v.estimate_minutes for v in self.videos)

    @property
    def video_minutes(self) -> int:
        return sum(v.minutes for v in self.videos)


class Curriculum(_Frozen):
    id: Id
    title: Text
    description: str = ""
    phases: tuple[Phase, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Curriculum:
        seen: set[str] = set()
        for p, phase in enumerate(self.phases):
            for v, video in enumerate(phase.videos):
                if video.id in seen:
                    raise _DuplicateId(f"phases.{p}.videos.{v}.id", video.id)
                seen.add(video.id)
        phase_ids = [phase.id for phase in self.phases]
        for p, pid in enumerate(phase_ids):
            if pid in phase_ids[:p]:
                raise _DuplicateId(f"phases.{p}.id", pid)
        return self

    def videos(self) -> Iterator[tuple[Phase, Video]]:
        for phase in self.phases:
            for video in phase.videos:
                yield phase, video

    @cached_property
    def _by_id(self) -> dict[str, tuple[int, Phase, Video]]:
        ordered = enumerate(self.videos(), start=1)
        return {video.id: (number, phase, video) for number, (phase, video) in ordered}

    def video(self, video_id: str) -> Video | None:
        found = self._by_id.get(video_id)
        return found[2] if found else None

    def number_of(self, video_id: str) -> int:
        """1-based position of a video on the whole roadmap."""
        return self._by_id[video_id][0]

    @property
    def video_count(self) -> int:
        return len(self._by_id)

    @property
    def estimate_minutes(self) -> float:
        return sum(phase.estimate_minutes for phase in self.phases)


class _DuplicateId(ValueError):
    """Raised inside validation; the loader turns it into a located error."""

    def __init__(self, location: str, value: str) -> None:
        super().__init__(f"duplicate id {value!r}")
        self.location = location
        self.value = value
