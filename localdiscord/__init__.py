"""A local Discord (gateway + REST v10) that an unmodified discord.py client logs in to.

See README.md in this folder.
"""

from .interactions import EmulatorError, Reply
from .local_discord import EmulatorProblems, LocalDiscord
from .model import (
    ALL_PERMISSIONS,
    DEFAULT_BOT,
    DEFAULT_EVERYONE,
    Channel,
    ChannelType,
    Guild,
    Member,
    Message,
    Overwrite,
    Permission,
    Role,
    User,
)
from .ratelimit import BucketRule, RequestRecord
from .spec_validation import BodyError, spec_validator

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_BOT",
    "DEFAULT_EVERYONE",
    "BodyError",
    "BucketRule",
    "Channel",
    "ChannelType",
    "EmulatorError",
    "EmulatorProblems",
    "Guild",
    "LocalDiscord",
    "Member",
    "Message",
    "Overwrite",
    "Permission",
    "Reply",
    "RequestRecord",
    "Role",
    "User",
    "spec_validator",
]
