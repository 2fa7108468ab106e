"""`twopass run` as a user runs it: each start-up fault is one line and a documented exit code.

Exit codes (README, "Exit codes"): 1 runtime (Discord), 2 usage or configuration, 3 database.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.db.migrations import LATEST
from bot.startup_checks import EXIT_CONFIG, EXIT_DATABASE, EXIT_RUNTIME
from tests.tables import Store

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.secret-part.do-not-leak"
# This checkout, for a subprocess given a PYTHONPATH of its own (not an installed copy).
ROOT = Path(__file__).resolve().parents[1]


def twopass(
    cwd: Path, *args: str, pythonpath: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TWOPASS_", "DISCORD_"))}
    clean.update(env)
    if pythonpath is not None:
        clean["PYTHONPATH"] = os.pathsep.join([str(pythonpath), str(ROOT)])
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean,
        check=False,
        timeout=60,
    )


def fails_with(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The run exited with `code`, its last line names the fault, and nothing else went wrong."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stderr + result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("twopass: "), result.stderr
    for word in words:
        assert word in last, last
    # Only the final line is ours; anything before it is ordinary INFO logging.
    for line in result.stderr.strip().splitlines()[:-1]:
        assert " INFO " in line, line
    return last


def run(tmp_path: Path, database: Path | str, **env: str) -> subprocess.CompletedProcess[str]:
    return twopass(tmp_path, "run", DISCORD_TOKEN=TOKEN, TWOPASS_DATABASE=str(database), **env)


def real_database(tmp_path: Path, name: str = "real.sqlite3") -> Path:
    """A database at the current schema (made in-process: a subprocess per test adds up)."""
    path = tmp_path / name

    async def make() -> None:
        async with await Store.open(path):
            pass

    asyncio.run(make())
    return path


# --- Discord ---------------------------------------------------------------------------------


def unreachable_discord(tmp_path: Path) -> tuple[Path, int]:
    """A folder for PYTHONPATH that points discord.py's REST base at a port nobody listens on,
    from outside the product code; and the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        textwrap.dedent(f"""
            import discord.http
            discord.http.Route.BASE = "http://127.0.0.1:{port}/api/v10"
        """)
    )
    return site, port


def test_discord_unreachable_exits_1_with_one_line_and_no_voice_warning(tmp_path: Path) -> None:
    site, port = unreachable_discord(tmp_path)
    result = twopass(
        tmp_path,
        "run",
        pythonpath=site,
        DISCORD_TOKEN=TOKEN,
        TWOPASS_DATABASE=str(tmp_path / "db.sqlite3"),
    )
    fails_with(result, EXIT_RUNTIME, "cannot reach Discord", f"127.0.0.1:{port}")
    assert "PyNaCl" not in result.stderr and "voice will NOT be supported" not in result.stderr


# --- secrets in URLs ------------------------------------------------------------------------

SECRET = "s3cr/et#pw"  # a password with characters a URL must percent-encode


def test_the_database_named_at_start_shows_no_password(tmp_path: Path, postgres_url: str) -> None:
    site, _ = unreachable_discord(tmp_path)
    url = f"{postgres_url}&password=hunter2-s3cret"
    result = twopass(tmp_path, "run", pythonpath=site, DISCORD_TOKEN=TOKEN, TWOPASS_DATABASE=url)
    fails_with(result, EXIT_RUNTIME, "cannot reach Discord")
    assert "&password=*** at schema version" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://bot:{SECRET}@127.0.0.1:5432/twopass",
        f"postgresql://bot:{SECRET.replace('/', '?')}@127.0.0.1:5432/twopass",
        "postgresql://bot@127.0.0.1:5x32/twopass?password=s3cret",
        "postgresql://bot@127.0.0.1:99999/twopass?password=s3cret",
        "postgresql://bot@127.0.0.1:5432/twopass?sslmode=sometimes&password=s3cret",
    ],
    ids=["slash-in-password", "question-mark-in-password", "port", "port-range", "sslmode"],
)
def test_a_postgresql_url_that_cannot_be_read_is_one_line_without_it(
    tmp_path: Path, url: str
) -> None:
    result = run(tmp_path, url)
    last = fails_with(result, EXIT_CONFIG, "TWOPASS_DATABASE is not a PostgreSQL URL")
    assert "s3cr" not in result.stdout + result.stderr and "%2F" in last


def test_the_database_commands_name_where_an_unreadable_url_was_given(tmp_path: Path) -> None:
    url = f"postgresql://bot:{SECRET}@127.0.0.1:5432/twopass"
    upgrade = twopass(tmp_path, "db", "upgrade", TWOPASS_DATABASE=url)
    fails_with(upgrade, EXIT_CONFIG, "TWOPASS_DATABASE is not a PostgreSQL URL")
    copy = twopass(tmp_path, "db", "copy", str(real_database(tmp_path)), url)
    fails_with(copy, EXIT_CONFIG, "DEST is not a PostgreSQL URL")
    for result in (upgrade, copy):
        assert "s3cr" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "url",
    [
        f"redis://:{SECRET}@127.0.0.1:6379/0",
        "redis://:s3cret@127.0.0.1:63x9/0",
        "redis://:s3cret@127.0.0.1:70000/0",
        "redis://:s3cret@127.0.0.1:6379/0?socket_timeout=soon",
    ],
    ids=["slash-in-password", "port", "port-range", "query"],
)
def test_a_redis_url_that_cannot_be_read_is_one_line_without_it(tmp_path: Path, url: str) -> None:
    result = run(tmp_path, tmp_path / "db.sqlite3", TWOPASS_REDIS_URL=url)
    last = fails_with(result, EXIT_CONFIG, "redis_url: cannot be read as a Redis URL")
    assert "s3cr" not in result.stdout + result.stderr and "%2F" in last
    assert not (tmp_path / "db.sqlite3").exists()  # refused before the database was touched


# --- the roadmap, checked before the database ------------------------------------------------

TINY = """id = "tiny"
title = "Tiny"

[[phases]]
id = "one"
title = "One"
goal = "Try it"
guide_hours = [1, 2]

[[phases.videos]]
id = "a"
title = "A"
creator = "Me"
url = "https://example.org/a"
minutes = 10
first_pass = "Watch"
second_pass = "Do"
"""


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("id = ", ("not valid TOML",)),
        (TINY.replace("minutes = 10", "minutes = -10"), ("line 15", "'minutes' must be more")),
        (TINY + TINY[TINY.index("[[phases.videos]]") :], ("duplicate video id 'a'",)),
        (None, ("cannot read the file",)),
    ],
    ids=["invalid-toml", "negative-length", "duplicate-id", "missing-file"],
)
def test_broken_roadmap_exits_2_before_the_database_exists(
    tmp_path: Path, text: str | None, words: tuple[str, ...]
) -> None:
    roadmap = tmp_path / "roadmap.toml"
    if text is not None:
        roadmap.write_text(text)
    database = tmp_path / "data" / "db.sqlite3"
    result = run(tmp_path, database, TWOPASS_CURRICULUM=str(roadmap))
    fails_with(result, EXIT_CONFIG, f"roadmap {roadmap}", *words)
    assert not database.parent.exists()


# --- the database ----------------------------------------------------------------------------


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 10)
    fails_with(run(tmp_path, path), EXIT_DATABASE, str(path), "is not an SQLite database")


def test_a_truncated_database(tmp_path: Path) -> None:
    path = real_database(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    fails_with(run(tmp_path, path), EXIT_DATABASE, "is truncated", "restore it from a backup")


def test_a_damaged_database(tmp_path: Path) -> None:
    path = real_database(tmp_path)
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # the schema's page, after the file header
    path.write_bytes(bytes(data))
    fails_with(run(tmp_path, path), EXIT_DATABASE, "is not an SQLite database or is damaged")


def test_a_database_from_a_newer_version(tmp_path: Path) -> None:
    path = real_database(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {LATEST + 1}")
    last = fails_with(run(tmp_path, path), EXIT_DATABASE, "newer twopass", "upgrade twopass")
    assert f"schema version {LATEST + 1}" in last


def test_a_folder_at_the_database_path(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    fails_with(run(tmp_path, folder), EXIT_DATABASE, str(folder), "is a folder")


def test_a_path_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be")
    fails_with(run(tmp_path, blocker / "db.sqlite3"), EXIT_DATABASE, "is a file, not a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_a_folder_without_write_permission(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    try:
        fails_with(run(tmp_path, folder / "db.sqlite3"), EXIT_DATABASE, "no write permission")
    finally:
        folder.chmod(0o700)


def test_a_stored_timezone_the_host_lacks_is_one_warning_and_the_rest_starts(
    tmp_path: Path,
) -> None:
    # One server's zone must not keep the bot from every other server: one WARNING line, and
    # start-up goes on to Discord (here a port nobody listens on, so it stops there).
    path = real_database(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO guild_settings (guild_id, timezone, cohort_start, updated_at) "
            "VALUES (1, 'Mars/Olympus', '2026-01-01', '2026-01-01 00:00:00')"
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        f'import discord.http\ndiscord.http.Route.BASE = "http://127.0.0.1:{port}/api/v10"\n'
    )
    result = twopass(
        tmp_path, "run", pythonpath=site, DISCORD_TOKEN=TOKEN, TWOPASS_DATABASE=str(path)
    )
    assert result.returncode == EXIT_RUNTIME, result.stderr
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if " WARNING " in line]
    assert len(warnings) == 1 and "'Mars/Olympus'" in warnings[0] and "as UTC" in warnings[0]
    assert "cannot reach Discord" in result.stderr.strip().splitlines()[-1]


# --- where settings come from ----------------------------------------------------------------


def test_env_file_is_read_from_another_folder(tmp_path: Path) -> None:
    home = tmp_path / "srv"
    home.mkdir()
    (home / "data").mkdir()  # a folder at the database path proves the file was read
    env = home / "twopass.env"
    env.write_text(f"DISCORD_TOKEN={TOKEN}\nTWOPASS_DATABASE={home / 'data'}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    before = twopass(elsewhere, "--env-file", str(env), "run")
    fails_with(before, EXIT_DATABASE, "is a folder")
    after = twopass(elsewhere, "run", "--env-file", str(env))
    fails_with(after, EXIT_DATABASE, "is a folder")
    # Without it, the folder has no .env: the token is missing, and the line says where it looked.
    plain = twopass(elsewhere, "run")
    last = fails_with(plain, EXIT_CONFIG, "DISCORD_TOKEN is not set", "--env-file")
    assert str(elsewhere / ".env") in last


def test_env_file_that_does_not_exist(tmp_path: Path) -> None:
    result = twopass(tmp_path, "--env-file", str(tmp_path / "nope.env"), "run")
    fails_with(result, EXIT_CONFIG, "--env-file", "no such file")


def test_db_upgrade_reads_the_env_file(tmp_path: Path) -> None:
    env = tmp_path / "conf" / "twopass.env"
    env.parent.mkdir()
    database = tmp_path / "store" / "db.sqlite3"
    env.write_text(f"TWOPASS_DATABASE={database}\n")
    result = twopass(tmp_path, "db", "upgrade", "--env-file", str(env))
    assert result.returncode == 0, result.stderr
    assert database.exists()


# --- files only the bot's user can read ------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_database_wal_shm_and_backups_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, which made everything 0644 in a 0755 folder
    try:
        path = tmp_path / "data" / "twopass.sqlite3"
        async with await Store.open(path) as store:
            await store.set_state("probe", "x")  # a write, so the -wal and -shm exist
            for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                assert _mode(file) == 0o600, file
            assert _mode(path.parent) == 0o700
            backup = tmp_path / "backups" / "copy.sqlite3"
            await store.backup(backup)
        assert _mode(backup) == 0o600 and _mode(backup.parent) == 0o700
    finally:
        os.umask(old)


def test_an_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    real_database(tmp_path, "shared/db.sqlite3")
    assert _mode(folder) == 0o750
    assert _mode(folder / "db.sqlite3") == 0o600


# --- logs --------------------------------------------------------------------------------------


def test_debug_logs_never_carry_a_members_note(tmp_path: Path) -> None:
    """A DEBUG run that logs a pass with a note: aiosqlite would log the statement's parameters."""
    script = textwrap.dedent(f"""
        import asyncio
        from datetime import UTC, datetime
        from bot.cli import configure_logging
        from tests.tables import Store, Study
        from curriculum import Pass, default_curriculum

        configure_logging("DEBUG")

        async def main():
            async with await Store.open({str(tmp_path / "db.sqlite3")!r}) as store:
                study = Study(store, default_curriculum())
                now = datetime.now(UTC)
                await study.join(1, 2, now)
                await study.log(1, 2, "neural-network", Pass.FIRST, now, note="my private note")

        asyncio.run(main())
    """)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert " DEBUG " in result.stderr  # the run really logged at DEBUG
    assert "my private note" not in result.stderr


# --- the command list --------------------------------------------------------------------------


def test_commands_prints_a_readable_list_by_default(tmp_path: Path) -> None:
    result = twopass(tmp_path, "commands")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("/done <video> <pass> [note]") for line in lines)
    assert (
        "/setup channel <channel> [timezone] [checkin_day] [checkin_time] [daily_time]"
        " [admin_channel]" in lines
    )
    assert lines[lines.index("/leave") + 1].startswith("    ")
    assert result.stderr == ""
    as_json = twopass(tmp_path, "commands", "--json")
    assert as_json.returncode == 0 and as_json.stdout.lstrip().startswith("[")
