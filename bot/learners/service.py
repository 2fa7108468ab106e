"""What a learner does, as plain calls: each takes ids and `now`, checks the rules, does its
work in one repository call where it can, and returns a result for the renderer.

No Discord here: the cogs translate interactions into these calls and results into replies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from bot import timekeeping
from bot.errors import NotAllowed
from bot.learners import errors, export, inputs, plan
from bot.learners.export import Erased, Export
from bot.learners.plan import Standing, Step
from bot.learners.progress import Progress, milestone, progress
from bot.learners.records import LoggedPass, Member, PassKey
from bot.learners.repo import (
    LearnerRepo,
    LogOutcome,
    UndoOutcome,
    member_timezones,
    regrade_server,
)
from bot.learners.videos import resolve
from bot.server.records import GuildSettings
from bot.server.rules import DEFAULT_PACE_HOURS
from bot.server.service import Servers
from curriculum import Curriculum, Pass, Roadmaps, Video


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
    roadmap: Curriculum  # the server's


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
    roadmap: Curriculum  # the server's


@dataclass(frozen=True, slots=True)
class MemberProgress:
    member: Member
    progress: Progress
    standing: Standing
    roadmap: Curriculum  # the server's


class Learners:
    def __init__(self, repo: LearnerRepo, servers: Servers, roadmaps: Roadmaps) -> None:
        self.repo = repo
        self.servers = servers
        self.roadmaps = roadmaps

    def roadmap_of(self, settings: GuildSettings | None) -> Curriculum:
        """The server's roadmap (the default for a server with no settings yet)."""
        return self.roadmaps.of(settings.curriculum_id) if settings else self.roadmaps.default

    async def roadmap(self, guild_id: int, now: datetime) -> Curriculum:
        return self.roadmap_of(await self.servers.settings(guild_id, now))

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
        zone = timekeeping.parse_timezone(timezone) if timezone else None
        pace = inputs.check_pace(pace_hours) if pace_hours is not None else None
        snap = await self.repo.snapshot(guild_id, user_id)
        settings = snap.settings or await self.servers.ensure(guild_id, now)
        existing = snap.member
        roadmap = self.roadmap_of(settings)
        new_pace = pace or (existing.pace_hours if existing else DEFAULT_PACE_HOURS)
        new_zone = zone or (existing.timezone if existing else settings.timezone)
        done = _keys(snap.passes)
        today = timekeeping.local_today(now, new_zone)
        # Joining, coming back or changing pace starts the plan afresh from today, counting the
        # study already done: nobody returns to "90 days behind", and a new pace is not applied
        # to the weeks before it.
        restart = existing is None or not existing.active or existing.pace_hours != new_pace
        anchor = (today, plan.credit(roadmap, done)) if restart else None
        member, before = await self.repo.join(
            guild_id, user_id, new_pace, new_zone, now, reminders, plan=anchor
        )
        finish = plan.projected_finish(roadmap, done, pace_hours=member.pace_hours, today=today)
        return JoinResult(member, before, finish)

    async def leave(self, guild_id: int, user_id: int) -> None:
        if not await self.repo.set_active(guild_id, user_id, False):
            raise errors.NotJoined()

    async def today(self, guild_id: int, user_id: int, now: datetime) -> TodayResult:
        snap = await self.repo.snapshot(guild_id, user_id)
        member = _active(snap.member)
        settings = snap.settings or self.servers.defaults(guild_id, now)
        roadmap = self.roadmap_of(settings)
        done = _keys(snap.passes)
        today = timekeeping.local_today(now, member.timezone)
        return TodayResult(
            member=member,
            next=plan.next_step(roadmap, done),
            standing=plan.member_standing(roadmap, member, done, today),
            cohort=self.cohort_step(settings, now),
            study_today=today,
            roadmap=roadmap,
        )

    def cohort_step(self, settings: GuildSettings, now: datetime) -> Step | None:
        return plan.cohort_step(
            self.roadmap_of(settings),
            start=settings.cohort_start,
            pace_hours=settings.default_pace,
            day=timekeeping.local_today(now, settings.timezone),
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
        snap = await self.repo.snapshot(guild_id, user_id)
        roadmap = self.roadmap_of(snap.settings)
        video = resolve(roadmap, video_query)
        member = _active(snap.member, subject)
        today = timekeeping.local_today(now, member.timezone)
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
        result = await self.repo.log_pass(
            guild_id,
            user_id,
            video.id,
            int(which),
            now=now,
            study_date=study_date,
            note=clean_note,
            link=clean_link,
            actor_id=actor_id,
            minutes=plan.credit(roadmap, [(video.id, int(which))]),
            week=timekeeping.week_start(study_date),
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
            progress=progress(roadmap, passes, today),
            standing=plan.member_standing(roadmap, member, after, today),
            milestone=milestone(roadmap, before, after),
            next=plan.next_step(roadmap, after),
            today=today,
            roadmap=roadmap,
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
        video = resolve(await self.roadmap(guild_id, now), video_query)
        outcome, _ = await self.repo.undo_pass(
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
        snap = await self.repo.snapshot(guild_id, user_id)
        member = snap.member
        if member is None:
            raise errors.NotJoined(None if asked_by in (None, user_id) else user_id)
        today = timekeeping.local_today(now, member.timezone)
        done = _keys(snap.passes)
        roadmap = self.roadmap_of(snap.settings)
        return MemberProgress(
            member,
            progress(roadmap, snap.passes, today),
            plan.member_standing(roadmap, member, done, today),
            roadmap,
        )

    async def done_passes(self, guild_id: int, user_id: int) -> set[PassKey]:
        return _keys((await self.repo.snapshot(guild_id, user_id)).passes)

    async def active_members(self, guild_id: int) -> list[Member]:
        return await self.repo.active_members(guild_id)

    async def members_who_studied(self, guild_id: int, day: date) -> int:
        return await self.repo.members_who_studied(guild_id, day)

    async def recredit(self, roadmap: Curriculum | None = None) -> int:
        """Bring stored points in line with a roadmap's time model (after its lengths changed),
        on every server that uses it, or on every roadmap; returns how many passes changed."""
        changed = 0
        for each in [roadmap] if roadmap else list(self.roadmaps):
            changed += await self.repo.recredit(each.id, plan.credit_table(each))
        return changed

    # --- members' data ----------------------------------------------------------------------

    async def export(
        self, guild_id: int, user_id: int | None, now: datetime
    ) -> tuple[Export, list[tuple[str, bytes]]]:
        """What is stored about a member in this server (every member when `user_id` is None),
        and its files within Discord's upload limit (raises ExportTooLarge otherwise)."""
        settings = await self.servers.stored(guild_id)
        members, passes, history = await self.repo.export_rows(guild_id, user_id)
        data = Export(
            guild_id,
            user_id,
            now,
            self.roadmap_of(settings),
            members,
            passes,
            history,
            settings if user_id is None else None,
        )
        # A whole server's files can take a while to build and zip: off the event loop.
        return data, await asyncio.to_thread(export.package, data)

    async def forget(self, guild_id: int, user_id: int, actor: Actor | None = None) -> Erased:
        """Erase everything stored about a member in this server: their membership, passes,
        notes, links, history and board lines; where they corrected another member's log, that
        entry stays with 0 for who made it. A later /join starts from zero."""
        if actor is not None and actor.user_id != user_id and not actor.may_correct:
            raise NotAllowed("Only members with the Manage Server permission can erase a member.")
        return await self.repo.erase_member(user_id, guild_id)

    async def erase_everywhere(self, user_id: int) -> Erased:
        """The same in every server (an operator's `twopass db erase --user`)."""
        return await self.repo.erase_member(user_id, None)

    async def erase_server(self, guild_id: int) -> int:
        """Every member's data in a server the bot left long ago; returns how many members."""
        return await self.repo.erase_server(guild_id)

    async def regrade(
        self, db: aiosqlite.Connection, guild_id: int, roadmap: Curriculum, now: datetime
    ) -> int:
        """Part of switching a server's roadmap (inside its transaction): the server's passes
        are worth what `roadmap` says, nothing on videos it lacks (they stay in the history and
        come back if the server switches back), and every member's plan restarts today from
        the study they have on it, as on /join. Returns the members with passes it lacks."""
        zones = await member_timezones(db, guild_id)
        starts = {zone: timekeeping.local_today(now, zone) for zone in zones}
        return await regrade_server(db, guild_id, plan.credit_table(roadmap), starts)


def _check_actor(actor: Actor | None, user_id: int) -> int:
    """Who the history records: the member, or an admin correcting the member's log."""
    if actor is None or actor.user_id == user_id:
        return user_id
    if not actor.may_correct:
        raise NotAllowed(
            "Only members with the Manage Server permission can log or undo a pass for someone else."
        )
    return actor.user_id


def _active(member: Member | None, subject: int | None = None) -> Member:
    if member is None or not member.active:
        raise errors.NotJoined(subject)
    return member


def _keys(passes: Iterable[LoggedPass]) -> set[PassKey]:
    return {(p.video_id, p.pass_no) for p in passes}
