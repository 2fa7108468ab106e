"""Forgiving study streaks: days in a row with a logged pass, with freezes that cover a missed day.

Pure module (no Discord, no database, no clock): it takes the member's study days and today,
both as dates in the member's own timezone.

API
---
``streak_of(study_days, today) -> Streak``
    The member's streak from their study days (local dates, any order, repeats allowed).
``Streak``
    Frozen dataclass: ``current``, ``best``, ``freezes_held``, ``last_studied``,
    ``studied_today``, and the property ``alive``.
``streak_sentence(streak, today) -> str``
    What to show: ``"5-day streak, 1 freeze saved"``, or when it is 0 ``"last studied Tue 3 Mar;
    log a pass today to start a new streak"``.
``FREEZE_EVERY``, ``MAX_FREEZES``
    7 and 2: the rules below.

The rules
---------
- **Length.** ``current`` counts study days: days with at least one logged pass, in a row up to
  today. A day covered by a freeze keeps the streak alive but does not add to its length:
  studying Mon-Sun, missing Mon (frozen) and studying Tue makes an 8-day streak, not 9.
- **Today is never a miss.** Until the member's day is over, today without a pass breaks
  nothing: the streak shown is the one that ended yesterday, and a pass today extends it.
- **Earning.** Every ``FREEZE_EVERY`` (7) study days in a row earn one freeze. A missed day,
  frozen or not, starts that count again. A member holds at most ``MAX_FREEZES`` (2); one earned
  beyond that is lost.
- **Spending.** Each missed day (a past day with no pass) spends one freeze and the streak goes
  on. A freeze is spent only when it saves the streak: a gap of more missed days than the
  freezes held breaks the streak (``current`` becomes 0) and spends none, so those freezes
  stay for the next streak.
- **Days after today count as today.** After a timezone change a pass may be dated tomorrow in
  the member's new zone; it counts as today's, so a streak is never 0 right after logging.
- ``best`` is the longest streak ever reached, counted the same way (current included).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.wording import plural, short_date

__all__ = ["FREEZE_EVERY", "MAX_FREEZES", "Streak", "streak_of", "streak_sentence"]

FREEZE_EVERY = 7
MAX_FREEZES = 2


@dataclass(frozen=True, slots=True)
class Streak:
    current: int  # study days in the streak that is still alive; 0 when there is none
    best: int  # the longest streak ever, current included
    freezes_held: int  # 0 to MAX_FREEZES, after any spent on missed days up to yesterday
    last_studied: date | None  # the latest study day (days after today count as today)
    studied_today: bool

    @property
    def alive(self) -> bool:
        return self.current > 0


def streak_of(study_days: Iterable[date], today: date) -> Streak:
    """The member's streak on ``today``, from the local dates they studied (see the rules above)."""
    days = sorted({min(day, today) for day in study_days})
    run = best = freezes = in_row = 0
    previous: date | None = None
    for day in days:
        if previous is not None:
            missed = (day - previous).days - 1
            if missed:
                run, freezes = _after_gap(run, freezes, missed)
                in_row = 0
        run += 1
        in_row += 1
        if in_row == FREEZE_EVERY:
            in_row = 0
            freezes = min(freezes + 1, MAX_FREEZES)
        best = max(best, run)
        previous = day
    if previous is not None and previous < today:
        # Missed days since the last study day, today not included: it is not over yet.
        run, freezes = _after_gap(run, freezes, (today - previous).days - 1)
    return Streak(
        current=run,
        best=best,
        freezes_held=freezes,
        last_studied=previous,
        studied_today=previous == today,
    )


def _after_gap(run: int, freezes: int, missed: int) -> tuple[int, int]:
    """(run, freezes) after ``missed`` days without a pass: all frozen, or the streak broken."""
    if missed <= 0:
        return run, freezes
    if missed <= freezes:
        return run, freezes - missed
    return 0, freezes


def streak_sentence(streak: Streak, today: date) -> str:
    """The streak in a few kind words, as a clause (lower case unless it starts with a number).

    - alive, studied today: ``"5-day streak, 1 freeze saved"``
    - alive, not yet today: ``"5-day streak, 1 freeze saved; log a pass today to make it 6"``
    - broken: ``"last studied Tue 3 Mar; log a pass today to start a new streak"``
      (with the year when it was another year; freezes still held are mentioned)
    - no pass ever: ``"no passes yet; log one today to start a streak"``

    It never says "broken", "lost" or "behind": it says what to do next.
    """
    saved = f", {plural(streak.freezes_held, 'freeze')} saved" if streak.freezes_held else ""
    if streak.alive:
        text = f"{streak.current}-day streak{saved}"
        if not streak.studied_today:
            text += f"; log a pass today to make it {streak.current + 1}"
        return text
    if streak.last_studied is None:
        return "no passes yet; log one today to start a streak"
    held = f" ({plural(streak.freezes_held, 'freeze')} saved)" if streak.freezes_held else ""
    return (
        f"last studied {short_date(streak.last_studied, today)}; "
        f"log a pass today to start a new streak{held}"
    )
