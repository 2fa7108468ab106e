"""What admins do to a server's settings, as plain calls; and the settings every other feature
reads. A change reaches the scheduled posts at once through `PostsHooks` (set by the app)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot import timekeeping
from bot.server import rules
from bot.server.records import GuildSettings
from bot.server.repo import ServerRepo
from bot.server.rules import SetupChange


class PostsHooks(Protocol):
    """What the settings need from the scheduled posts, without importing them."""

    async def settings_changed(self, guild_id: int) -> None: ...

    async def notes(self, guild_id: int) -> list[str]: ...

    async def study_channel_lost(self, guild_id: int, channel_id: int, now: datetime) -> None: ...


class _NoPosts:
    async def settings_changed(self, guild_id: int) -> None:
        return None

    async def study_channel_lost(self, guild_id: int, channel_id: int, now: datetime) -> None:
        return None

    async def notes(self, guild_id: int) -> list[str]:
        return []


class Servers:
    def __init__(self, repo: ServerRepo, curriculum_id: str, default_timezone: str = "UTC") -> None:
        self.repo = repo
        self.curriculum_id = curriculum_id
        self.default_timezone = default_timezone
        self.posts: PostsHooks = _NoPosts()

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
        saved = await self.repo.update(self.defaults(guild_id, now), rules.validated(change), now)
        await self.posts.settings_changed(guild_id)
        return saved

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
