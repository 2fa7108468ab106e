"""Application commands the bot synced, interaction payloads built from them, and replies."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import (
    JSON,
    Channel,
    ChannelType,
    Guild,
    Member,
    Message,
    Permission,
    Role,
    User,
    World,
)

DM_APP_PERMISSIONS = int(
    Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.ADD_REACTIONS
    | Permission.USE_EXTERNAL_EMOJIS
)
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


class OptionType:
    SUB_COMMAND = 1
    SUB_COMMAND_GROUP = 2
    STRING = 3
    INTEGER = 4
    BOOLEAN = 5
    USER = 6
    CHANNEL = 7
    ROLE = 8
    MENTIONABLE = 9
    NUMBER = 10
    ATTACHMENT = 11


class InteractionType:
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4


class CallbackType:
    CHANNEL_MESSAGE = 4
    DEFERRED_CHANNEL_MESSAGE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    AUTOCOMPLETE_RESULT = 8
    MODAL = 9


class EmulatorError(AssertionError):
    """The test asked for something a Discord user could not do (bad command, option, button)."""


class CommandStore:
    """What the bot registered: bulk overwrites replace the whole scope, ids stay stable."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self.sync_count = 0
        self._ids: dict[tuple[int | None, int, str], int] = {}
        self._version = 0

    def overwrite(self, guild_id: int | None, commands: list[JSON]) -> list[JSON]:
        stored = [self._store(guild_id, c) for c in commands]
        if guild_id is None:
            self.global_commands = stored
        else:
            self.guild_commands[guild_id] = stored
        self.sync_count += 1
        return stored

    def upsert(self, guild_id: int | None, command: JSON) -> JSON:
        stored = self._store(guild_id, command)
        scope = self.scope(guild_id)
        scope[:] = [c for c in scope if c["id"] != stored["id"]] + [stored]
        return stored

    def scope(self, guild_id: int | None) -> list[JSON]:
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.setdefault(guild_id, [])

    def _store(self, guild_id: int | None, command: JSON) -> JSON:
        kind = int(command.get("type") or 1)
        key = (guild_id, kind, command["name"])
        if key not in self._ids:
            self._ids[key] = self.world.ids.next()
        self._version += 1
        perms = command.get("default_member_permissions")
        stored: JSON = {
            "id": str(self._ids[key]),
            "application_id": str(self.world.bot_user.id),
            "version": str(self.world.ids.next()),
            "type": kind,
            "name": command["name"],
            "name_localizations": command.get("name_localizations"),
            "description": command.get("description") or "",
            "description_localizations": command.get("description_localizations"),
            "options": command.get("options") or [],
            "default_member_permissions": None if perms is None else str(perms),
            "dm_permission": command.get("dm_permission", True),
            "contexts": command.get("contexts"),
            "integration_types": command.get("integration_types") or [0],
            "nsfw": bool(command.get("nsfw", False)),
        }
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        return stored

    def all(self) -> list[JSON]:
        return self.global_commands + [c for cmds in self.guild_commands.values() for c in cmds]

    def find(self, name: str, guild: Guild | None) -> JSON | None:
        candidates = (self.guild_commands.get(guild.id, []) if guild else []) + self.global_commands
        for command in candidates:
            if command["name"] == name and command["type"] == 1:
                return command
        return None


@dataclass(eq=False)
class InteractionRecord:
    """One interaction the emulator sent, and everything the bot answered."""

    id: int
    token: str
    type: int
    user: User
    member: Member | None
    channel: Channel
    payload: JSON = field(default_factory=dict)
    source_message: Message | None = None
    callback_type: int | None = None
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)
    choices: list[JSON] | None = None
    modal: JSON | None = None
    created: float = field(default_factory=time.monotonic)

    @property
    def guild(self) -> Guild | None:
        return self.channel.guild

    @property
    def settled(self) -> bool:
        """Answered, and a deferred reply has received its first follow-up or edit."""
        if self.callback_type is None:
            return False
        if self.callback_type == CallbackType.DEFERRED_CHANNEL_MESSAGE:
            original = self.original
            if original is not None and original.deleted and original.loading:
                return bool(self.followups)  # the "thinking" message gave way to a follow-up
            return original is not None and not original.loading
        return True


class Reply:
    """What the user sees after an interaction; reads the live message, so later edits show."""

    def __init__(self, record: InteractionRecord, message: Message | None) -> None:
        self.interaction = record
        self.message = message

    def __repr__(self) -> str:
        return (
            f"<Reply type={self.callback_type} content={self.content!r} ephemeral={self.ephemeral}>"
        )

    @property
    def callback_type(self) -> int | None:
        return self.interaction.callback_type

    @property
    def content(self) -> str:
        return self.message.content if self.message else ""

    @property
    def embeds(self) -> list[JSON]:
        return self.message.embeds if self.message else []

    @property
    def components(self) -> list[JSON]:
        return self.message.components if self.message else []

    @property
    def ephemeral(self) -> bool:
        return bool(self.message and self.message.ephemeral)

    @property
    def message_id(self) -> int | None:
        return self.message.id if self.message else None

    @property
    def deleted(self) -> bool:
        return bool(self.message and self.message.deleted)

    @property
    def deferred(self) -> bool:
        return self.callback_type in (
            CallbackType.DEFERRED_CHANNEL_MESSAGE,
            CallbackType.DEFERRED_UPDATE_MESSAGE,
        )

    @property
    def followups(self) -> list[Message]:
        """Follow-up messages other than the one that replaced a deferred reply."""
        return [m for m in self.interaction.followups if m is not self.message]

    @property
    def modal(self) -> JSON | None:
        return self.interaction.modal

    @property
    def buttons(self) -> list[JSON]:
        return [c for c in iter_components(self.components) if c.get("type") == 2]


def iter_components(components: list[JSON]) -> list[JSON]:
    """All components, flattened out of action rows and layout containers."""
    found: list[JSON] = []
    for component in components:
        found.append(component)
        found.extend(iter_components(component.get("components") or []))
        if isinstance(component.get("accessory"), dict):
            found.append(component["accessory"])
    return found


def new_token() -> str:
    return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)


def option_kwargs(options: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Merges ``options=`` and keyword options; a trailing underscore is dropped (``pass_``)."""
    merged = dict(options or {})
    for key, value in kwargs.items():
        merged[key[:-1] if key.endswith("_") else key] = value
    return merged


class OptionBuilder:
    """Turns Python values into typed interaction options, following the synced definitions."""

    def __init__(
        self, invoker: Member | None, channel: Channel, *, focused: str | None = None
    ) -> None:
        self.invoker = invoker
        self.channel = channel
        self.focused = focused
        self.resolved: dict[str, dict[str, JSON]] = {}

    def command_data(
        self, command: JSON, path: list[str], values: dict[str, Any], focused_value: str = ""
    ) -> JSON:
        definitions: list[JSON] = command.get("options") or []
        options = self._walk(command["name"], definitions, path, dict(values), focused_value)
        data: JSON = {"id": command["id"], "name": command["name"], "type": 1, "options": options}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        if self.resolved:
            data["resolved"] = self.resolved
        return data

    def _walk(
        self, where: str, defs: list[JSON], path: list[str], values: dict[str, Any], focused: str
    ) -> list[JSON]:
        nested = [
            d for d in defs if d["type"] in (OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP)
        ]
        if nested:
            names = sorted(d["name"] for d in nested)
            if not path:
                raise EmulatorError(f"/{where} needs a subcommand: one of {names}")
            match = next((d for d in nested if d["name"] == path[0]), None)
            if match is None:
                raise EmulatorError(f"/{where} has no subcommand {path[0]!r}; known: {names}")
            inner = self._walk(
                f"{where} {path[0]}", match.get("options") or [], path[1:], values, focused
            )
            return [{"type": match["type"], "name": match["name"], "options": inner}]
        if path:
            raise EmulatorError(f"/{where} has no subcommands, got {' '.join(path)!r}")
        known = {d["name"]: d for d in defs}
        unknown = sorted(set(values) - set(known) - ({self.focused} if self.focused else set()))
        if unknown:
            raise EmulatorError(f"/{where} has no option(s) {unknown}; known: {sorted(known)}")
        options: list[JSON] = []
        for definition in defs:
            name = definition["name"]
            if name == self.focused:
                if not definition.get("autocomplete"):
                    raise EmulatorError(f"/{where} option {name!r} has no autocomplete")
                options.append(
                    {"type": definition["type"], "name": name, "value": focused, "focused": True}
                )
            elif name in values:
                value = self._convert(where, definition, values[name])
                options.append({"type": definition["type"], "name": name, "value": value})
            elif definition.get("required") and self.focused is None:
                raise EmulatorError(f"/{where} requires option {name!r}")
        if self.focused is not None and self.focused not in known:
            raise EmulatorError(f"/{where} has no option {self.focused!r}; known: {sorted(known)}")
        return options

    def _convert(self, where: str, definition: JSON, value: Any) -> Any:
        kind, name = definition["type"], definition["name"]
        label = f"/{where} option {name!r}"
        if kind == OptionType.STRING:
            if not isinstance(value, str):
                raise EmulatorError(f"{label} takes a string, got {value!r}")
            if (
                not definition.get("min_length", 0)
                <= len(value)
                <= definition.get("max_length", 6000)
            ):
                raise EmulatorError(f"{label}: length {len(value)} is outside the allowed range")
        elif kind == OptionType.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise EmulatorError(f"{label} takes an integer, got {value!r}")
            self._check_range(label, definition, value)
        elif kind == OptionType.NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise EmulatorError(f"{label} takes a number, got {value!r}")
            self._check_range(label, definition, value)
        elif kind == OptionType.BOOLEAN:
            if not isinstance(value, bool):
                raise EmulatorError(f"{label} takes a bool, got {value!r}")
        elif kind in (OptionType.USER, OptionType.MENTIONABLE) and isinstance(value, Member | User):
            return self._resolve_user(value)
        elif kind in (OptionType.ROLE, OptionType.MENTIONABLE) and isinstance(value, Role):
            self.resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return str(value.id)
        elif kind == OptionType.CHANNEL and isinstance(value, Channel):
            return self._resolve_channel(label, definition, value)
        else:
            raise EmulatorError(f"{label} (type {kind}) cannot take {value!r}")
        choices = definition.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise EmulatorError(
                f"{label} must be one of {[c['value'] for c in choices]}, got {value!r}"
            )
        return value

    @staticmethod
    def _check_range(label: str, definition: JSON, value: float) -> None:
        low, high = definition.get("min_value"), definition.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise EmulatorError(f"{label}: {value} is outside [{low}, {high}]")

    def _resolve_user(self, value: Member | User) -> str:
        user = value.user if isinstance(value, Member) else value
        self.resolved.setdefault("users", {})[str(user.id)] = user.payload()
        guild = self.channel.guild
        member = (
            value if isinstance(value, Member) else (guild.members.get(user.id) if guild else None)
        )
        if member is not None and guild is not None and member.guild is guild:
            self.resolved.setdefault("members", {})[str(user.id)] = member.payload(
                with_user=False, channel=self.channel
            )
        return str(user.id)

    def _resolve_channel(self, label: str, definition: JSON, channel: Channel) -> str:
        allowed = definition.get("channel_types")
        if allowed and int(channel.type) not in allowed:
            raise EmulatorError(
                f"{label} accepts channel types {allowed}, got {ChannelType(channel.type).name}"
            )
        data: JSON = {"id": str(channel.id), "name": channel.name, "type": int(channel.type)}
        if channel.guild is not None:
            data["guild_id"] = str(channel.guild.id)
            data["parent_id"] = str(channel.parent.id) if channel.parent else None
        if self.invoker is not None:
            data["permissions"] = str(self.invoker.permissions_in(channel))
        if channel.is_thread:
            data["thread_metadata"] = channel.payload()["thread_metadata"]
        self.resolved.setdefault("channels", {})[str(channel.id)] = data
        return str(channel.id)


def interaction_payload(world: World, record: InteractionRecord, data: JSON) -> JSON:
    """The INTERACTION_CREATE body, with the fields discord.py 2.7 reads."""
    bot = world.bot_user
    channel = record.channel
    guild = channel.guild
    payload: JSON = {
        "id": str(record.id),
        "application_id": str(bot.id),
        "type": record.type,
        "data": data,
        "token": record.token,
        "version": 1,
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        "channel_id": str(channel.id),
    }
    if guild is not None and record.member is not None:
        bot_member = guild.me
        payload.update(
            guild_id=str(guild.id),
            guild={"id": str(guild.id), "locale": "en-US", "features": []},
            guild_locale="en-US",
            member=record.member.payload(channel=channel),
            channel=channel.payload(for_member=record.member),
            app_permissions=str(bot_member.permissions_in(channel)),
            authorizing_integration_owners={"0": str(guild.id)},
            context=0,
        )
    else:
        payload.update(
            user=record.user.payload(),
            channel=channel.payload(),
            app_permissions=str(DM_APP_PERMISSIONS),
            authorizing_integration_owners={"0": "0"},
            context=1,
        )
    if record.source_message is not None:
        payload["message"] = record.source_message.payload()
    return payload
