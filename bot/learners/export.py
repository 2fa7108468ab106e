"""A member's (or a whole server's) data as files: a CSV for spreadsheets and a JSON with
everything, within Discord's upload limit. Plain Python: no Discord, no database."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.errors import UserError
from bot.learners.records import HistoryEntry, LoggedPass, Member
from bot.server.records import GuildSettings
from curriculum import Curriculum, Pass

FORMAT = "twopass-export-1"
# Discord refuses a request whose files add up to more than this in a server without boosts.
UPLOAD_LIMIT = 10 * 1024 * 1024
# Room for the rest of the request (the message's JSON, multipart headers).
_HEADROOM = 64 * 1024


@dataclass(frozen=True, slots=True)
class EditRow:
    """A note or link corrected after the pass was logged, with what it said before."""

    id: int
    user_id: int
    video_id: str
    pass_no: int
    actor_id: int
    at: datetime
    note_before: str | None
    link_before: str | None
    note: str | None
    link: str | None


@dataclass(frozen=True, slots=True)
class Export:
    """What is stored about one member in one server, or about every member of a server."""

    guild_id: int
    user_id: int | None  # None: the whole server
    exported_at: datetime
    roadmap: Curriculum
    members: list[Member]
    passes: list[LoggedPass]
    history: list[HistoryEntry]
    settings: GuildSettings | None = None  # with a whole server's export
    edits: Sequence[EditRow] = ()

    @property
    def empty(self) -> bool:
        return not (self.members or self.passes or self.history or self.edits)


@dataclass(frozen=True, slots=True)
class Erased:
    """What erasing a member removed: their rows, and other rows that named them as the
    admin who corrected a log (kept, with the admin's id replaced by 0)."""

    members: int
    passes: int
    history: int
    corrections: int

    @property
    def nothing(self) -> bool:
        return not (self.members or self.passes or self.history or self.corrections)


class ExportTooLarge(UserError):
    def __init__(self, size: int, guild_id: int, limit: int = UPLOAD_LIMIT) -> None:
        super().__init__(
            f"The export is {size / 2**20:.1f} MiB even compressed, more than the "
            f"{limit / 2**20:g} MiB Discord lets a bot attach. The bot's operator can "
            f"write it to a file with `twopass db export --guild {guild_id}`."
        )
        self.size = size


def _id(value: int | None) -> str | None:
    # Snowflakes as text: JSON readers that parse numbers as doubles would round them.
    return None if value is None else str(value)


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _video(roadmap: Curriculum, video_id: str) -> str:
    video = roadmap.video(video_id)
    return video.title if video else ""


def to_json(export: Export) -> bytes:
    body: dict[str, Any] = {
        "format": FORMAT,
        "server_id": _id(export.guild_id),
        "user_id": _id(export.user_id),
        "exported_at": _time(export.exported_at),
        "roadmap": {"id": export.roadmap.id, "title": export.roadmap.title},
    }
    if export.settings is not None:
        s = export.settings
        body["settings"] = {
            "study_channel_id": _id(s.study_channel_id),
            "admin_channel_id": _id(s.admin_channel_id),
            "setup_by": _id(s.setup_by),
            "timezone": s.timezone,
            "checkin_weekday": s.checkin_weekday,
            "checkin_time": s.checkin_time.strftime("%H:%M"),
            "daily_time": s.daily_time.strftime("%H:%M"),
            "daily_enabled": s.daily_enabled,
            "checkin_enabled": s.checkin_enabled,
            "roadmap_id": s.curriculum_id,
            "cohort_start": s.cohort_start.isoformat(),
            "cohort_pace_hours": s.default_pace,
        }
    body["members"] = [
        {
            "user_id": _id(m.user_id),
            "display_name": m.name,
            "joined_at": _time(m.joined_at),
            "pace_hours": m.pace_hours,
            "timezone": m.timezone,
            "active": m.active,
            "reminders": m.reminders,
            "plan_start": m.plan_start.isoformat() if m.plan_start else None,
            "plan_credit_minutes": m.plan_credit,
            "active_since": _time(m.active_since),
        }
        for m in export.members
    ]
    body["passes"] = [
        {
            "user_id": _id(p.user_id),
            "video_id": p.video_id,
            "video": _video(export.roadmap, p.video_id),
            "pass": Pass(p.pass_no).label,
            "logged_at": _time(p.logged_at),
            "study_date": p.study_date.isoformat(),
            "minutes": p.minutes,
            "spent_minutes": p.spent_minutes,
            "note": p.note,
            "link": p.link,
            "logged_by": _id(p.logged_by),
        }
        for p in export.passes
    ]
    body["history"] = [
        {
            "user_id": _id(h.user_id),
            "video_id": h.video_id,
            "video": _video(export.roadmap, h.video_id),
            "pass": Pass(h.pass_no).label,
            "action": h.action,
            "by": _id(h.actor_id),
            "at": _time(h.at),
            "study_date": h.study_date.isoformat(),
            "minutes": h.minutes,
            "spent_minutes": h.spent_minutes,
            "note": h.note,
            "link": h.link,
        }
        for h in export.history
    ]
    body["edits"] = [
        {
            "user_id": _id(e.user_id),
            "video_id": e.video_id,
            "video": _video(export.roadmap, e.video_id),
            "pass": Pass(e.pass_no).label,
            "by": _id(e.actor_id),
            "at": _time(e.at),
            "note_before": e.note_before,
            "link_before": e.link_before,
            "note": e.note,
            "link": e.link,
        }
        for e in export.edits
    ]
    return json.dumps(body, indent=1, ensure_ascii=False).encode()


CSV_COLUMNS = (
    "user_id",
    "record",
    "video_id",
    "video",
    "pass",
    "action",
    "at",
    "study_date",
    "minutes",
    "spent_minutes",
    "note",
    "link",
    "by",
    "display_name",
)


def to_csv(export: Export) -> bytes:
    """Every pass held now (record `pass`), every change behind them (record `history`) and
    every correction of a note or link (record `edit`, with the note after it), one row each,
    with the display name kept for the member; the members' settings and what an edit replaced
    are in the JSON."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    roadmap = export.roadmap
    names = {m.user_id: _cell(m.name) for m in export.members}
    for p in export.passes:
        by = "" if p.logged_by in (None, p.user_id) else p.logged_by
        writer.writerow(
            [
                p.user_id,
                "pass",
                p.video_id,
                _video(roadmap, p.video_id),
                Pass(p.pass_no).label,
                "",
                _time(p.logged_at),
                p.study_date.isoformat(),
                f"{p.minutes:g}",
                _spent(p.spent_minutes),
                _cell(p.note),
                _cell(p.link),
                by,
                names.get(p.user_id, ""),
            ]
        )
    for h in export.history:
        writer.writerow(
            [
                h.user_id,
                "history",
                h.video_id,
                _video(roadmap, h.video_id),
                Pass(h.pass_no).label,
                h.action,
                _time(h.at),
                h.study_date.isoformat(),
                f"{h.minutes:g}",
                _spent(h.spent_minutes),
                _cell(h.note),
                _cell(h.link),
                h.actor_id,
                names.get(h.user_id, ""),
            ]
        )
    for e in export.edits:
        writer.writerow(
            [
                e.user_id,
                "edit",
                e.video_id,
                _video(roadmap, e.video_id),
                Pass(e.pass_no).label,
                "edit",
                _time(e.at),
                "",
                "",
                "",
                _cell(e.note),
                _cell(e.link),
                e.actor_id,
                names.get(e.user_id, ""),
            ]
        )
    # A byte-order mark, so spreadsheet programs read the notes' accents and emoji as UTF-8.
    return out.getvalue().encode("utf-8-sig")


def _spent(minutes: int | None) -> str:
    return "" if minutes is None else str(minutes)


def _cell(text: str | None) -> str:
    """A note as a spreadsheet shows it: a leading =, +, - or @ would be run as a formula."""
    if not text:
        return ""
    return "'" + text if text[0] in "=+-@\t\r" else text


def file_stem(export: Export) -> str:
    who = f"member-{export.user_id}" if export.user_id is not None else "server"
    return f"twopass-{export.guild_id}-{who}-{export.exported_at:%Y%m%d}"


def package(export: Export, limit: int = UPLOAD_LIMIT) -> list[tuple[str, bytes]]:
    """The export's files: a CSV and a JSON, zipped together when they would not fit in one
    Discord upload; raises ExportTooLarge when even the zip does not."""
    stem = file_stem(export)
    files = [(f"{stem}.csv", to_csv(export)), (f"{stem}.json", to_json(export))]
    if sum(len(data) for _, data in files) <= limit - _HEADROOM:
        return files
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    zipped = buffer.getvalue()
    if len(zipped) > limit - _HEADROOM:
        raise ExportTooLarge(len(zipped), export.guild_id, limit)
    return [(f"{stem}.zip", zipped)]
