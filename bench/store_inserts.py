"""Item 2: passes logged per second through our store (`LearnerRepo.log_pass` over the shared
`Database`), and through plain sqlite3 on the same schema in one process (the limit of this
machine for one pass per transaction).

Every variant logs the same passes into its own copy of the big database, each pass its own
transaction as a /done does, with the store's pragmas (WAL, synchronous=NORMAL, foreign keys),
and each pass with its points and week, as the bot stores them.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import dataset
from bench.config import NOW, Scale
from bot import timekeeping
from bot.db import Database
from bot.db.connection import CHECKPOINT_EVERY_SECONDS
from bot.learners import plan
from bot.learners import repo as learner_repo
from bot.learners.repo import LearnerRepo, LogOutcome, PassDetails
from curriculum import default_curriculum

IN_FLIGHT = 100
Work = Sequence[tuple[int, int, str, int]]
CURRICULUM = default_curriculum()
# Every pass here is for today, on the server's calendar (UTC) and the member's alike.
WEEK = timekeeping.pass_week(NOW.date(), NOW.date(), NOW.date())


def _points(video: str, number: int) -> float:
    """A pass's points, as the bot computes them when it logs one."""
    return plan.credit(CURRICULUM, [(video, number)])


def logged_now(user: int, video: str, number: int, note: str | None = None) -> PassDetails:
    """A pass a member logs for themselves at NOW, with the points the bot would give it."""
    return PassDetails(
        now=NOW,
        study_date=NOW.date(),
        note=note,
        link=None,
        actor_id=user,
        minutes=_points(video, number),
        week=WEEK,
    )


async def _through_store(path: Path, work: Work, in_flight: int) -> tuple[float, int]:
    async with await Database.open(path) as db:
        store = LearnerRepo(db)
        refused = 0

        async def log(guild: int, user: int, video: str, number: int) -> None:
            nonlocal refused
            result = await store.log_pass(
                guild, user, video, number, **logged_now(user, video, number)
            )
            if result.outcome is not LogOutcome.LOGGED:
                refused += 1

        started = time.perf_counter()
        if in_flight <= 1:
            for item in work:
                await log(*item)
        else:
            queue = iter(work)

            async def worker() -> None:
                for item in queue:
                    await log(*item)

            await asyncio.gather(*(worker() for _ in range(in_flight)))
        return time.perf_counter() - started, refused


@contextmanager
def _plain(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection with the store's pragmas and its checkpoint policy: no
    automatic checkpoint inside a commit, a PASSIVE one from another connection every few
    seconds. (With SQLite's automatic checkpoints, up to ~90 ms each, the baseline would be
    slower than the store's and the ratio flattering.)"""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 5000")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    stop = threading.Event()

    def checkpoint_forever() -> None:
        checkpointer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        checkpointer.execute("PRAGMA busy_timeout = 5000")
        try:
            while not stop.wait(CHECKPOINT_EVERY_SECONDS):
                checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            checkpointer.close()

    thread = threading.Thread(target=checkpoint_forever, daemon=True)
    thread.start()
    try:
        yield db
    finally:
        stop.set()
        thread.join()
        db.close()


def _history_by_trigger(db: sqlite3.Connection) -> bool:
    return bool(
        db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'passes'"
            " AND sql LIKE '%pass_history%'"
        ).fetchone()
    )


def _plain_insert(path: Path, work: Work, batched: bool) -> float:
    """The least a log can be: the pass row with its points and week (and its history row) in
    one transaction."""
    with _plain(path) as db:
        return _plain_insert_on(db, work, batched)


def _plain_insert_on(db: sqlite3.Connection, work: Work, batched: bool) -> float:
    at, day, week = NOW.strftime("%Y-%m-%d %H:%M:%S"), NOW.date().isoformat(), WEEK.isoformat()
    insert = (
        "INSERT INTO passes (guild_id, user_id, video_id, pass, logged_at, study_date, minutes,"
        " week) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )
    history = (
        None
        if _history_by_trigger(db)
        else "INSERT INTO pass_history (guild_id, user_id, video_id, pass, action, actor_id, at,"
        " study_date, minutes, week) VALUES (?, ?, ?, ?, 'log', ?, ?, ?, ?, ?)"
    )
    started = time.perf_counter()
    if batched:
        db.execute("BEGIN")
        db.executemany(insert, [(*w, at, day, _points(w[2], w[3]), week) for w in work])
        if history:
            db.executemany(history, [(*w, w[1], at, day, _points(w[2], w[3]), week) for w in work])
        db.execute("COMMIT")
    else:
        for item in work:
            db.execute("BEGIN")
            db.execute(insert, (*item, at, day, _points(item[2], item[3]), week))
            if history:
                db.execute(history, (*item, item[1], at, day, _points(item[2], item[3]), week))
            db.execute("COMMIT")
    return time.perf_counter() - started


def _plain_store_sql(path: Path, work: Work) -> float:
    """The store's own logging statement with its own parameters, run synchronously: what is
    left between this and the store is the async cost."""
    with _plain(path) as db:
        started = time.perf_counter()
        for guild, user, video, number in work:
            params = learner_repo.log_params(
                guild, user, video, number, **logged_now(user, video, number)
            )
            db.execute(learner_repo.LOG_SQL, params).fetchall()
        return time.perf_counter() - started


def run(scale: Scale, seed: int) -> dict[str, Any]:
    data = dataset.ensure(scale, seed)
    work = dataset.free_passes(data.path, scale.inserts, seed)
    n = len(work)
    out: dict[str, Any] = {"passes": n}

    def rate(seconds: float | None) -> float | None:
        return None if seconds is None else round(n / seconds, 1)

    with tempfile.TemporaryDirectory(prefix="twopass-bench-") as folder:

        def fresh(name: str) -> Path:
            target = Path(folder) / name
            target.mkdir()
            return data.copy_to(target)

        seconds, refused = asyncio.run(_through_store(fresh("store"), work, 1))
        out["store_per_second"] = rate(seconds)
        out["store_refused"] = refused
        seconds, refused = asyncio.run(_through_store(fresh("store100"), work, IN_FLIGHT))
        out["store_100_callers_per_second"] = rate(seconds)
        out["store_100_callers_refused"] = refused
        out["plain_per_second"] = rate(_plain_insert(fresh("plain"), work, batched=False))
        out["plain_store_sql_per_second"] = rate(_plain_store_sql(fresh("plainsql"), work))
        out["plain_batched_per_second"] = rate(_plain_insert(fresh("batch"), work, batched=True))
    out["store_vs_plain"] = round(out["store_per_second"] / out["plain_per_second"], 2)
    out["store_100_callers_vs_plain"] = round(
        out["store_100_callers_per_second"] / out["plain_per_second"], 2
    )
    out["checkpoints"] = f"off the commit path, PASSIVE every {CHECKPOINT_EVERY_SECONDS:g} s"
    return out
