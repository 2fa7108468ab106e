"""What the group sees, as plain calls: a leaderboard page, the cohort map, the top of any
window of days; and the totals check behind `twopass db check`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from bot import timekeeping
from bot.db import Connection
from bot.group import board as rules
from bot.group.board import Board, BoardEntry, CohortPass, CohortView, Period
from bot.group.repo import GroupRepo, rebuild_server_totals
from bot.learners import plan
from bot.server.service import Servers
from curriculum import Roadmaps


class Group:
    def __init__(self, repo: GroupRepo, servers: Servers, roadmaps: Roadmaps) -> None:
        self.repo = repo
        self.servers = servers
        self.roadmaps = roadmaps

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
            settings = await self.servers.settings(guild_id, now)
            since = timekeeping.this_week(now, settings.timezone)
        week = since if period is Period.WEEK else None
        page = max(page, 0)
        first, last = rules.page_bounds(page)
        ranked, size = await self.repo.board_page(
            guild_id, week, first=first, last=last, caller=caller
        )
        if first > size > 0:
            # The board shrank since the page was asked for (members left): show its last page.
            page = (size - 1) // rules.BOARD_PAGE_SIZE
            first, last = rules.page_bounds(page)
            ranked, size = await self.repo.board_page(
                guild_id, week, first=first, last=last, caller=caller
            )
        entries = [BoardEntry(rank, r.user_id, r.minutes / 60, r.passes) for rank, r in ranked]
        mine = next((e for e in entries if e.user_id == caller), None)
        shown = tuple(e for e in entries if first <= e.rank <= last)
        return Board(period, shown, week, size, page, mine)

    async def roster(self, guild_id: int) -> tuple[list[tuple[int, datetime]], list[CohortPass]]:
        """Active members (id, since when) in join order and every pass they hold."""
        return await self.repo.cohort_passes(guild_id)

    async def cohort(self, guild_id: int, now: datetime) -> CohortView:
        settings = await self.servers.settings(guild_id, now)
        joined, passes = await self.repo.cohort_passes(guild_id)
        roadmap = self.roadmaps.of(settings.curriculum_id)
        view = rules.cohort_view(roadmap, settings.timezone, joined, passes, now)
        step = plan.cohort_step(
            roadmap,
            start=settings.cohort_start,
            pace_hours=settings.default_pace,
            day=timekeeping.local_today(now, settings.timezone),
        )
        return replace(
            view,
            names=await self.repo.names(guild_id),
            video_of_the_day=step.video.id if step else None,
        )

    async def rebuild_totals(self) -> None:
        await self.repo.rebuild_totals()

    async def rebuild_server(self, db: Connection, guild_id: int) -> None:
        """Part of switching a server's roadmap (inside its transaction): its totals anew."""
        await rebuild_server_totals(db, guild_id)

    async def check_totals(self, *, fix: bool = False) -> list[str]:
        """Compare the kept totals with what the history alone implies; each difference is a
        line. With `fix`, rebuild the totals (from the passes) when any differ."""
        expected_all, expected_weeks = rules.replay_totals(await self.repo.history())
        kept_all, kept_weeks = await self.repo.kept_totals()
        problems = rules.differences(expected_all, kept_all)
        problems += rules.differences(expected_weeks, kept_weeks)
        if problems and fix:
            await self.repo.rebuild_totals()
        return problems
