"""Pictures where members would rather look than read: progress card, cohort map, week chart.

Every render function is pure: plain frozen data in (see `model`), a `Picture` out (PNG bytes,
alt text within Discord's 1,024-character attachment description, and the size). Nothing here
imports discord or the database. Rendering takes CPU, so the bot awaits
`render_in_thread(render_cohort_map, page)` rather than calling it on the event loop.
"""

from bot.pictures.aio import render_in_thread
from bot.pictures.checkin import render_checkin_chart
from bot.pictures.cohort import render_cohort_map
from bot.pictures.model import (
    ALT_TEXT_LIMIT,
    CheckinChart,
    CohortMap,
    DayPasses,
    MemberHours,
    MemberRow,
    PassState,
    PhaseState,
    Picture,
    ProgressCard,
    VideoColumn,
    VideoState,
)
from bot.pictures.progress import render_progress_card

__all__ = [
    "ALT_TEXT_LIMIT",
    "CheckinChart",
    "CohortMap",
    "DayPasses",
    "MemberHours",
    "MemberRow",
    "PassState",
    "PhaseState",
    "Picture",
    "ProgressCard",
    "VideoColumn",
    "VideoState",
    "render_checkin_chart",
    "render_cohort_map",
    "render_in_thread",
    "render_progress_card",
]
