"""What the scheduled posts say: the numbers from the store and the domain, then rendered."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import render_posts
from bot.domain import checkin, inputs
from bot.domain.schedule import PostKind, period_key
from bot.posting import Composed
from bot.store import GuildSettings, Store
from bot.study import BoardEntry, Study

TOP = 3


class StudyComposer:
    def __init__(self, study: Study) -> None:
        self.study = study
        self.store: Store = study.store

    async def compose(self, settings: GuildSettings, kind: PostKind, due: datetime) -> Composed:
        if kind is PostKind.DAILY:
            return await self.daily(settings, due)
        return await self.checkin(settings, due)

    async def daily(self, settings: GuildSettings, due: datetime) -> Composed:
        day = inputs.local_today(due, settings.timezone)
        studied = await self.store.members_who_studied(settings.guild_id, day - timedelta(days=1))
        step = self.study.cohort_step(settings, due)
        return render_posts.daily(self.study.curriculum, day, step, studied)

    async def checkin(self, settings: GuildSettings, due: datetime) -> Composed:
        members = await self.store.active_members(settings.guild_id)
        joined, passes = await self.store.cohort_passes(settings.guild_id)
        week = checkin.summarize(
            self.study.curriculum, members, passes, now=due, timezone=settings.timezone
        )
        # The top three over the same seven days as the rest of the post.
        rows = await self.store.leaderboard_since(
            settings.guild_id, self.study.curriculum.id, week.since
        )
        top = [
            BoardEntry(rank, row.user_id, row.minutes / 60, row.passes)
            for rank, row in enumerate(rows[:TOP], start=1)
        ]
        view = self.study.cohort_of(settings, joined, passes, due)
        return render_posts.checkin(
            self.study.curriculum,
            period_key(PostKind.CHECKIN, due, settings.timezone),
            week,
            top,
            view,
        )
