"""The embedded SQLite store (aiosqlite). It knows SQL and nothing about Discord."""

from bot.store.boards import BoardQueries, BoardRow, CohortPass
from bot.store.core import StoreCore
from bot.store.posts import PostQueries, PostRecord
from bot.store.records import GuildSettings, HistoryEntry, LoggedPass, Member
from bot.store.study import LogOutcome, LogResult, StudyQueries, UndoOutcome

__all__ = [
    "BoardRow",
    "CohortPass",
    "GuildSettings",
    "HistoryEntry",
    "LogOutcome",
    "LogResult",
    "LoggedPass",
    "Member",
    "PostRecord",
    "Store",
    "StoreCore",
    "UndoOutcome",
]


class Store(StudyQueries, BoardQueries, PostQueries):
    """Every query the bot makes, on one connection."""
