"""What admins do to a server's settings, as plain calls; and the settings every other feature
reads. A change reaches the scheduled posts at once through `PostsHooks` (set by the app)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol

from bot import timekeeping
from bot.db import Connection
from bot.errors import BadInput
from bot.server import rules
from bot.server.records import GuildSettings, RoadmapSwitch
from bot.server.repo import ServerRepo, forget_admin
from bot.server.rules import SetupChange
from curriculum import Curriculum, Roadmaps


class PostsHooks(Protocol):
    """What the settings need from the scheduled posts, without importing them."""

    async def settings_changed(self, guild_id: int) -> None: ...

    async def notes(self, guild_id: int) -> list[str]: ...

    async def study_channel_lost(self, guild_id: int, channel_id: int, now: datetime) -> None: ...


class PassesHook(Protocol):
    """Switching a server's roadmap re-credits its passes, inside the switch's transaction;
    returns the members with passes on videos the new roadmap lacks."""

    async def regrade(
        self, db: Connection, guild_id: int, roadmap: Curriculum, now: datetime
    ) -> int: ...


class TotalsHook(Protocol):
    """...and then rebuilds the server's kept totals from them, in the same transaction."""

    async def rebuild_server(self, db: Connection, guild_id: int) -> None: ...


class _NoPosts:
    async def settings_changed(self, guild_id: int) -> None:
        return None

    async def study_channel_lost(self, guild_id: int, channel_id: int, now: datetime) -> None:
        return None

    async def notes(self, guild_id: int) -> list[str]:
        return []


class Servers:
    def __init__(self, repo: ServerRepo, roadmaps: Roadmaps, default_timezone: str = "UTC") -> None:
        self.repo = repo
        self.roadmaps = roadmaps
        self.curriculum_id = roadmaps.default.id
        self.default_timezone = default_timezone
        self.posts: PostsHooks = _NoPosts()
        # Set by the app: the learners' passes and the group's totals follow a roadmap switch.
        self.passes: PassesHook | None = None
        self.totals: TotalsHook | None = None

    def defaults(self, guild_id: int, now: datetime) -> GuildSettings:
        return rules.defaults(
            guild_id,
            today=timekeeping.local_today(now, self.default_timezone),
            timezone=self.default_timezone,
            curriculum_id=self.curriculum_id,
        )

    async def settings(self, guild_id: int, now: datetime) -> GuildSettings:
        """The server's settings, or the defaults it would get (nothing is written)."""
        return await self.repo.get(guild_id) or self.defaults(guild_id, now)

    async def stored(self, guild_id: int) -> GuildSettings | None:
        """The server's settings if it has any (a server nobody has used has none)."""
        return await self.repo.get(guild_id)

    async def ensure(self, guild_id: int, now: datetime) -> GuildSettings:
        """The server's settings, written from the defaults the first time it is used."""
        return await self.repo.ensure(self.defaults(guild_id, now), now)

    async def all(self) -> list[GuildSettings]:
        return await self.repo.all()

    async def report(self, guild_id: int, now: datetime) -> tuple[GuildSettings, list[str]]:
        """The settings, with what the bot noted for admins: posts it had to turn off or give
        up (channel deleted, permission missing) since they last changed them."""
        return await self.settings(guild_id, now), await self.posts.notes(guild_id)

    async def setup(self, guild_id: int, change: SetupChange, now: datetime) -> GuildSettings:
        """Validate every given option, then write only those, and reschedule the posts."""
        defaults = self.defaults(guild_id, now)
        current = await self.repo.get(guild_id) or defaults
        today = timekeeping.local_today(now, current.timezone)
        saved = await self.repo.update(defaults, rules.validated(change, today), now)
        await self.posts.settings_changed(guild_id)
        return saved

    async def set_roadmap(self, guild_id: int, roadmap_id: str, now: datetime) -> RoadmapSwitch:
        """Move the server to another roadmap. Its passes are re-credited under it in the same
        transaction: a pass on a video it lacks stays in the member's history and export but
        counts for nothing on its boards and progress, and counts again if the server switches
        back. Every member's plan restarts today, as after a change of pace."""
        roadmap = self.roadmaps.get(roadmap_id.strip())
        if roadmap is None:
            known = ", ".join(f"`{r.id}`" for r in self.roadmaps)
            raise BadInput(
                f"There is no roadmap `{roadmap_id}` here: choose one of {known}. Nothing changed."
            )
        passes, totals = self.passes, self.totals
        assert passes is not None and totals is not None, "wired by the app"

        async def follow(db: Connection) -> int:
            stranded = await passes.regrade(db, guild_id, roadmap, now)
            await totals.rebuild_server(db, guild_id)
            return stranded

        before, saved, stranded = await self.repo.set_roadmap(
            self.defaults(guild_id, now), roadmap.id, now, follow
        )
        await self.posts.settings_changed(guild_id)
        return RoadmapSwitch(saved, self.roadmaps.of(before), roadmap, stranded)

    # --- the bot removed from a server, and invited back ---------------------------------------

    async def left(self, guild_id: int, now: datetime) -> None:
        """Keep the server's data for RETENTION, in case the bot is invited back; its posts
        stop now."""
        if await self.repo.mark_left(guild_id, now):
            await self.posts.settings_changed(guild_id)

    async def returned(self, guild_id: int) -> None:
        """Invited back within RETENTION: everything is as it was, posts included."""
        if await self.repo.mark_back(guild_id):
            await self.posts.settings_changed(guild_id)

    async def reconcile(
        self, present: set[int], now: datetime, serves: Callable[[int], bool] = lambda _: True
    ) -> None:
        """At connection: servers the bot was removed from or invited back to while offline,
        among those this process `serves` (its shards'). One read finds them; only a server
        whose state changed is written (a restart at 10,000 servers writes nothing)."""
        for guild_id, marked_left in await self.repo.known():
            if not serves(guild_id):
                continue
            if guild_id in present and marked_left:
                await self.returned(guild_id)
            elif guild_id not in present and not marked_left:
                await self.left(guild_id, now)

    async def expired(self, now: datetime) -> list[int]:
        """Servers left more than RETENTION ago, whose data is due to be erased."""
        return await self.repo.left_before(now - rules.RETENTION)

    async def erase(self, guild_id: int) -> None:
        """A left server's settings, last (the other features' data goes first)."""
        await self.repo.delete(guild_id)

    async def forget_member(
        self, db: Connection, user_id: int, guild_id: int | None, names: Mapping[int, str]
    ) -> None:
        """Part of erasing a member (inside its transaction): the settings no longer name them
        as who ran /setup last; alerts go to the admin channel, or wait for the next /setup.
        (The settings hold no member's name.)"""
        await forget_admin(db, user_id, guild_id)

    async def channel_deleted(self, guild_id: int, channel_id: int, now: datetime) -> None:
        """A channel of the server was deleted: if it was the study (or admin) channel it is no
        longer set, so `/setup show` says so at once, and the posts tell the admins."""
        before = await self.repo.get(guild_id)
        if before is None or not await self.repo.forget_channel(guild_id, channel_id, now):
            return
        await self.posts.settings_changed(guild_id)
        if before.study_channel_id == channel_id:
            await self.posts.study_channel_lost(guild_id, channel_id, now)

    async def turn_off_post(self, guild_id: int, kind: str, now: datetime) -> None:
        """The bot turns a kind of post off after Discord refused it for good."""
        await self.repo.turn_off_post(guild_id, kind, now)
