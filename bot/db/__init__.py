"""The database kernel: the interface every feature's repository uses (`Database`), its SQLite
implementation (one file: WAL, busy timeout, foreign keys; the embedded default) and its
PostgreSQL one (an asyncpg pool), numbered migrations for each, and time stamps as text.
Features own their tables and SQL in their `repo`."""

from bot.db.connection import SQLiteDatabase, fetch_all, fetch_one, from_db_time, to_db_time
from bot.db.interface import Connection, Database, Params

__all__ = [
    "Connection",
    "Database",
    "Params",
    "SQLiteDatabase",
    "fetch_all",
    "fetch_one",
    "from_db_time",
    "to_db_time",
]
