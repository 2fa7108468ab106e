"""In-memory Discord world: users, guilds, roles, channels, messages and permissions.

Objects here are what tests create and inspect; ``payload()`` methods render them
the way Discord's API v10 does, so the same data feeds the gateway and REST.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]
DISCORD_EPOCH_MS = 1420070400000


class Permission(enum.IntFlag):
    """Discord permission bits (the subset the emulator reasons about, plus common ones)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38


ALL_PERMISSIONS = (1 << 51) - 1
DEFAULT_EVERYONE = (
    Permission.CREATE_INSTANT_INVITE
    | Permission.ADD_REACTIONS
    | Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.USE_EXTERNAL_EMOJIS
    | Permission.CONNECT
    | Permission.SPEAK
    | Permission.CHANGE_NICKNAME
    | Permission.USE_APPLICATION_COMMANDS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.CREATE_PRIVATE_THREADS
    | Permission.SEND_MESSAGES_IN_THREADS
)
DEFAULT_BOT = DEFAULT_EVERYONE | Permission.MANAGE_MESSAGES | Permission.MANAGE_THREADS
# Permissions that depend on being able to send at all (Discord's implicit denies).
_SEND_DEPENDENT = (
    Permission.SEND_TTS_MESSAGES
    | Permission.MENTION_EVERYONE
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
)


class ChannelType(enum.IntEnum):
    GUILD_TEXT = 0
    DM = 1
    GUILD_VOICE = 2
    GUILD_CATEGORY = 4
    GUILD_ANNOUNCEMENT = 5
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    GUILD_FORUM = 15


THREAD_TYPES = {ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD}


class MessageFlag(enum.IntFlag):
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7


def iso(moment: datetime) -> str:
    return moment.isoformat()


def now() -> datetime:
    return datetime.now(UTC)


class Snowflakes:
    """Monotonic snowflake ids whose timestamps are real, so created_at makes sense."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(self._last + 1, stamp)
        return self._last

    def next_guild(self) -> int:
        """An id in a millisecond of its own. A shard is ``(guild_id >> 22) % shard_count``, so
        guilds made in one burst would otherwise all land on one shard; with this they take
        turns, as guilds created over years do."""
        stamp = int(time.time() * 1000) - DISCORD_EPOCH_MS
        self._last = max((self._last >> 22) + 1, stamp) << 22
        return self._last


@dataclass(eq=False)
class User:
    id: int
    name: str
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": None if self.bot else self.name,
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass(eq=False)
class Role:
    id: int
    guild: Guild
    name: str
    permissions: int
    position: int = 0
    managed: bool = False

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(int(self.permissions)),
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }


@dataclass(eq=False)
class Member:
    user: User
    guild: Guild
    roles: list[Role] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = field(default_factory=now)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def mention(self) -> str:
        return self.user.mention

    @property
    def guild_permissions(self) -> int:
        """Guild-level permissions: owner and Administrator get everything."""
        if self.guild.owner_id == self.id:
            return ALL_PERMISSIONS
        perms = int(self.guild.everyone.permissions)
        for role in self.roles:
            perms |= int(role.permissions)
        return ALL_PERMISSIONS if perms & Permission.ADMINISTRATOR else perms

    def permissions_in(self, channel: Channel) -> int:
        """Discord's overwrite algorithm: @everyone, then roles together, then the member."""
        base = self.guild_permissions
        if base == ALL_PERMISSIONS:
            return ALL_PERMISSIONS
        target = channel.parent if channel.is_thread and channel.parent else channel
        perms = base
        everyone = target.overwrites.get(self.guild.id)
        if everyone:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role in self.roles:
            ow = target.overwrites.get(role.id)
            if ow:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        own = target.overwrites.get(self.id)
        if own:
            perms = (perms & ~own.deny) | own.allow
        if not perms & Permission.VIEW_CHANNEL:
            return 0
        if not perms & Permission.SEND_MESSAGES:
            perms &= ~_SEND_DEPENDENT
        return perms

    def payload(self, *, with_user: bool = True, channel: Channel | None = None) -> JSON:
        data: JSON = {
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r.id) for r in self.roles],
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if channel is not None:
            data["permissions"] = str(self.permissions_in(channel))
        return data


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (type 0) or a member (type 1)."""

    allow: int = 0
    deny: int = 0
    type: int = 0

    def payload(self, target_id: int) -> JSON:
        return {
            "id": str(target_id),
            "type": self.type,
            "allow": str(int(self.allow)),
            "deny": str(int(self.deny)),
        }


@dataclass(eq=False)
class Channel:
    id: int
    world: World
    type: ChannelType
    name: str
    guild: Guild | None = None
    position: int = 0
    topic: str | None = None
    parent: Channel | None = None
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    owner_id: int | None = None
    recipients: list[User] = field(default_factory=list)
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    deleted: bool = False
    messages: list[Message] = field(default_factory=list)
    # nonce -> (message, monotonic time) for enforce_nonce de-duplication
    nonces: dict[str, tuple[Message, float]] = field(default_factory=dict)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def threads(self) -> list[Channel]:
        return [
            c
            for c in self.world.channels.values()
            if c.parent is self and c.is_thread and not c.deleted
        ]

    def set_permissions(
        self, target: Role | Member | User, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Adds or replaces an overwrite (the connected client is told via CHANNEL_UPDATE)."""
        kind = 0 if isinstance(target, Role) else 1
        self.overwrites[target.id] = Overwrite(int(allow), int(deny), kind)
        self.world.emit("CHANNEL_UPDATE", self.payload())

    def delete(self, *, notify: bool = True) -> None:
        """Deletes the channel; with notify=False the client is not told (a stale cache)."""
        self.deleted = True
        if notify:
            self.world.emit("CHANNEL_DELETE", self.payload())

    def visible_messages(self) -> list[Message]:
        return [m for m in self.messages if not m.deleted and not m.ephemeral]

    def payload(self, *, for_member: Member | None = None) -> JSON:
        last = self.messages[-1].id if self.messages else None
        data: JSON = {
            "id": str(self.id),
            "type": int(self.type),
            "last_message_id": _opt_str(last),
            "flags": 0,
        }
        if self.type == ChannelType.DM:
            data["recipients"] = [u.payload() for u in self.recipients]
            return data
        assert self.guild is not None
        data.update(
            guild_id=str(self.guild.id),
            name=self.name,
            parent_id=_opt_str(self.parent.id if self.parent else None),
            rate_limit_per_user=0,
            nsfw=False,
        )
        if self.is_thread:
            data.update(
                owner_id=_opt_str(self.owner_id),
                message_count=len(self.visible_messages()),
                total_message_sent=len(self.visible_messages()),
                member_count=1,
                thread_metadata={
                    "archived": self.archived,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": iso(now()),
                    "locked": self.locked,
                    "invitable": True,
                    "create_timestamp": iso(now()),
                },
            )
        else:
            data.update(
                position=self.position,
                topic=self.topic,
                permission_overwrites=[ow.payload(tid) for tid, ow in self.overwrites.items()],
            )
        if for_member is not None:
            data["permissions"] = str(for_member.permissions_in(self))
        return data


@dataclass(eq=False)
class Message:
    """A message as Discord stores it; interaction responses included."""

    id: int
    channel: Channel
    author: User
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    nonce: str | None = None
    timestamp: datetime = field(default_factory=now)
    edited_at: datetime | None = None
    webhook_id: int | None = None
    interaction_metadata: JSON | None = None
    message_reference: JSON | None = None
    thread: Channel | None = None
    reactions: list[str] = field(default_factory=list)
    deleted: bool = False
    edits: int = 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MessageFlag.EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & MessageFlag.LOADING)

    def apply(self, body: Mapping[str, Any], *, edit: bool = True) -> None:
        """Applies the message fields of a create/edit body; absent keys keep their value."""
        if "content" in body:
            self.content = body["content"] or ""
        if "embeds" in body:
            self.embeds = list(body["embeds"] or [])
        if "components" in body:
            self.components = list(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            # Only the ephemeral bit is fixed at creation; other flags follow the body.
            self.flags = (self.flags & MessageFlag.EPHEMERAL) | (
                int(body["flags"]) & ~MessageFlag.EPHEMERAL
            )
        if "attachments" in body and body["attachments"] is not None:
            kept = {str(a.get("id")) for a in body["attachments"]}
            self.attachments = [a for a in self.attachments if a["id"] in kept]
        if edit:
            # Any edit (or a follow-up replacing a deferred reply) ends the "thinking" state.
            self.flags &= ~MessageFlag.LOADING
            self.edited_at = now()
            self.edits += 1

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "channel_id": str(self.channel.id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": iso(self.timestamp),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self.attachments,
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
        }
        if self.channel.guild is not None:
            data["guild_id"] = str(self.channel.guild.id)
        if self.nonce is not None:
            data["nonce"] = self.nonce
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
            data["application_id"] = str(self.webhook_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        if self.thread is not None:
            data["thread"] = self.thread.payload()
        if self.reactions:
            data["reactions"] = [
                {"count": 1, "me": True, "emoji": {"id": None, "name": name}}
                for name in self.reactions
            ]
        return data


class Guild:
    """A test guild: build it with add_* before or while the client runs."""

    def __init__(self, world: World, name: str, *, bot_permissions: int) -> None:
        self.world = world
        self.id = world.ids.next_guild()
        self.name = name
        self.roles: dict[int, Role] = {}
        self.members: dict[int, Member] = {}
        self.everyone = self._new_role("@everyone", int(DEFAULT_EVERYONE), position=0)
        owner = world.add_user(f"{name} owner")
        self.owner_id = owner.id
        self.owner = self._new_member(owner, [])
        bot = world.bot_user
        self.bot_role = self._new_role(bot.name, int(bot_permissions), position=1, managed=True)
        self.me = self._new_member(bot, [self.bot_role])
        self._admin_role: Role | None = None
        # Server Settings > Integrations: per-command grants that override the command's
        # default_member_permissions for these role or user ids.
        self.command_grants: dict[str, set[int]] = {}

    def allow_command(self, name: str, who: Member | Role) -> None:
        """Let ``who`` use /name whatever its default permissions, as an admin can in Discord."""
        target = who.user.id if isinstance(who, Member) else who.id
        self.command_grants.setdefault(name, set()).add(target)

    def granted(self, name: str, member: Member) -> bool:
        allowed = self.command_grants.get(name, set())
        return member.user.id in allowed or any(role.id in allowed for role in member.roles)

    @property
    def channels(self) -> list[Channel]:
        return [c for c in self.world.channels.values() if c.guild is self and not c.deleted]

    def _new_role(
        self, name: str, permissions: int, *, position: int, managed: bool = False
    ) -> Role:
        role_id = self.id if name == "@everyone" else self.world.ids.next()
        role = Role(role_id, self, name, permissions, position, managed)
        self.roles[role.id] = role
        return role

    def _new_member(self, user: User, roles: list[Role]) -> Member:
        member = Member(user, self, roles)
        self.members[user.id] = member
        return member

    def add_role(self, name: str, permissions: int = 0) -> Role:
        role = self._new_role(name, int(permissions), position=len(self.roles))
        self.world.emit("GUILD_ROLE_CREATE", {"guild_id": str(self.id), "role": role.payload()})
        return role

    def add_member(
        self, name: str, *, roles: Iterable[Role] = (), admin: bool = False, nick: str | None = None
    ) -> Member:
        """Adds a user to the guild; ``admin=True`` gives a role with Manage Guild."""
        user = self.world.add_user(name)
        member_roles = list(roles)
        if admin:
            if self._admin_role is None:
                self._admin_role = self.add_role(
                    "Admin", Permission.MANAGE_GUILD | Permission.MANAGE_CHANNELS
                )
            member_roles.append(self._admin_role)
        member = self._new_member(user, member_roles)
        member.nick = nick
        self.world.emit("GUILD_MEMBER_ADD", {"guild_id": str(self.id), **member.payload()})
        return member

    def add_text_channel(
        self,
        name: str,
        *,
        topic: str | None = None,
        category: Channel | None = None,
        overwrites: Mapping[Role | Member, Overwrite] | None = None,
        bot_allowed: int = 0,
        bot_denied: int = 0,
    ) -> Channel:
        """Adds a text channel; ``bot_denied`` is a member overwrite for the bot itself."""
        channel = self._add_channel(name, ChannelType.GUILD_TEXT, parent=category, topic=topic)
        for target, ow in (overwrites or {}).items():
            channel.overwrites[target.id] = Overwrite(
                ow.allow, ow.deny, 0 if isinstance(target, Role) else 1
            )
        if bot_allowed or bot_denied:
            channel.overwrites[self.me.id] = Overwrite(int(bot_allowed), int(bot_denied), 1)
        self.world.emit("CHANNEL_CREATE", channel.payload())
        return channel

    def add_category(self, name: str) -> Channel:
        channel = self._add_channel(name, ChannelType.GUILD_CATEGORY)
        self.world.emit("CHANNEL_CREATE", channel.payload())
        return channel

    def add_voice_channel(self, name: str, *, category: Channel | None = None) -> Channel:
        channel = self._add_channel(name, ChannelType.GUILD_VOICE, parent=category)
        self.world.emit("CHANNEL_CREATE", channel.payload())
        return channel

    def add_thread(
        self, parent: Channel, name: str, *, private: bool = False, owner: Member | None = None
    ) -> Channel:
        kind = ChannelType.PRIVATE_THREAD if private else ChannelType.PUBLIC_THREAD
        thread = self.world.new_thread(parent, name, kind, owner_id=(owner or self.owner).id)
        return thread

    def _add_channel(
        self,
        name: str,
        kind: ChannelType,
        *,
        parent: Channel | None = None,
        topic: str | None = None,
    ) -> Channel:
        channel = Channel(
            self.world.ids.next(),
            self.world,
            kind,
            name,
            guild=self,
            parent=parent,
            topic=topic,
            position=len(self.channels),
        )
        self.world.channels[channel.id] = channel
        return channel

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "features": [],
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
        }

    def gateway_payload(self) -> JSON:
        members = list(self.members.values())
        channels = self.channels
        return {
            **self.payload(),
            "joined_at": iso(self.me.joined_at),
            "large": False,
            "unavailable": False,
            # member_count == len(members) tells discord.py no chunking is needed
            "member_count": len(members),
            "members": [m.payload() for m in members],
            "channels": [c.payload() for c in channels if not c.is_thread],
            "threads": [c.payload() for c in channels if c.is_thread],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


class World:
    """Everything the emulator knows; ``emit`` forwards changes to the gateway."""

    def __init__(self, bot_name: str, emit: Callable[[str, JSON], None]) -> None:
        self.ids = Snowflakes()
        self.emit = emit
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.bot_user = User(self.ids.next(), bot_name, bot=True)
        self.users[self.bot_user.id] = self.bot_user

    def add_user(self, name: str) -> User:
        user = User(self.ids.next(), name)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, *, bot_permissions: int = DEFAULT_BOT) -> Guild:
        guild = Guild(self, name, bot_permissions=bot_permissions)
        self.guilds[guild.id] = guild
        self.emit("GUILD_CREATE", guild.gateway_payload())
        return guild

    def channel(self, channel_id: int) -> Channel | None:
        channel = self.channels.get(channel_id)
        return None if channel is None or channel.deleted else channel

    def dm_channel(self, user: User) -> Channel:
        for channel in self.channels.values():
            if channel.type == ChannelType.DM and channel.recipients == [user]:
                return channel
        channel = Channel(self.ids.next(), self, ChannelType.DM, "", recipients=[user])
        self.channels[channel.id] = channel
        return channel

    def new_thread(
        self,
        parent: Channel,
        name: str,
        kind: ChannelType,
        *,
        owner_id: int,
        thread_id: int | None = None,
        auto_archive_duration: int = 1440,
    ) -> Channel:
        thread = Channel(
            thread_id or self.ids.next(),
            self,
            kind,
            name,
            guild=parent.guild,
            parent=parent,
            owner_id=owner_id,
            auto_archive_duration=auto_archive_duration,
        )
        self.channels[thread.id] = thread
        self.emit("THREAD_CREATE", {**thread.payload(), "newly_created": True})
        return thread

    def new_message(
        self, channel: Channel, author: User, body: Mapping[str, Any], *, flags: int = 0
    ) -> Message:
        message = Message(self.ids.next(), channel, author)
        message.apply(body, edit=False)
        message.flags = int(flags) | int(body.get("flags") or 0)
        channel.messages.append(message)
        self.messages[message.id] = message
        return message


def _opt_str(value: int | None) -> str | None:
    return None if value is None else str(value)
