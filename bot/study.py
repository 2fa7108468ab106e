"""What learners and admins do, as plain calls: each takes ids and `now`, checks the rules,
does its work in one store transaction, and returns a result for the renderer.

No Discord here: the cogs translate interactions into these calls and results into replies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum

from bot.domain import errors, inputs, plan
from bot.domain.plan import PassKey, Standing, Step
from bot.domain.progress import Progress, milestone, progress
from bot.domain.videos import resolve
from bot.store import (
    CohortPass,
    GuildSettings,
    LoggedPass,
    LogOutcome,
    Member,
    Store,
    UndoOutcome,
)
from curriculum import Curriculum, Pass, Video

QUIET_DAYS = 14


class Period(Enum):
    WEEK = "week"
    ALL_TIME = "all"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked for a change, when it may be someone other than the member it is about."""

    user_id: int
    may_correct: bool  # holds Manage Server: may fix other members' logs


@dataclass(frozen=True, slots=True)
class JoinResult:
    member: Member
    before: Member | None
    finish: date | None
    settings: GuildSettings

    @property
    def first_time(self) -> bool:
        return self.before is None

    @property
    def resumed(self) -> bool:
        return self.before is not None and not self.before.active


@dataclass(frozen=True, slots=True)
class TodayResult:
    member: Member
    next: Step | None
    standing: Standing
    cohort: Step | None
    study_today: date


@dataclass(frozen=True, slots=True)
class DoneResult:
    video: Video
    which: Pass
    logged: LoggedPass
    progress: Progress
    standing: Standing
    milestone: str | None
    next: Step | None
    today: date  # the member's local date when they logged it


@dataclass(frozen=True, slots=True)
class MemberProgress:
    member: Member
    progress: Progress
    standing: Standing


@dataclass(frozen=True, slots=True)
class BoardEntry:
    rank: int
    user_id: int
    hours: float
    passes: int


BOARD_PAGE_SIZE = 10


@dataclass(frozen=True, slots=True)
class Board:
    """One page of a leaderboard, with the caller's own line and the board's size."""

    period: Period
    entries: tuple[BoardEntry, ...]  # this page, in rank order
    since: date | None  # the Monday of the week shown; None for all time
    size: int = 0  # members on the whole board
    page: int = 0
    caller: BoardEntry | None = None

    @property
    def pages(self) -> int:
        return max((self.size + BOARD_PAGE_SIZE - 1) // BOARD_PAGE_SIZE, 1)

    def rank_of(self, user_id: int) -> BoardEntry | None:
        if self.caller is not None and self.caller.user_id == user_id:
            return self.caller
        return next((entry for entry in self.entries if entry.user_id == user_id), None)


@dataclass(frozen=True, slots=True)
class VideoCrowd:
    video: Video
    first_only: tuple[int, ...]
    both: tuple[int, ...]
    on_it: tuple[int, ...]  # members whose next pass is on this video


@dataclass(frozen=True, slots=True)
class CohortView:
    videos: tuple[VideoCrowd, ...]
    members: tuple[int, ...]
    moved_this_week: tuple[int, ...]
    quiet: tuple[int, ...]  # nothing logged in QUIET_DAYS days
    finished: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SetupChange:
    """What an admin asked to change; None leaves a setting as it is."""

    channel_id: int | None = None
    timezone: str | None = None
    checkin_day: str | None = None
    checkin_time: str | None = None
    daily_time: str | None = None
    daily_enabled: bool | None = None
    checkin_enabled: bool | None = None


class Study:
    def __init__(self, store: Store, curriculum: Curriculum, default_timezone: str = "UTC") -> None:
        self.store = store
        self.curriculum = curriculum
        self.default_timezone = default_timezone

    # --- settings ------------------------------------------------------------------------

    def default_settings(self, guild_id: int, now: datetime) -> GuildSettings:
        return GuildSettings(
            guild_id=guild_id,
            study_channel_id=None,
            timezone=self.default_timezone,
            checkin_weekday=0,
            checkin_time=time(18, 0),
            daily_time=time(9, 0),
            daily_enabled=True,
            checkin_enabled=True,
            curriculum_id=self.curriculum.id,
            cohort_start=inputs.local_today(now, self.default_timezone),
            default_pace=plan.DEFAULT_PACE_HOURS,
        )

    async def settings(self, guild_id: int, now: datetime) -> GuildSettings:
        """The server's settings, or the defaults it would get (nothing is written)."""
        return await self.store.guild_settings(guild_id) or self.default_settings(guild_id, now)

    async def settings_report(
        self, guild_id: int, now: datetime
    ) -> tuple[GuildSettings, list[str]]:
        """The settings, with what the bot noted for admins: posts it had to turn off or give
        up (channel deleted, permission missing) since they last changed them."""
        return await self.settings(guild_id, now), await self.store.post_notes(guild_id)

    async def setup(self, guild_id: int, change: SetupChange, now: datetime) -> GuildSettings:
        """Validate every given option, then write only those: a concurrent change to another
        setting (such as the bot turning a failing post off) is never overwritten."""
        changes: dict[str, object] = {}
        if change.channel_id is not None:
            changes["study_channel_id"] = change.channel_id
        if change.timezone:
            changes["timezone"] = inputs.parse_timezone(change.timezone)
        if change.checkin_day:
            changes["checkin_weekday"] = inputs.parse_weekday(change.checkin_day)
        if change.checkin_time:
            changes["checkin_time"] = inputs.parse_clock(change.checkin_time, "check-in time")
        if change.daily_time:
            changes["daily_time"] = inputs.parse_clock(change.daily_time, "daily post time")
        if change.daily_enabled is not None:
            changes["daily_enabled"] = change.daily_enabled
        if change.checkin_enabled is not None:
            changes["checkin_enabled"] = change.checkin_enabled
        return await self.store.update_guild_settings(
            self.default_settings(guild_id, now), changes, now
        )

    # --- learners ------------------------------------------------------------------------

    async def join(
        self,
        guild_id: int,
        user_id: int,
        now: datetime,
        *,
        pace_hours: float | None = None,
        timezone: str | None = None,
        reminders: bool | None = None,
    ) -> JoinResult:
        zone = inputs.parse_timezone(timezone) if timezone else None
        pace = inputs.check_pace(pace_hours) if pace_hours is not None else None
        snap = await self.store.snapshot(guild_id, user_id)
        settings = snap.settings or await self.store.ensure_guild_settings(
            self.default_settings(guild_id, now), now
        )
        existing = snap.member
        new_pace = pace or (existing.pace_hours if existing else plan.DEFAULT_PACE_HOURS)
        new_zone = zone or (existing.timezone if existing else settings.timezone)
        done = _keys(snap.passes)
        today = inputs.local_today(now, new_zone)
        # Joining, coming back or changing pace starts the plan afresh from today, counting the
        # study already done: nobody returns to "90 days behind", and a new pace is not applied
        # to the weeks before it.
        restart = existing is None or not existing.active or existing.pace_hours != new_pace
        anchor = (today, plan.credit(self.curriculum, done)) if restart else None
        member, before = await self.store.join(
            guild_id, user_id, new_pace, new_zone, now, reminders, plan=anchor
        )
        finish = plan.projected_finish(
            self.curriculum, done, pace_hours=member.pace_hours, today=today
        )
        return JoinResult(member, before, finish, settings)

    async def leave(self, guild_id: int, user_id: int) -> None:
        if not await self.store.set_active(guild_id, user_id, False):
            raise errors.NotJoined()

    async def today(self, guild_id: int, user_id: int, now: datetime) -> TodayResult:
        snap = await self.store.snapshot(guild_id, user_id)
        member = _active(snap.member)
        settings = snap.settings or self.default_settings(guild_id, now)
        done = _keys(snap.passes)
        today = inputs.local_today(now, member.timezone)
        return TodayResult(
            member=member,
            next=plan.next_step(self.curriculum, done),
            standing=self._standing(member, done, today),
            cohort=self.cohort_step(settings, now),
            study_today=today,
        )

    def cohort_step(self, settings: GuildSettings, now: datetime) -> Step | None:
        return plan.cohort_step(
            self.curriculum,
            start=settings.cohort_start,
            pace_hours=settings.default_pace,
            day=inputs.local_today(now, settings.timezone),
        )

    async def log(
        self,
        guild_id: int,
        user_id: int,
        video_query: str,
        which: Pass,
        now: datetime,
        *,
        on: str | None = None,
        note: str | None = None,
        link: str | None = None,
        actor: Actor | None = None,
    ) -> DoneResult:
        actor_id = _check_actor(actor, user_id)
        subject = None if actor_id == user_id else user_id  # whose record, in error messages
        video = resolve(self.curriculum, video_query)
        snap = await self.store.snapshot(guild_id, user_id)
        member = _active(snap.member, subject)
        today = inputs.local_today(now, member.timezone)
        study_date = inputs.parse_study_date(on, today)
        clean_note, clean_link = inputs.parse_note(note), inputs.parse_link(link)
        before = _keys(snap.passes)
        # Checked here from the snapshot so a refusal costs no write; the store checks again
        # inside its INSERT, which settles a race with a concurrent /undo or /leave.
        existing = next(
            (p for p in snap.passes if (p.video_id, p.pass_no) == (video.id, int(which))), None
        )
        if existing is not None:
            raise errors.AlreadyLogged(video.title, which.label, existing.logged_at, subject)
        if which is Pass.SECOND and (video.id, 1) not in before:
            raise errors.SecondBeforeFirst(video.title)
        result = await self.store.log_pass(
            guild_id,
            user_id,
            video.id,
            int(which),
            now=now,
            study_date=study_date,
            note=clean_note,
            link=clean_link,
            actor_id=actor_id,
        )
        if result.outcome is LogOutcome.NOT_A_MEMBER:
            raise errors.NotJoined(subject)
        if result.outcome is LogOutcome.NEEDS_FIRST_PASS:
            raise errors.SecondBeforeFirst(video.title)
        assert result.logged is not None
        if result.outcome is LogOutcome.ALREADY_LOGGED:
            raise errors.AlreadyLogged(video.title, which.label, result.logged.logged_at, subject)
        passes = [*snap.passes, result.logged]
        after = before | {(video.id, int(which))}
        return DoneResult(
            video=video,
            which=which,
            logged=result.logged,
            progress=progress(self.curriculum, passes, today),
            standing=self._standing(member, after, today),
            milestone=milestone(self.curriculum, before, after),
            next=plan.next_step(self.curriculum, after),
            today=today,
        )

    async def undo(
        self,
        guild_id: int,
        user_id: int,
        video_query: str,
        which: Pass,
        now: datetime,
        actor: Actor | None = None,
    ) -> Video:
        actor_id = _check_actor(actor, user_id)
        video = resolve(self.curriculum, video_query)
        outcome, _ = await self.store.undo_pass(
            guild_id, user_id, video.id, int(which), now=now, actor_id=actor_id
        )
        if outcome is UndoOutcome.NOT_A_MEMBER:
            raise errors.NotJoined(None if actor_id == user_id else user_id)
        if outcome is UndoOutcome.SECOND_STILL_LOGGED:
            raise errors.SecondStillLogged(video.title)
        if outcome is UndoOutcome.NOT_LOGGED:
            raise errors.NotLogged(video.title, which.label)
        return video

    async def progress_of(
        self, guild_id: int, user_id: int, now: datetime, asked_by: int | None = None
    ) -> MemberProgress:
        snap = await self.store.snapshot(guild_id, user_id)
        member = snap.member
        if member is None:
            raise errors.NotJoined(None if asked_by in (None, user_id) else user_id)
        today = inputs.local_today(now, member.timezone)
        done = _keys(snap.passes)
        return MemberProgress(
            member,
            progress(self.curriculum, snap.passes, today),
            self._standing(member, done, today),
        )

    async def done_passes(self, guild_id: int, user_id: int) -> set[PassKey]:
        return _keys((await self.store.snapshot(guild_id, user_id)).passes)

    # --- the group -----------------------------------------------------------------------

    async def leaderboard(
        self,
        guild_id: int,
        period: Period,
        now: datetime,
        *,
        caller: int | None = None,
        page: int = 0,
        since: date | None = None,
    ) -> Board:
        """A page of the board; `since` pins the week when turning pages of one board."""
        if period is Period.WEEK and since is None:
            settings = await self.settings(guild_id, now)
            since = week_start(now, settings.timezone)
        week = since if period is Period.WEEK else None
        page = max(page, 0)
        first = page * BOARD_PAGE_SIZE + 1
        ranked, size = await self.store.board_page(
            guild_id, week, first=first, last=first + BOARD_PAGE_SIZE - 1, caller=caller
        )
        if first > size > 0:
            # The board shrank since the page was asked for (members left): show its last page.
            page = (size - 1) // BOARD_PAGE_SIZE
            first = page * BOARD_PAGE_SIZE + 1
            ranked, size = await self.store.board_page(
                guild_id, week, first=first, last=first + BOARD_PAGE_SIZE - 1, caller=caller
            )
        entries = [BoardEntry(rank, r.user_id, r.minutes / 60, r.passes) for rank, r in ranked]
        mine = next((e for e in entries if e.user_id == caller), None)
        shown = tuple(e for e in entries if first <= e.rank < first + BOARD_PAGE_SIZE)
        return Board(period, shown, week, size, page, mine)

    async def cohort(self, guild_id: int, now: datetime) -> CohortView:
        settings = await self.settings(guild_id, now)
        joined, passes = await self.store.cohort_passes(guild_id)
        return self.cohort_of(settings, joined, passes, now)

    def cohort_of(
        self,
        settings: GuildSettings,
        joined: Sequence[tuple[int, datetime]],
        passes: Iterable[CohortPass],
        now: datetime,
    ) -> CohortView:
        """The cohort map from data already read (the check-in reads it once for everything)."""
        members = [user for user, _ in joined]
        held: dict[int, set[PassKey]] = defaultdict(set)
        last_day: dict[int, date] = {}
        for p in passes:
            held[p.user_id].add((p.video_id, p.pass_no))
            last_day[p.user_id] = max(last_day.get(p.user_id, p.study_date), p.study_date)
        today = inputs.local_today(now, settings.timezone)
        # Quiet counts from the last pass, or from (re)joining for someone who has not logged since.
        last_move = {
            user: max(last_day.get(user, date.min), inputs.local_today(at, settings.timezone))
            for user, at in joined
        }
        monday = week_start(now, settings.timezone)
        first_only: dict[str, list[int]] = defaultdict(list)
        both: dict[str, list[int]] = defaultdict(list)
        on_it: dict[str, list[int]] = defaultdict(list)
        finished = []
        for user in members:
            done = held.get(user, set())
            for _, video in self.curriculum.videos():
                if (video.id, 2) in done:
                    both[video.id].append(user)
                elif (video.id, 1) in done:
                    first_only[video.id].append(user)
            step = plan.next_step(self.curriculum, done)
            if step is None:
                finished.append(user)
            else:
                on_it[step.video.id].append(user)
        return CohortView(
            videos=tuple(
                VideoCrowd(
                    video,
                    tuple(first_only[video.id]),
                    tuple(both[video.id]),
                    tuple(on_it[video.id]),
                )
                for _, video in self.curriculum.videos()
            ),
            members=tuple(members),
            moved_this_week=tuple(u for u in members if u in last_day and last_day[u] >= monday),
            quiet=tuple(u for u in members if (today - last_move[u]).days >= QUIET_DAYS),
            finished=tuple(finished),
        )

    # --- helpers -------------------------------------------------------------------------

    def _standing(self, member: Member, done: set[PassKey], today: date) -> Standing:
        return plan.member_standing(self.curriculum, member, done, today)


def _check_actor(actor: Actor | None, user_id: int) -> int:
    """Who the history records: the member, or an admin correcting the member's log."""
    if actor is None or actor.user_id == user_id:
        return user_id
    if not actor.may_correct:
        raise errors.NotAllowed(
            "Only members with the Manage Server permission can log or undo a pass for someone else."
        )
    return actor.user_id


def _active(member: Member | None, subject: int | None = None) -> Member:
    if member is None or not member.active:
        raise errors.NotJoined(subject)
    return member


def _keys(passes: Iterable[LoggedPass]) -> set[PassKey]:
    return {(p.video_id, p.pass_no) for p in passes}


def week_start(now: datetime, timezone: str) -> date:
    today = inputs.local_today(now, timezone)
    return today - timedelta(days=today.weekday())
