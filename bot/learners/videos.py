"""Finding a video from what a member typed: its id, its number on the roadmap, or title words."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot.learners.errors import UnknownVideo
from curriculum import Curriculum, Video

MAX_CHOICES = 25  # Discord's limit for autocomplete results
CHOICE_NAME_MAX = 100  # Discord's limit for a choice's name


@dataclass(frozen=True, slots=True)
class Choice:
    name: str
    value: str


def _label(curriculum: Curriculum, video: Video) -> str:
    bonus = ", bonus" if video.optional else ""
    label = f"{curriculum.number_of(video.id)}. {video.title} ({video.minutes} min{bonus})"
    return label if len(label) <= CHOICE_NAME_MAX else label[: CHOICE_NAME_MAX - 1] + "…"


def _words(text: str) -> list[str]:
    return [
        word for word in "".join(c if c.isalnum() else " " for c in text.lower()).split() if word
    ]


def matches(curriculum: Curriculum, typed: str, *, whole_words: bool = False) -> list[Video]:
    """Videos that fit what was typed, best first; everything in order when nothing was typed.
    Suggestions match fragments anywhere; a pass is only logged (`whole_words`) on a video
    whose words begin with what was typed."""
    query = typed.strip().lower()
    videos = [video for _, video in curriculum.videos()]
    if not query:
        return videos
    if query.isascii() and query.isdigit():  # "²" is a digit to isdigit, not to int()
        exact = [v for v in videos if curriculum.number_of(v.id) == int(query)]
        return exact + [
            v
            for v in videos
            if str(curriculum.number_of(v.id)).startswith(query) and v not in exact
        ]
    words = _words(query)
    scored: list[tuple[int, int, Video]] = []
    for video in videos:
        haystack = f"{video.id} {video.title.lower()} {video.creator.lower()}"
        if video.id == query:
            rank = 0
        elif video.id.startswith(query):
            rank = 1
        elif _fits(words, haystack, whole_words):
            rank = 2
        else:
            continue
        scored.append((rank, curriculum.number_of(video.id), video))
    return [video for _, _, video in sorted(scored, key=lambda item: item[:2])]


def _fits(words: list[str], haystack: str, whole_words: bool) -> bool:
    if not whole_words:
        return all(word in haystack for word in words)
    there = _words(haystack)
    return all(any(word_there.startswith(word) for word_there in there) for word in words)


def choices(curriculum: Curriculum, typed: str) -> list[Choice]:
    return [Choice(_label(curriculum, v), v.id) for v in matches(curriculum, typed)[:MAX_CHOICES]]


def resolve_held(typed: str, held_ids: set[str]) -> str | None:
    """The id of a video the member holds a pass on that is no longer on the roadmap, when
    typed exactly (any case)."""
    query = typed.strip().lower()
    return next((video_id for video_id in held_ids if video_id.lower() == query), None)


def resolve(curriculum: Curriculum, typed: str) -> Video:
    """The one video meant, or UnknownVideo with the nearest ids."""
    query = typed.strip().lower()
    found = curriculum.video(query)
    if found:
        return found
    if query.isascii() and query.isdigit() and 1 <= int(query) <= curriculum.video_count:
        return next(v for _, v in curriculum.videos() if curriculum.number_of(v.id) == int(query))
    candidates = matches(curriculum, query, whole_words=True)
    if len(candidates) == 1:
        return candidates[0]
    suggestions = [f"`{v.id}`" for v in (candidates or matches(curriculum, query))[:3]]
    if not suggestions:
        ids = [v.id for _, v in curriculum.videos()]
        suggestions = [f"`{i}`" for i in difflib.get_close_matches(query, ids, n=3, cutoff=0.4)]
    raise UnknownVideo(typed.strip()[:50], suggestions)
