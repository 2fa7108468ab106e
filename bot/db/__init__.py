"""The database kernel: one SQLite connection (WAL, busy timeout, foreign keys), numbered
migrations, and time stamps as SQLite text. Features own their tables and SQL in their `repo`."""

from bot.db.connection import Database, fetch_all, fetch_one, from_db_time, to_db_time

__all__ = ["Database", "fetch_all", "fetch_one", "from_db_time", "to_db_time"]
