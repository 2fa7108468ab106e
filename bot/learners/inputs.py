"""Checking what a learner types: the day of a pass, a link, a note, a pace."""

from __future__ import annotations

from datetime import date, timedelta

from bot import text
from bot.errors import BadInput

MAX_BACKDATE_DAYS = 7
NOTE_MAX = 300
LINK_MAX = text.LINK_MAX
PACE_RANGE = (1, 60)  # hours per week; the slash option enforces it too
SPENT_RANGE = (1, 1440)  # minutes a pass really took: one day at most


def parse_study_date(text: str | None, today: date) -> date:
    """The day a pass was studied: today by default, up to a week back, never in the future."""
    if text is None or not text.strip() or text.strip().lower() == "today":
        return today
    cleaned = text.strip().lower()
    if cleaned == "yesterday":
        day = today - timedelta(days=1)
    else:
        try:
            day = date.fromisoformat(cleaned)
        except ValueError:
            raise BadInput(
                f"`{text}` is not a date: use `YYYY-MM-DD`, `today` or `yesterday`."
            ) from None
    if day > today:
        raise BadInput(
            f"{day.isoformat()} is in the future: log a pass on or after the day you study it."
        )
    if (today - day).days > MAX_BACKDATE_DAYS:
        raise BadInput(
            f"{day.isoformat()} is more than {MAX_BACKDATE_DAYS} days ago: passes can be back-dated "
            f"by up to {MAX_BACKDATE_DAYS} days."
        )
    return day


def parse_link(typed: str | None) -> str | None:
    """A public http(s) link, checked by `bot.text` (the one definition)."""
    try:
        return text.parse_link(typed)
    except text.BadLink as refused:
        raise BadInput(refused.message) from None


def parse_note(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    note = " ".join(text.split())
    if len(note) > NOTE_MAX:
        raise BadInput(f"Keep the note to {NOTE_MAX} characters (it has {len(note)}).")
    return note


def check_pace(hours: float) -> float:
    low, high = PACE_RANGE
    if not low <= hours <= high:
        raise BadInput(f"Pace must be between {low} and {high} hours a week.")
    return float(hours)


def check_spent_minutes(minutes: int | None) -> int | None:
    """The time a pass really took, in minutes, as the member reports it (optional)."""
    if minutes is None:
        return None
    low, high = SPENT_RANGE
    if not low <= minutes <= high:
        raise BadInput(f"Minutes must be between {low} and {high} (one day).")
    return int(minutes)
