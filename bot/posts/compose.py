"""What the scheduled posts say: the numbers from the learners and the group, then rendered."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot import timekeeping
from bot.group.board import cohort_view
from bot.group.service import Group
from bot.learners.service import Learners
from bot.pictures import render_checkin_chart, render_in_thread
from bot.posts import checkin
from bot.posts import render as render_posts
from bot.posts.messages import Composed
from bot.posts.schedule import PostKind
from bot.server.records import GuildSettings


class StudyComposer:
    def __init__(self, learners: Learners, group: Group) -> None:
        self.learners = learners
        self.group = group

    async def compose(
        self,
        settings: GuildSettings,
        kind: PostKind,
        due: datetime,
        days: tuple[date, date] | None = None,
    ) -> Composed:
        if kind is PostKind.DAILY:
            return await self.daily(settings, due)
        return await self.checkin(settings, due, days)

    async def daily(self, settings: GuildSettings, due: datetime) -> Composed:
        day = timekeeping.local_today(due, settings.timezone)
        studied = await self.learners.members_who_studied(
            settings.guild_id, day - timedelta(days=1)
        )
        step = self.learners.cohort_step(settings, due)
        return render_posts.daily(self.learners.roadmap_of(settings), day, step, studied)

    async def checkin(
        self, settings: GuildSettings, due: datetime, days: tuple[date, date] | None = None
    ) -> Composed:
        roadmap = self.learners.roadmap_of(settings)
        members = await self.learners.active_members(settings.guild_id)
        joined, passes = await self.group.roster(settings.guild_id)
        # Every number of the post, the top three included, from this one read of the passes.
        week = checkin.summarize(
            roadmap, members, passes, now=due, timezone=settings.timezone, days=days
        )
        # Who moved in the same days as the rest of the post, not since Monday.
        view = cohort_view(
            roadmap,
            settings.timezone,
            joined,
            passes,
            due,
            window=(week.since, week.until),
            window_name="in these days",
        )
        names = {m.user_id: m.name for m in members if m.name}
        # Drawn now and stored with the post, so a retry uploads these very bytes. A window
        # without a pass has nothing to draw: its text says so.
        chart = (
            await render_in_thread(render_checkin_chart, render_posts.checkin_chart(week, names))
            if week.passes
            else None
        )
        return render_posts.checkin(roadmap, week, view, chart)
