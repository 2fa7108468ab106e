"""A reproducible data set: servers, members and a year of logged passes, in a real database
created by `Database.open` (so the schema and migrations are ours), filled by bulk SQL.

Each pass carries its points (`plan.credit`) and its week (`timekeeping.pass_week`: its study
day on the server's calendar), as the bot stores them when it logs one; the schema's triggers
append the history and keep the leaderboard totals as the passes go in.

The file is cached under bench/.cache, keyed by the seed, the sizes, this generator's version
and a hash of the migrations; a benchmark that writes works on a copy.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import random
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.config import CACHE, DATA_END, DATA_START, Scale
from bot import timekeeping
from bot.db import Database, migrations
from bot.learners import plan
from bot.posts import schedule
from bot.posts.schedule import PostKind
from curriculum import default_curriculum

# 2: passes carry their points and week (migrations 0009, 0011), the points are marked in sync,
# and the posts are an outbox's (0010). 3: guild ids spread over shards.
GENERATOR_VERSION = 3

# Snowflake-sized ids, far apart so they never collide with one another or with the emulator's.
GUILD_BASE = 1_200_000_000_000_000_000
CHANNEL_BASE = 1_210_000_000_000_000_000
USER_BASE = 1_220_000_000_000_000_000
MESSAGE_BASE = 1_230_000_000_000_000_000

SERVER_ZONE = "UTC"  # every server's timezone: check-ins and daily videos fall due together
MEMBER_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Australia/Sydney",
)
PACES = (2.0, 3.0, 5.0, 5.0, 5.0, 8.0, 10.0, 15.0)
NOTE_WORDS = (
    "backprop finally clicked",
    "typed every line of micrograd",
    "broke the tokenizer on purpose",
    "loss went to nan, fixed the init",
    "the attention picture helped",
    "batchnorm stats were off by one",
    "plotted the activations",
    "rewrote the MLP from memory",
)
_DB_TIME = "%Y-%m-%d %H:%M:%S"
# The last check-in posted before the data ends (a Monday, 18:00 in every server); the file holds
# it and the three before it, and the last week of daily videos, all posted.
LAST_CHECKIN_DUE = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def guild_id(index: int) -> int:
    # A millisecond apart, like servers created over time: Discord puts a server on shard
    # (guild_id >> 22) % shard_count, so consecutive ids would all share one shard.
    return GUILD_BASE + (index << 22)


def guild_index(guild: int) -> int:
    return (guild - GUILD_BASE) >> 22


def channel_id(index: int) -> int:
    return CHANNEL_BASE + index


def user_id(index: int) -> int:
    return USER_BASE + index


def schema_hash() -> str:
    digest = hashlib.sha256()
    for migration in migrations.available():
        digest.update(migration.name.encode())
        digest.update(migration.sql.encode())
    return digest.hexdigest()[:10]


def cache_path(scale: Scale, seed: int) -> Path:
    key = (
        f"twopass-seed{seed}-{scale.servers}s-{scale.members}m-{scale.passes}p"
        f"-g{GENERATOR_VERSION}-{schema_hash()}.sqlite3"
    )
    return CACHE / key


@dataclass(frozen=True)
class Dataset:
    path: Path
    scale: Scale
    seed: int
    generated_seconds: float | None  # None when it came from the cache

    def copy_to(self, folder: Path) -> Path:
        """A private copy for a benchmark that writes."""
        target = folder / self.path.name
        shutil.copyfile(self.path, target)
        return target


def ensure(scale: Scale, seed: int) -> Dataset:
    path = cache_path(scale, seed)
    if path.exists():
        return Dataset(path, scale, seed, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for leftover in path.parent.glob(partial.name + "*"):
        leftover.unlink()
    started = time.perf_counter()
    asyncio.run(_create_schema(partial))
    _fill(partial, scale, seed)
    _check_totals(partial)
    partial.rename(path)
    return Dataset(path, scale, seed, time.perf_counter() - started)


async def _create_schema(path: Path) -> None:
    """The schema, and the roadmap's points recorded as in sync, as after the bot's first
    start: a bot started on the file has no points to re-credit (as it would not in
    production), so start-up is measured as it usually is. Done on the empty file, where it
    costs nothing; the passes written next carry the same points."""
    from bot.app import TwopassBot  # discord.py and the cogs: only when generating
    from bot.settings import Settings

    async with await Database.open(path) as db:
        bot = TwopassBot(settings=Settings(_env_file=None), db=db)  # type: ignore[call-arg]
        await bot.sync_points()


def _server_sizes(scale: Scale, rng: random.Random) -> list[int]:
    """Members per server, Zipf-like: a few large servers and a long tail of small ones."""
    weights = [1 / (rank + 1) for rank in range(scale.servers)]
    total = sum(weights)
    sizes = [max(1, int(w / total * scale.members)) for w in weights]
    missing = scale.members - sum(sizes)
    while missing > 0:
        sizes[rng.randrange(scale.servers)] += 1
        missing -= 1
    while missing < 0:  # only when nearly every server has one member
        biggest = max(range(scale.servers), key=sizes.__getitem__)
        sizes[biggest] -= 1
        missing += 1
    return sizes


def _pass_counts(scale: Scale, joined: list[datetime], rng: random.Random, cap: int) -> list[int]:
    """How many passes each member has logged: more for early joiners, heavy-tailed, capped at
    the whole roadmap, summing to exactly `scale.passes`."""
    span = (DATA_END - DATA_START).total_seconds()
    weights = [
        rng.lognormvariate(0, 1.0) * ((DATA_END - j).total_seconds() / span + 0.05) for j in joined
    ]
    total = sum(weights)
    counts = [min(cap, int(w / total * scale.passes)) for w in weights]
    missing = scale.passes - sum(counts)
    if missing > len(counts) * cap - sum(counts):
        raise ValueError("more passes than the members can hold")
    while missing > 0:
        index = rng.randrange(len(counts))
        if counts[index] < cap:
            counts[index] += 1
            missing -= 1
    return counts


def _fill(path: Path, scale: Scale, seed: int) -> None:
    rng = random.Random(seed)
    curriculum = default_curriculum()
    steps = [step.key for step in plan.steps(curriculum)]
    points = {key: plan.credit(curriculum, [key]) for key in steps}
    zones = {name: ZoneInfo(name) for name in (*MEMBER_ZONES, SERVER_ZONE)}
    span = (DATA_END - DATA_START).total_seconds()

    sizes = _server_sizes(scale, rng)
    settings_rows = []
    members_rows = []
    joined: list[datetime] = []
    member_keys: list[tuple[int, int, str]] = []
    next_user = itertools.count()
    for server, size in enumerate(sizes):
        start = DATA_START + timedelta(days=rng.randrange(0, 330))
        settings_rows.append(
            (
                guild_id(server),
                channel_id(server),
                SERVER_ZONE,
                0,
                "18:00",
                "09:00",
                1,
                1,
                curriculum.id,
                start.date().isoformat(),
                5.0,
                (start + timedelta(minutes=5)).strftime(_DB_TIME),
            )
        )
        for _ in range(size):
            user = user_id(next(next_user))
            at = DATA_START + timedelta(seconds=rng.random() * (span - 86_400))
            zone = rng.choice(MEMBER_ZONES)
            members_rows.append(
                (
                    guild_id(server),
                    user,
                    at.strftime(_DB_TIME),
                    rng.choice(PACES),
                    zone,
                    1 if rng.random() < 0.9 else 0,
                    1 if rng.random() < 0.25 else 0,
                )
            )
            joined.append(at)
            member_keys.append((guild_id(server), user, zone))

    counts = _pass_counts(scale, joined, rng, len(steps))
    passes_rows = []
    for (guild, user, zone), at, count in zip(member_keys, joined, counts, strict=True):
        if not count:
            continue
        room = (DATA_END - at).total_seconds()
        moments = sorted(at + timedelta(seconds=rng.random() * room) for _ in range(count))
        for key, moment in zip(steps, moments, strict=False):
            member_today = moment.astimezone(zones[zone]).date()
            local_day = member_today
            if rng.random() < 0.1:  # logged a day late with `date:yesterday`
                local_day -= timedelta(days=1)
            # The week it counts in, on the server's calendar when it was logged, as /done has it.
            server_today = moment.astimezone(zones[SERVER_ZONE]).date()
            week = timekeeping.pass_week(local_day, member_today, server_today)
            note = rng.choice(NOTE_WORDS) if rng.random() < 0.2 else None
            link = (
                f"https://github.com/u{user % 100_000}/zero-to-hero"
                if rng.random() < 0.05
                else None
            )
            passes_rows.append(
                (
                    guild,
                    user,
                    key[0],
                    key[1],
                    moment.strftime(_DB_TIME),
                    local_day.isoformat(),
                    note,
                    link,
                    points[key],
                    week.isoformat(),
                )
            )
    # The bot writes passes as they happen: insert in time order, as the real file grew.
    passes_rows.sort(key=lambda row: row[4])

    posts_rows = []
    for server in range(scale.servers):
        guild = guild_id(server)
        for weeks_back in range(1, 5):  # the last four check-ins
            due = LAST_CHECKIN_DUE - timedelta(weeks=weeks_back - 1)
            posts_rows.append(_post_row(guild, server, PostKind.CHECKIN, due, weeks_back))
        for days_back in range(1, 8):  # the last week of daily videos
            due = datetime(2026, 3, 8, 9, 0, tzinfo=UTC) - timedelta(days=days_back - 1)
            posts_rows.append(_post_row(guild, server, PostKind.DAILY, due, 10 + days_back))

    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA synchronous = OFF")
        # Our schema may append the history of a log by trigger; otherwise write it here.
        history_by_trigger = bool(
            db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'passes'"
                " AND sql LIKE '%pass_history%'"
            ).fetchone()
        )
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO guild_settings (guild_id, study_channel_id, timezone, checkin_weekday,"
            " checkin_time, daily_time, daily_enabled, checkin_enabled, curriculum_id,"
            " cohort_start, default_pace, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            settings_rows,
        )
        db.executemany(
            "INSERT INTO members (guild_id, user_id, joined_at, pace_hours, timezone, active,"
            " reminders) VALUES (?, ?, ?, ?, ?, ?, ?)",
            members_rows,
        )
        # The triggers on passes keep member_points and member_week_points from each row's
        # minutes and week, as they do for the bot's own logs.
        db.executemany(
            "INSERT INTO passes (guild_id, user_id, video_id, pass, logged_at, study_date, note,"
            " link, minutes, week) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            passes_rows,
        )
        if not history_by_trigger:
            db.executemany(
                "INSERT INTO pass_history (guild_id, user_id, video_id, pass, action, actor_id,"
                " at, study_date, note, link, minutes, week)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (g, u, v, p, "log", u, at, day, n, lk, mins, wk)
                    for g, u, v, p, at, day, n, lk, mins, wk in passes_rows
                ],
            )
        # Sent in full: an outbox row left 'pending' (the column's default) would be delivered.
        db.executemany(
            "INSERT INTO posts (guild_id, kind, period_key, nonce, reserved_at, due_at,"
            " channel_id, message_id, thread_id, parts_sent, posted_at, state, window_start,"
            " window_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'posted', ?, ?)",
            posts_rows,
        )
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def _check_totals(path: Path) -> None:
    """The kept totals must be what the passes add up to, or every board measured is wrong."""
    sums = (
        "SELECT guild_id, {week} user_id, sum(minutes) AS minutes, count(*) AS passes,"
        " max(logged_at) AS reached_at FROM passes GROUP BY guild_id, {week} user_id"
    )
    wrong = (
        "SELECT count(*) FROM ({sums}) AS p LEFT JOIN {table} AS t USING ({key})"
        " WHERE t.passes IS NULL OR abs(t.minutes - p.minutes) > 1e-6"
        " OR t.passes != p.passes OR t.reached_at != p.reached_at"
    )
    db = sqlite3.connect(path)
    try:
        problems = 0
        for table, week, key in (
            ("member_points", "", "guild_id, user_id"),
            ("member_week_points", "week,", "guild_id, week, user_id"),
        ):
            grouped = sums.format(week=week)
            problems += db.execute(wrong.format(sums=grouped, table=table, key=key)).fetchone()[0]
            kept = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            problems += abs(kept - db.execute(f"SELECT count(*) FROM ({grouped})").fetchone()[0])
        problems += db.execute(
            "SELECT count(*) FROM passes WHERE week = '' OR minutes <= 0"
        ).fetchone()[0]
    finally:
        db.close()
    if problems:
        raise RuntimeError(f"{path.name}: {problems} kept totals differ from the passes")


def checkin_window(due: datetime) -> tuple[date, date]:
    """The days a check-in posted at `due` (a Monday) covers: the seven days before it. Weekly
    check-ins tile, each from the day after the previous one's last day, as the publisher's
    `checkin.next_window` makes them."""
    day = due.astimezone(UTC).date()
    return day - timedelta(days=7), day - timedelta(days=1)


def _post_row(guild: int, server: int, kind: PostKind, due: datetime, n: int) -> tuple[object, ...]:
    """A post sent in full. Its parts are not stored: nothing measured reads a sent post's."""
    window = checkin_window(due) if kind is PostKind.CHECKIN else None
    # The key of a daily video is its local date, of a check-in its window's last day.
    key = (window[1] if window else due.astimezone(UTC).date()).isoformat()
    at = due.strftime(_DB_TIME)
    message = MESSAGE_BASE + server * 100 + n
    parts = 3 if kind is PostKind.CHECKIN else 0
    thread = message if kind is PostKind.CHECKIN else None
    nonce = schedule.nonce(guild, kind, key)
    first, last = (window[0].isoformat(), window[1].isoformat()) if window else (None, None)
    return (
        guild,
        str(kind),
        key,
        nonce,
        at,
        at,
        channel_id(server),
        message,
        thread,
        parts,
        at,
        first,
        last,
    )


def summary(path: Path) -> dict[str, object]:
    """Counts and shape of a generated file, for the results."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        counts = {
            table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("guild_settings", "members", "passes", "pass_history", "posts")
        }
        largest = db.execute(
            "SELECT guild_id, COUNT(*) FROM members GROUP BY guild_id ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
        largest_passes = db.execute(
            "SELECT COUNT(*) FROM passes WHERE guild_id = ?", (largest[0],)
        ).fetchone()[0]
        sizes = sorted(n for (n,) in db.execute("SELECT COUNT(*) FROM members GROUP BY guild_id"))
    finally:
        db.close()
    return {
        **counts,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "largest_server_members": largest[1],
        "largest_server_passes": largest_passes,
        "median_server_members": sizes[len(sizes) // 2],
    }


def server_sizes(path: Path) -> list[tuple[int, int]]:
    """(guild_id, members) for every server, largest first."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(
            db.execute(
                "SELECT guild_id, COUNT(*) FROM members GROUP BY guild_id ORDER BY 2 DESC, 1"
            )
        )
    finally:
        db.close()


@dataclass(frozen=True)
class Learner:
    guild_id: int
    user_id: int
    video_id: str  # their next pass on the roadmap, which /done can log
    pass_label: str  # "first" or "second"


def learners(path: Path, count: int, seed: int) -> list[Learner]:
    """`count` distinct active members, drawn uniformly (so large servers get their share),
    each with the next pass they have not logged."""
    curriculum = default_curriculum()
    total_steps = len(plan.steps(curriculum))
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        candidates = db.execute(
            "SELECT m.guild_id, m.user_id FROM members AS m"
            " WHERE m.active = 1 AND (SELECT COUNT(*) FROM passes AS p"
            "   WHERE p.guild_id = m.guild_id AND p.user_id = m.user_id) < ?"
            " ORDER BY m.guild_id, m.user_id",
            (total_steps,),
        ).fetchall()
        chosen = random.Random(seed).sample(candidates, min(count, len(candidates)))
        out = []
        for guild, user in chosen:
            done = {
                (video, number)
                for video, number in db.execute(
                    "SELECT video_id, pass FROM passes WHERE guild_id = ? AND user_id = ?",
                    (guild, user),
                )
            }
            step = plan.next_step(curriculum, done)
            assert step is not None
            out.append(Learner(guild, user, step.video.id, step.which.label))
    finally:
        db.close()
    return out


def free_passes(path: Path, count: int, seed: int) -> list[tuple[int, int, str, int]]:
    """`count` passes nobody has logged yet, as (guild, user, video, pass): random active
    members, each taking their remaining passes in roadmap order, so every one is allowed."""
    curriculum = default_curriculum()
    keys = [step.key for step in plan.steps(curriculum)]
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        members = db.execute(
            "SELECT guild_id, user_id FROM members WHERE active = 1 ORDER BY guild_id, user_id"
        ).fetchall()
        random.Random(seed + 1).shuffle(members)
        out: list[tuple[int, int, str, int]] = []
        for guild, user in members:
            done = set(
                db.execute(
                    "SELECT video_id, pass FROM passes WHERE guild_id = ? AND user_id = ?",
                    (guild, user),
                ).fetchall()
            )
            for video, number in keys:
                if (video, number) not in done:
                    out.append((guild, user, video, number))
                    if len(out) == count:
                        return out
    finally:
        db.close()
    return out


def members_of(path: Path, guild_id: int, count: int, seed: int) -> list[int]:
    """`count` random active members of one server (callers of its board)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        users = [
            row[0]
            for row in db.execute(
                "SELECT user_id FROM members WHERE guild_id = ? AND active = 1 ORDER BY user_id",
                (guild_id,),
            )
        ]
    finally:
        db.close()
    return random.Random(seed + 5).sample(users, min(count, len(users)))
