"""Which database the benchmarks that touch it run on: SQLite (the data set's file, copied) or
PostgreSQL (`python -m bench --backend postgres`: the same data set copied into a schema of its
own with `twopass db copy`'s code, dropped afterwards). The PostgreSQL server is the one the
tests use (TWOPASS_TEST_POSTGRES, default postgresql://127.0.0.1:5432/test)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.db import Database
from bot.db.copy import copy

ENV = "TWOPASS_BENCH_BACKEND"
BACKENDS = ("sqlite", "postgres")
POSTGRES = os.environ.get("TWOPASS_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")


def name() -> str:
    return os.environ.get(ENV, "sqlite")


@asynccontextmanager
async def database_at(sqlite_copy: Path, timings: dict[str, float]) -> AsyncIterator[str]:
    """Where the benchmark's database is: the SQLite copy itself, or a PostgreSQL schema holding
    the same rows (the copy's seconds go into `timings`)."""
    if name() == "sqlite":
        yield str(sqlite_copy)
        return
    import asyncpg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES)
    await admin.execute(f"CREATE SCHEMA {schema}")
    url = f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}search_path={schema}"
    try:
        started = time.perf_counter()
        async with (
            await Database.open(sqlite_copy, migrate=False) as source,
            await Database.open(url) as target,
        ):
            await copy(source, target)
            await target.rows("ANALYZE")
        timings["copy_to_postgres_seconds"] = round(time.perf_counter() - started, 1)
        yield url
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
