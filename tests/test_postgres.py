"""The PostgreSQL side of the store: the repositories' SQL as PostgreSQL reads it, and the
write lock that keeps what they decide from what they read true across connections."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.db.postgres import translate, writes
from bot.urls import shown
from tests.tables import Store
from tests.test_settings_and_cli import run_cli


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT a FROM t WHERE b = ? AND c = ?", ("SELECT a FROM t WHERE b = $1 AND c = $2", ())),
        (
            "UPDATE t SET a = nullif(a, ?1) WHERE ?1 IN (a, b) AND c = ?2",
            ("UPDATE t SET a = nullif(a, $1) WHERE $1 IN (a, b) AND c = $2", ()),
        ),
        ("SELECT :g, :u WHERE x = :g", ("SELECT $1, $2 WHERE x = $1", ("g", "u"))),
        # A colon or question mark inside a literal, and a cast, are left alone.
        (
            "SELECT group_concat(v || ':' || p, ' ?') FROM t WHERE k::text = :k",
            ("SELECT string_agg(v || ':' || p, ' ?') FROM t WHERE k::text = $1", ("k",)),
        ),
    ],
)
def test_placeholders_and_functions_become_postgresqls(
    sql: str, expected: tuple[str, tuple[str, ...]]
) -> None:
    assert translate(sql) == expected


def test_what_counts_as_a_write_and_what_a_log_shows() -> None:
    assert writes("INSERT INTO t VALUES (?)") and writes("  update t set a = 1")
    assert writes("WITH x AS (SELECT 1) DELETE FROM t")
    assert not writes("SELECT inserted FROM t") and not writes("WITH x AS (SELECT 1) SELECT 2")
    assert (
        shown("postgresql://bot:s3cret@db:5432/twopass") == "postgresql://bot:***@db:5432/twopass"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://bot@db/twopass", "postgresql://bot@db/twopass"),
        (
            "postgresql://bot@db/twopass?search_path=t&password=s3cret",
            "postgresql://bot@db/twopass?search_path=t&password=***",
        ),
        ("postgres://db/twopass?sslpassword=s3cret", "postgres://db/twopass?sslpassword=***"),
        # Unencoded, a `/`, `?` or `#` cuts the password short: nothing of it may show.
        ("postgresql://bot:s3/cret@db/twopass", "postgresql://***"),
        ("postgresql://bot:s3?cret@db/twopass", "postgresql://***"),
        ("postgresql://bot:s3#cret@db/twopass", "postgresql://***"),
        ("postgresql://bot:s3@cret@db:5432/twopass", "postgresql://bot:***@db:5432/twopass"),
        (
            "postgresql://bot:s3%2Fcret@[::1]:5432/twopass",
            "postgresql://bot:***@[::1]:5432/twopass",
        ),
        ("postgresql://bot:s3cret@[::1/twopass", "postgresql://***"),
        ("postgresql://bot:s3cret@db:port/twopass", "postgresql://bot:***@db:port/twopass"),
        ("postgresql://bot:s3cret@h1:5432,h2/twopass", "postgresql://bot:***@h1:5432,h2/twopass"),
    ],
)
def test_a_url_is_shown_without_any_password(url: str, expected: str) -> None:
    assert shown(url) == expected


async def test_concurrent_transactions_see_each_others_writes(postgres_url: str) -> None:
    """Each read-then-write transaction starts after the one before committed: ten increments
    run at once on ten pooled connections and none is lost (read committed alone loses some)."""
    async with await Store.open(postgres_url) as store:
        await store.set_state("counter", "0")

        async def increment() -> None:
            async with store.db.transaction() as db:
                rows = list(
                    await db.execute_fetchall(
                        "SELECT value FROM app_state WHERE key = ?", ("counter",)
                    )
                )
                await asyncio.sleep(0.01)  # a slow service between the read and the write
                await db.execute(
                    "UPDATE app_state SET value = ? WHERE key = ?",
                    (str(int(rows[0][0]) + 1), "counter"),
                )

        await asyncio.gather(*(increment() for _ in range(10)))
        assert await store.get_state("counter") == "10"


def test_a_password_given_as_a_url_parameter_never_shows(tmp_path: Path, postgres_url: str) -> None:
    """asyncpg takes `?password=` as well as the user info: the commands show neither."""
    url = f"{postgres_url}&password=hunter2-s3cret"
    upgrade = run_cli(tmp_path, "db", "upgrade", TWOPASS_DATABASE=url)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "password=***: schema version 0 ->" in upgrade.stdout
    check = run_cli(tmp_path, "db", "check", TWOPASS_DATABASE=url)
    assert check.returncode == 0 and "the totals agree" in check.stdout
    export = run_cli(tmp_path, "db", "export", "--guild", "999", TWOPASS_DATABASE=url)
    assert export.returncode == 2 and "nothing is stored about server 999" in export.stderr
    for result in (upgrade, check, export):
        assert "hunter2" not in result.stdout + result.stderr
