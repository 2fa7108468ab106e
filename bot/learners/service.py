"""What a learner does, as plain calls: each takes ids and `now`, checks the rules, does its
work in one repository call where it can, and returns a result for the renderer.

No Discord here: the cogs translate interactions into these calls and results into replies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from bot import timekeeping
from bot.db import Connection
from bot.errors import NotAllowed, UserError
from bot.learners import errors, export, inputs, plan
from bot.learners.export import Erased, Export
from bot.learners.plan import Standing, Step
from bot.learners.progress import Progress, Totals, milestone, phase_progress, progress
from bot.learners.records import LoggedPass, Member, PassKey
from bot.learners.repo import (
    Expected,
    LearnerRepo,
    LogOutcome,
    LogResult,
    UndoOutcome,
    member_timezones,
    regrade_server,
)
from bot.learners.streaks import Streak, streak_of
from bot.learners.videos import resolve, resolve_held
from bot.server.records import GuildSettings
from bot.server.rules import DEFAULT_PACE_HOURS
from bot.server.service import Servers
from curriculum import Curriculum, Pass, Roadmaps, Video

# Reported second-pass times a video needs before /roadmap shows the group's own ratio and the
# projected finish uses it.
MIN_REPORTS = 3
# Members whose timezones and roadmap are remembered for their next /done (oldest forgotten
# first): a few hundred bytes each.
KNOWN_MEMBERS = 50_000


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
    finish_by_group: bool = False  # the group's measured second-pass times moved `finish`
    # An active member changed pace: the plan starts again from today, so how far behind or
    # ahead they were no longer counts. The reply says so.
    restarted: bool = False

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
    streak: Streak
    roadmap: Curriculum  # the server's


@dataclass(frozen=True, slots=True)
class DoneResult:
    video: Video
    which: Pass
    logged: LoggedPass
    totals: Totals  # the member's passes and points per phase, this pass included
    streak: Streak
    milestone: str | None
    next: Step | None
    today: date  # the member's local date when they logged it
    week_minutes: float  # the member's points this week (the server's week), this pass included
    roadmap: Curriculum  # the server's
    corrected_by: int | None = None  # an admin who logged it for the member
    edited: bool = False  # the pass was already logged: its note or link was corrected


@dataclass(frozen=True, slots=True)
class MemberProgress:
    member: Member
    progress: Progress
    standing: Standing
    today: date  # the member's local date
    roadmap: Curriculum  # the server's
    # The member's own second passes with a reported time: (minutes reported, video minutes).
    second_pass_time: tuple[float, float] = (0.0, 0.0)
    # What the progress card draws: the passes held, the local days studied, this week's points
    # (the server's week).
    done: frozenset[PassKey] = frozenset()
    study_days: frozenset[date] = frozenset()
    week_minutes: float = 0.0


class MemberData(Protocol):
    """Another feature's rows that name a member (the admin who last ran /setup, a stored post
    that mentions them): forgotten with the member's own data, in the same transaction.
    `names` is the display name kept for them in each server (pictures draw it), read before
    their membership was erased."""

    async def forget_member(
        self, db: Connection, user_id: int, guild_id: int | None, names: Mapping[int, str]
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class _Entry:
    """A /done as the member typed it, cleaned."""

    video_query: str
    which: Pass
    on: str | None
    note: str | None
    link: str | None
    spent: int | None
    actor_id: int
    subject: int | None  # whose record, in error messages (None: the member's own)


class Learners:
    def __init__(self, repo: LearnerRepo, servers: Servers, roadmaps: Roadmaps) -> None:
        self.repo = repo
        self.servers = servers
        self.roadmaps = roadmaps
        # Set by the app: what else names a member, erased with them.
        self.others: list[MemberData] = []
        # Per member: the timezones and roadmap their last read found, so their next /done can
        # go straight to the write, which checks them (see `log`).
        self._known: dict[tuple[int, int], Expected] = {}

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
        name: str | None = None,
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
            guild_id, user_id, new_pace, new_zone, now, reminders, plan=anchor, name=name
        )
        finish = plan.projected_finish(
            roadmap,
            done,
            pace_hours=member.pace_hours,
            today=today,
            ratios=await self.finish_ratios(guild_id, roadmap),
        )
        changed_pace = existing is not None and existing.active and existing.pace_hours != new_pace
        return JoinResult(member, before, finish.day, finish.by_group, restarted=changed_pace)

    async def leave(self, guild_id: int, user_id: int) -> None:
        if not await self.repo.set_active(guild_id, user_id, False):
            # Rare: a second look says which of the two it was.
            member = await self.repo.member(guild_id, user_id)
            raise errors.AlreadyLeft() if member is not None else errors.NotJoined()

    async def today(self, guild_id: int, user_id: int, now: datetime) -> TodayResult:
        view = await self.repo.view(guild_id, user_id)
        member = _active(view.member)
        self._remember(guild_id, member, view.settings)
        settings = view.settings or self.servers.defaults(guild_id, now)
        roadmap = self.roadmap_of(settings)
        done = view.passes.keys()
        today = timekeeping.local_today(now, member.timezone)
        return TodayResult(
            member=member,
            next=plan.next_step(roadmap, done),
            standing=plan.member_standing(roadmap, member, done, today),
            cohort=self.cohort_step(settings, now),
            study_today=today,
            streak=streak_of((held.day for held in view.passes.values()), today),
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
        spent_minutes: int | None = None,
    ) -> DoneResult:
        """Log a pass. A member whose timezone, server timezone and roadmap were read before (by
        /today or an earlier /done) is logged in one trip: the INSERT checks those are still
        what the database holds, so another process or an operator changing them is caught
        there; otherwise, or when it did not log, the member is read first, as always."""
        actor_id = _check_actor(actor, user_id)
        subject = None if actor_id == user_id else user_id  # whose record, in error messages
        spent = inputs.check_spent_minutes(spent_minutes)
        clean_note, clean_link = inputs.parse_note(note), inputs.parse_link(link)
        entry = _Entry(video_query, which, on, clean_note, clean_link, spent, actor_id, subject)
        known = self._known.get((guild_id, user_id))
        if known is not None:
            done = await self._log_as_known(guild_id, user_id, known, entry, now)
            if done is not None:
                return done
            self._known.pop((guild_id, user_id), None)  # changed, or refused: read, say why
        return await self._log_read_first(guild_id, user_id, entry, now)

    async def _log_as_known(
        self, guild_id: int, user_id: int, known: Expected, entry: _Entry, now: datetime
    ) -> DoneResult | None:
        """One trip to the database: the pass computed from the member's and the server's
        timezones and roadmap as last read, which the INSERT checks. None when it did not log
        (something changed, or a rule refused it): the caller reads, and explains a refusal."""
        roadmap = self.roadmaps.of(known.roadmap_id)
        today = timekeeping.local_today(now, known.member_zone)
        try:
            video = resolve(roadmap, entry.video_query)
            study_date = inputs.parse_study_date(entry.on, today)
        except UserError:
            return None  # said after a read: what was remembered may be out of date
        server_today = timekeeping.local_today(now, known.server_zone)
        result = await self._write(
            guild_id, user_id, video, entry, roadmap, study_date, today, server_today, now, known
        )
        if result.outcome is not LogOutcome.LOGGED:
            return None
        return self._done(video, entry, result, roadmap, today, server_today)

    async def _log_read_first(
        self, guild_id: int, user_id: int, entry: _Entry, now: datetime
    ) -> DoneResult:
        subject, which, on = entry.subject, entry.which, entry.on
        view = await self.repo.view(guild_id, user_id)
        roadmap = self.roadmap_of(view.settings)
        video = resolve(roadmap, entry.video_query)
        member = _active(view.member, subject)
        settings = view.settings or self.servers.defaults(guild_id, now)
        self._remember(guild_id, member, view.settings)
        today = timekeeping.local_today(now, member.timezone)
        study_date = inputs.parse_study_date(on, today)
        key = (video.id, int(which))
        # Checked here from what was read so a refusal costs no write; the store checks again
        # inside its INSERT, which settles a race with a concurrent /undo or /leave.
        logged = view.passes.get(key)
        if logged is not None:
            if (entry.note or entry.link) and on is None and entry.spent is None:
                # /done again with a new note or link corrects them; the edit is recorded.
                return await self._edit(
                    guild_id, member, video, which, entry.note, entry.link, entry.actor_id, now
                )
            raise errors.AlreadyLogged(video.title, which.label, logged.day, subject)
        if which is Pass.SECOND:
            first = view.passes.get((video.id, int(Pass.FIRST)))
            if first is None:
                raise errors.SecondBeforeFirst(video.title)
            # A first pass dated after today (the member moved west since) counts as today's.
            if study_date < min(first.day, today):
                raise errors.SecondDatedBeforeFirst(video.title, first.day, subject)
        server_today = timekeeping.local_today(now, settings.timezone)
        result = await self._write(
            guild_id, user_id, video, entry, roadmap, study_date, today, server_today, now
        )
        if result.outcome is LogOutcome.NOT_A_MEMBER:
            # Left (or was erased) since the read: rare, so a second look says which.
            raise _not_member(await self.repo.member(guild_id, user_id), subject)
        if result.outcome is LogOutcome.NEEDS_FIRST_PASS:
            raise errors.SecondBeforeFirst(video.title)
        assert result.logged is not None
        if result.outcome is LogOutcome.ALREADY_LOGGED:
            raise errors.AlreadyLogged(video.title, which.label, result.logged.study_date, subject)
        return self._done(video, entry, result, roadmap, today, server_today)

    async def _write(
        self,
        guild_id: int,
        user_id: int,
        video: Video,
        entry: _Entry,
        roadmap: Curriculum,
        study_date: date,
        today: date,
        server_today: date,
        now: datetime,
        expected: Expected | None = None,
    ) -> LogResult:
        key = (video.id, int(entry.which))
        return await self.repo.log_pass(
            guild_id,
            user_id,
            video.id,
            int(entry.which),
            expected,
            now=now,
            study_date=study_date,
            note=entry.note,
            link=entry.link,
            actor_id=entry.actor_id,
            minutes=plan.credit(roadmap, [key]),
            week=timekeeping.pass_week(study_date, today, server_today),
            spent_minutes=entry.spent,
            today=today,
        )

    def _done(
        self,
        video: Video,
        entry: _Entry,
        result: LogResult,
        roadmap: Curriculum,
        today: date,
        server_today: date,
    ) -> DoneResult:
        """What the pass completed, from what the database holds right after it: of two last
        passes logged at once, exactly one finishes the roadmap."""
        assert result.logged is not None
        key = (video.id, int(entry.which))
        after = result.held
        this_week = timekeeping.week_start(server_today).isoformat()
        return DoneResult(
            video=video,
            which=entry.which,
            logged=result.logged,
            totals=Totals(phase_progress(roadmap, after)),
            streak=streak_of((held.day for held in result.passes.values()), today),
            milestone=milestone(roadmap, after - {key}, after),
            next=plan.next_step(roadmap, after),
            today=today,
            week_minutes=sum(
                held.minutes for held in result.passes.values() if held.week == this_week
            ),
            roadmap=roadmap,
            corrected_by=None if entry.subject is None else entry.actor_id,
        )

    def _remember(self, guild_id: int, member: Member, settings: GuildSettings | None) -> None:
        """Keep what the next /done of this member computes its pass from (see `log`)."""
        if settings is None or not member.active:
            return
        if len(self._known) >= KNOWN_MEMBERS:
            del self._known[next(iter(self._known))]  # the oldest remembered
        self._known[(guild_id, member.user_id)] = Expected(
            member.timezone, settings.timezone, settings.curriculum_id
        )

    async def _edit(
        self,
        guild_id: int,
        member: Member,
        video: Video,
        which: Pass,
        note: str | None,
        link: str | None,
        actor_id: int,
        now: datetime,
    ) -> DoneResult:
        edited = await self.repo.edit_pass(
            guild_id,
            member.user_id,
            video.id,
            int(which),
            note=note,
            link=link,
            actor_id=actor_id,
            now=now,
        )
        if edited is None:  # undone or left meanwhile
            raise errors.NotLogged(video.title, which.label)
        _, after = edited
        passes = await self.repo.passes_of(guild_id, member.user_id)
        today = timekeeping.local_today(now, member.timezone)
        done = _keys(passes)
        settings = await self.servers.settings(guild_id, now)
        roadmap = self.roadmap_of(settings)
        return DoneResult(
            video=video,
            which=which,
            logged=after,
            totals=Totals(phase_progress(roadmap, done)),
            streak=streak_of((p.study_date for p in passes), today),
            milestone=None,
            next=plan.next_step(roadmap, done),
            today=today,
            week_minutes=_week_minutes(passes, timekeeping.this_week(now, settings.timezone)),
            roadmap=roadmap,
            corrected_by=None if actor_id == member.user_id else actor_id,
            edited=True,
        )

    async def undo(
        self,
        guild_id: int,
        user_id: int,
        video_query: str,
        which: Pass,
        now: datetime,
        actor: Actor | None = None,
    ) -> str:
        """Remove a pass; returns the title of its video (its id when no longer on the roadmap)."""
        actor_id = _check_actor(actor, user_id)
        roadmap = await self.roadmap(guild_id, now)
        gone = None
        if roadmap.video(video_query.strip().lower()) is None:
            # A pass on a video that has since left the roadmap (or is not on the server's
            # roadmap any more) can still be undone by its id, also when that id begins the id
            # of a video still on it (`deep-dive` beside `deep-dive-llms`).
            held = {key[0] for key in await self.done_passes(guild_id, user_id)}
            gone = resolve_held(video_query, {v for v in held if roadmap.video(v) is None})
        video_id, title = (gone, gone) if gone else _video_ref(resolve(roadmap, video_query))
        outcome, _ = await self.repo.undo_pass(
            guild_id, user_id, video_id, int(which), now=now, actor_id=actor_id
        )
        if outcome is UndoOutcome.NOT_A_MEMBER:
            # Rare: a second look says whether they never joined or left.
            member = await self.repo.member(guild_id, user_id)
            raise _not_member(member, None if actor_id == user_id else user_id)
        if outcome is UndoOutcome.SECOND_STILL_LOGGED:
            raise errors.SecondStillLogged(title)
        if outcome is UndoOutcome.NOT_LOGGED:
            raise errors.NotLogged(title, which.label)
        return title

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
        settings = snap.settings or self.servers.defaults(guild_id, now)
        reported = [p for p in snap.passes if p.pass_no == 2 and p.spent_minutes]
        videos = [roadmap.video(p.video_id) for p in reported]
        return MemberProgress(
            member,
            progress(roadmap, snap.passes, today),
            plan.member_standing(
                roadmap, member, done, today, await self.finish_ratios(guild_id, roadmap)
            ),
            today,
            roadmap,
            (
                float(
                    sum(p.spent_minutes or 0 for p, v in zip(reported, videos, strict=True) if v)
                ),
                float(sum(v.minutes for v in videos if v)),
            ),
            done=frozenset(done),
            study_days=frozenset(p.study_date for p in snap.passes),
            week_minutes=_week_minutes(snap.passes, timekeeping.this_week(now, settings.timezone)),
        )

    async def measured_ratios(
        self, guild_id: int, roadmap: Curriculum
    ) -> dict[str, tuple[float, int]]:
        """Per video of the server's `roadmap`, the group's second-pass time over the video's
        length and how many reported it, once at least MIN_REPORTS members did (the plan's 2.5x
        until then)."""
        reported = await self.repo.spent_ratios(guild_id, int(Pass.SECOND))
        out = {}
        for video_id, (minutes, count) in reported.items():
            video = roadmap.video(video_id)
            if video is not None and count >= MIN_REPORTS:
                out[video_id] = (minutes / count / video.minutes, count)
        return out

    async def finish_ratios(self, guild_id: int, roadmap: Curriculum) -> dict[str, float]:
        """The measured ratios a projected finish uses: the same videos /roadmap shows one for.
        Read only where a finish is shown (/join, /progress), never on /done's way."""
        measured = await self.measured_ratios(guild_id, roadmap)
        return {video_id: ratio for video_id, (ratio, _) in measured.items()}

    async def done_passes(self, guild_id: int, user_id: int) -> set[PassKey]:
        return set((await self.repo.view(guild_id, user_id)).passes)

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
        data = await self.export_data(guild_id, user_id, now)
        # A whole server's files can take a while to build and zip: off the event loop.
        return data, await asyncio.to_thread(export.package, data)

    async def export_data(self, guild_id: int, user_id: int | None, now: datetime) -> Export:
        """What is stored about a member in this server (every member when `user_id` is None),
        whatever its size (files on disk have no upload limit)."""
        settings = await self.servers.stored(guild_id)
        members, passes, history, edits = await self.repo.export_rows(guild_id, user_id)
        return Export(
            guild_id,
            user_id,
            now,
            self.roadmap_of(settings),
            members,
            passes,
            history,
            settings if user_id is None else None,
            edits,
        )

    async def forget(self, guild_id: int, user_id: int, actor: Actor | None = None) -> Erased:
        """Erase everything stored about a member in this server: their membership, passes,
        notes, links, history and board lines; where they corrected another member's log, that
        entry stays with 0 for who made it. A later /join starts from zero."""
        if actor is not None and actor.user_id != user_id and not actor.may_correct:
            raise NotAllowed("Only members with the Manage Server permission can erase a member.")
        return await self._erase(user_id, guild_id)

    async def erase_everywhere(self, user_id: int) -> Erased:
        """The same in every server (an operator's `twopass db erase --user`)."""
        return await self._erase(user_id, None)

    async def _erase(self, user_id: int, guild_id: int | None) -> Erased:
        async def others(db: Connection, names: Mapping[int, str]) -> None:
            for other in self.others:
                await other.forget_member(db, user_id, guild_id, names)

        return await self.repo.erase_member(user_id, guild_id, others)

    async def erase_server(self, guild_id: int) -> int:
        """Every member's data in a server the bot left long ago; returns how many members."""
        return await self.repo.erase_server(guild_id)

    async def regrade(
        self, db: Connection, guild_id: int, roadmap: Curriculum, now: datetime
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
        raise _not_member(member, subject)
    return member


def _not_member(member: Member | None, subject: int | None) -> errors.NotJoined:
    """The refusal for someone who is not an active member: one who left is told their passes
    wait for them, not that they never joined."""
    return errors.NotJoined(subject, left=member is not None and not member.active)


def _keys(passes: Iterable[LoggedPass]) -> set[PassKey]:
    return {(p.video_id, p.pass_no) for p in passes}


def _video_ref(video: Video) -> tuple[str, str]:
    return video.id, video.title


def _week_minutes(passes: Iterable[LoggedPass], week: date) -> float:
    """Points of the passes that count in `week` (their stored week key)."""
    return sum(p.minutes for p in passes if p.week == week)
