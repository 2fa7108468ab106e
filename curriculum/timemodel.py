"""How long the two passes of a video take, following the guide.

A first pass only watches, so it costs the video's length. A second pass is active (notes,
typing every line, breaking things) and the guide puts it at 2-3x the video: we take the middle.
Everything that estimates hours, plans a member's pace or awards points goes through here.
"""

from __future__ import annotations

from enum import IntEnum

SECOND_PASS_FACTOR = 2.5


class Pass(IntEnum):
    FIRST = 1
    SECOND = 2

    @property
    def label(self) -> str:
        return "first" if self is Pass.FIRST else "second"


def pass_minutes(video_minutes: int, which: Pass) -> float:
    """Estimated study minutes for one pass over a video of the given length."""
    return float(video_minutes) if which is Pass.FIRST else video_minutes * SECOND_PASS_FACTOR


def video_minutes_both_passes(video_minutes: int) -> float:
    return pass_minutes(video_minutes, Pass.FIRST) + pass_minutes(video_minutes, Pass.SECOND)
