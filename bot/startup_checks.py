"""What `twopass run` checks before it connects to Discord, in order: the roadmap, then the
database (its path, its file, its schema version, the timezones stored in it).

Each problem becomes a `StartupError`: one line naming what failed, and an exit code that tells
a supervisor whether restarting can help (see README, "Exit codes"):

    0  stopped normally
    1  a runtime failure: Discord unreachable or refusing the token; restarting may help
    2  usage or configuration: a bad argument or setting (a database URL that cannot be read),
       a broken roadmap file
    3  the database cannot be used as it is: not a database or damaged, written by a newer
       twopass, a folder or unwritable path, or it holds a timezone this host does not know;
       a PostgreSQL server that refuses the role, password or database (one that cannot be
       reached at all is 1: restarting may help)
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.db import Database, SQLiteDatabase
from bot.db.migrations import LATEST, SchemaTooNew
from bot.db.target import Target, parse
from bot.settings import Settings
from curriculum import (
    DEFAULT_PATH,
    Curriculum,
    CurriculumError,
    DuplicateRoadmap,
    Roadmaps,
    load_curriculum,
)
from curriculum.roadmaps import assemble, roadmap_files

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_CONFIG = 2
EXIT_DATABASE = 3

_SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100

log = logging.getLogger(__name__)


class StartupError(Exception):
    """A problem found while starting; printed as one line and turned into `exit_code`."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --- the roadmap ----------------------------------------------------------------------------


def roadmap_path(settings: Settings) -> Path:
    return settings.curriculum or DEFAULT_PATH


def check_roadmap(settings: Settings) -> Curriculum:
    """Load the roadmap first: a broken file stops start-up before the database is touched."""
    return _load_roadmap(roadmap_path(settings))


def _load_roadmap(path: Path) -> Curriculum:
    try:
        return load_curriculum(path)
    except CurriculumError as exc:
        raise StartupError(
            f"roadmap {exc} - run `twopass curriculum check {path}` for every fault",
            EXIT_CONFIG,
        ) from None


def check_roadmaps(settings: Settings) -> Roadmaps:
    """Every roadmap a server may choose: the default (`TWOPASS_CURRICULUM`), the bundled ones
    and each `*.toml` in `TWOPASS_ROADMAPS`. The first broken file stops start-up, in the same
    one line as the default's, before the database is touched."""
    folder = settings.roadmaps
    if folder is not None and not folder.is_dir():
        raise StartupError(
            f"roadmaps {folder}: no such folder (TWOPASS_ROADMAPS names a folder of *.toml "
            "roadmap files)",
            EXIT_CONFIG,
        )
    loaded = [(path, _load_roadmap(path)) for path in roadmap_files(roadmap_path(settings), folder)]
    try:
        return assemble(loaded)
    except DuplicateRoadmap as exc:
        raise StartupError(
            f"roadmap {exc}; give each roadmap file its own id", EXIT_CONFIG
        ) from None


# --- the database ---------------------------------------------------------------------------


def _database_error(path: Path | Target | str, what: str) -> StartupError:
    return StartupError(f"database {path}: {what} (TWOPASS_DATABASE)", EXIT_DATABASE)


def check_database_path(path: Path) -> None:
    """Before SQLite sees the path: it names a file we can write, and if one is there, it
    starts like an SQLite database and is as long as its header says."""
    if str(path) == ":memory:":
        return
    if path.is_dir():
        raise _database_error(path, "is a folder; point TWOPASS_DATABASE at a file inside it")
    folder = _existing_ancestor(path.parent)
    if not folder.is_dir():
        raise _database_error(path, f"{folder} is a file, not a folder")
    if not path.exists():
        if not os.access(folder, os.W_OK | os.X_OK):
            raise _database_error(path, f"cannot create it: no write permission in {folder}")
        return
    if not os.access(path, os.R_OK | os.W_OK):
        raise _database_error(path, "no permission to read and write it")
    if path.parent.is_dir() and not os.access(path.parent, os.W_OK | os.X_OK):
        # SQLite keeps its write-ahead log beside the database.
        raise _database_error(path, f"no write permission in {path.parent} for its -wal file")
    _check_header(path)


def _existing_ancestor(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as file:
            header = file.read(_HEADER_SIZE)
    except OSError as exc:
        raise _database_error(path, f"cannot read it ({exc.strerror})") from None
    if not header:
        return  # an empty file is an empty database; SQLite fills it in
    if len(header) < _HEADER_SIZE or not header.startswith(_SQLITE_MAGIC):
        raise _database_error(path, "is not an SQLite database")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count is trustworthy only when written with the current change counter.
    counted = header[24:28] == header[92:96] and pages > 0
    wal = Path(f"{path}-wal")
    # Pages still in the write-ahead log are not in the file yet: then its length proves nothing.
    wal_pending = wal.exists() and wal.stat().st_size > 0
    if counted and not wal_pending and path.stat().st_size < page_size * pages:
        raise _database_error(
            path,
            f"is truncated ({path.stat().st_size} bytes of {page_size * pages}); "
            "restore it from a backup",
        )


def describe_sqlite_error(path: Path, exc: sqlite3.Error | OSError) -> StartupError:
    if isinstance(exc, OSError):
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return _database_error(path, f"cannot write it ({exc.strerror})")
        return _database_error(path, f"cannot open it ({exc.strerror or exc})")
    text = str(exc)
    if "readonly" in text or "unable to open" in text:
        return _database_error(path, f"cannot open it for writing ({text})")
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return _database_error(
            path, f"is not an SQLite database or is damaged ({text}); restore it from a backup"
        )
    return _database_error(path, text)


def describe_schema_too_new(path: Path | Target | str, exc: SchemaTooNew) -> StartupError:
    return _database_error(
        path,
        f"was written by a newer twopass (schema version {exc.version}; this one knows "
        f"up to {LATEST}); upgrade twopass rather than downgrade the database",
    )


async def open_database(
    location: Path | str, *, migrate: bool = True, setting: str = "TWOPASS_DATABASE"
) -> Database:
    """Open (and by default migrate) the database `location` names (a file, or a PostgreSQL
    URL), or raise one `StartupError` saying why not. `setting` is where the location was given,
    for a URL that cannot be read (which is never quoted: it may hold a password)."""
    target = parse(location)
    if target.path is None:
        return await _open_postgres(target, migrate=migrate, setting=setting)
    path = target.path
    check_database_path(path)
    try:
        database = await SQLiteDatabase.open(path, migrate=migrate)
    except SchemaTooNew as exc:
        raise describe_schema_too_new(path, exc) from None
    except (sqlite3.Error, OSError) as exc:
        raise describe_sqlite_error(path, exc) from None
    try:
        # Reading the schema is where a damaged first page shows; fail here, not mid-command.
        await database.rows("SELECT count(*) FROM sqlite_master")
    except sqlite3.Error as exc:
        await database.close()
        raise describe_sqlite_error(path, exc) from None
    return database


async def _open_postgres(target: Target, *, migrate: bool, setting: str) -> Database:
    import asyncpg

    from bot.db.postgres import PostgresDatabase, UnreadableURL

    assert target.url is not None
    try:
        return await PostgresDatabase.open(target.url, migrate=migrate)
    except UnreadableURL:
        raise StartupError(
            f"{setting} is not a PostgreSQL URL that can be read: write it as "
            "postgresql://user:password@host:5432/name, with any / ? # @ : % in the password "
            "percent-encoded (/ as %2F)",
            EXIT_CONFIG,
        ) from None
    except SchemaTooNew as exc:
        raise describe_schema_too_new(target, exc) from None
    except (OSError, TimeoutError) as exc:
        # The server is down or unreachable: a supervisor's restart may find it back.
        raise StartupError(
            f"database {target}: cannot reach the PostgreSQL server ({exc}); exiting with "
            f"{EXIT_RUNTIME} so a supervisor can restart it",
            EXIT_RUNTIME,
        ) from None
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        # Refused: a wrong password or role, a database that does not exist, no permission.
        raise _database_error(target, f"PostgreSQL refused it ({exc})") from None


async def check_stored_timezones(database: Database) -> list[str]:
    """Timezones a server or member chose that this host does not know (old or missing tz data).
    They must not stop the bot for every other server: each is named in one WARNING line, and
    those servers and members are read as UTC (`bot.zones`) until the host's tz data is
    updated. Returns the unknown zones."""
    try:
        rows = await database.rows(
            "SELECT timezone FROM guild_settings UNION SELECT timezone FROM members"
        )
    except sqlite3.Error as exc:
        raise describe_sqlite_error(Path(database.name), exc) from None
    unknown = []
    for (zone,) in rows:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            unknown.append(zone)
            log.warning(
                "a server or member uses the timezone %r, which this host does not know; it is "
                "read as UTC until the host's tz database is updated (pip install -U tzdata)",
                zone,
            )
    return unknown
