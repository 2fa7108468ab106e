"""Item 5: start-up. From starting a fresh process to the bot being ready, with every server's
daily and check-in jobs scheduled, and the resident memory after.

The bot starts as it would on Discord: it asks GET /gateway/bot for the recommended shard count
(one per 1,000 servers) and runs that many shards, since Discord refuses a connection carrying
more than 2,500 servers. Discord spaces identifies 5 s apart (per max_concurrency bucket, one
for a bot this size); the emulator shortens that to keep the run short, and the wait Discord
would add is reported beside the figure rather than slept through.

The local Discord runs in this process and knows every server; the bot runs in its own
(bench/botproc.py). The emulator's own time to produce READY and one GUILD_CREATE per server is
reported beside, since real Discord does that work elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import dataset
from bench.config import ROOT, Scale
from bench.world import BenchDiscord

DISCORD_IDENTIFY_INTERVAL = 5.0


class BotProcess:
    """The bot in a child process, and the events it reports."""

    def __init__(self, process: asyncio.subprocess.Process, spawned: float, log: Path) -> None:
        self.process = process
        self.spawned = spawned
        self.log = log

    def errors(self) -> dict[str, Any]:
        """The bot's own ERROR log lines (kept out of the terminal: one per failed post)."""
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        errors = [line for line in lines if line.startswith(("ERROR", "CRITICAL"))]
        return {"bot_error_lines": len(errors), "bot_first_errors": sorted(set(errors))[:5]}

    @classmethod
    async def start(
        cls,
        local: BenchDiscord,
        db: Path | str,
        guilds_file: Path | None = None,
        *,
        options: Sequence[str] = (),
        log_name: str = "bot-stderr.log",
        log_dir: Path | None = None,
    ) -> BotProcess:
        command = [
            sys.executable,
            "-m",
            "bench.botproc",
            "--db",
            str(db),
            "--base",
            local.api_base,
            "--gateway",
            local.gateway_url,
            "--token",
            local.token,
        ]
        if guilds_file is not None:
            command += ["--guilds", str(guilds_file)]
        command += options
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        # Beside an SQLite file; a database URL needs the folder named.
        folder = log_dir or (db.parent if isinstance(db, Path) else Path.cwd())
        log = folder / log_name
        spawned = time.time()
        with log.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                *command,
                cwd=ROOT,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        return cls(process, spawned, log)

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()

    async def next_event(self, within: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), within)
            if not line:
                raise RuntimeError(f"the bot process ended (status {await self.process.wait()})")
            try:
                event: dict[str, Any] = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "crashed":
                raise RuntimeError(f"the bot process crashed: {event.get('error')}")
            return event

    async def wait_for(self, name: str, within: float) -> dict[str, Any]:
        while True:
            event = await self.next_event(within)
            if event["event"] == name:
                return event

    def send(self, order: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{order}\n".encode())

    async def stop(self) -> dict[str, Any]:
        self.send("stop")
        try:
            return await self.wait_for("stopped", 30)
        finally:
            if self.process.returncode is None:
                try:
                    await asyncio.wait_for(self.process.wait(), 10)
                except TimeoutError:
                    self.process.kill()


def build_world(local: BenchDiscord, servers: list[int]) -> None:
    for index in servers:
        local.add_study_server(dataset.guild_id(index), dataset.channel_id(index), f"s{index}")


async def _run(data: dataset.Dataset, scale: Scale, workdir: Path) -> dict[str, Any]:
    db = data.copy_to(workdir)
    count = min(scale.startup_servers, scale.servers)
    async with BenchDiscord(timeout=120.0) as local:
        started = time.perf_counter()
        build_world(local, list(range(count)))
        world_seconds = time.perf_counter() - started
        bot = await BotProcess.start(local, db)
        try:
            ready = await bot.wait_for("ready", 300)
            caught_up = await bot.wait_for("caught_up", 300)
            await bot.stop()
        finally:
            bot.kill()
        problems = local.take_problems()
        identifies = [(moment, shard) for moment, shard, _ in local.gateway.identifies]
        shard_count = ready.get("shards") or 1
        per_shard = [len(local.shard_guild_ids(k)) for k in range(shard_count)]
        max_concurrency = local.gateway.max_concurrency
    t0 = bot.spawned
    # Wall-clock instants to offsets from the first IDENTIFY (the emulator's clock is monotonic).
    first_identify = min((m for m, _ in identifies), default=0.0)
    shard_ready = [None if at is None else round(at - t0, 3) for at in ready.get("shard_ready", [])]

    def since(key: str, event: dict[str, Any] = ready) -> float | None:
        value = event.get(key)
        return None if value is None else round(value - t0, 3)

    return {
        "servers": count,
        "ready_seconds": since("ready"),
        "phases_seconds": {
            "interpreter_up": since("started"),
            "imports_done": since("imported"),
            "store_opened": since("store_opened"),
            "setup_hook_done (cogs, credits, jobs, command sync)": since("setup_done"),
            "ready": since("ready"),
            "start-up catch-up done": since("at", caught_up),
        },
        "emulator_identify_seconds": round(sum(local.identify_seconds), 3),
        # The process's share of ready (all but the emulator's READY and GUILD_CREATEs, which
        # real Discord produces elsewhere): interpreter, imports, our set-up, and discord.py
        # taking in every GUILD_CREATE.
        "bot_seconds": (
            round(ready["ready"] - t0 - sum(local.identify_seconds), 3)
            if ready.get("ready")
            else None
        ),
        # The bot's own work within it: opening the store and the setup hook (cogs, roadmap
        # points, the posts' jobs, command sync).
        "bot_work_seconds": (
            round(ready["setup_done"] - ready["imported"], 3)
            if ready.get("setup_done") and ready.get("imported")
            else None
        ),
        "emulator_world_build_seconds": round(world_seconds, 2),
        "jobs": ready.get("jobs"),
        "shards": shard_count,
        "guilds_per_shard": {"min": min(per_shard), "max": max(per_shard)},
        "identifies": len(identifies),
        "identify_offsets_seconds": [round(m - first_identify, 3) for m, _ in identifies],
        "shard_ready_seconds": shard_ready,
        "emulator_identify_interval_seconds": local.gateway.identify_interval,
        # What Discord's 5 s between identifies would add, bucket by bucket (not in ready_seconds).
        "discord_identify_wait_seconds": (math.ceil(shard_count / max_concurrency) - 1)
        * DISCORD_IDENTIFY_INTERVAL,
        "emulator_problems": problems[:5],
        "guilds_in_cache": ready.get("guilds"),
        "rss_mb": ready.get("rss_mb"),
        "peak_rss_mb": ready.get("peak_rss_mb"),
        "rss_after_catch_up_mb": caught_up.get("rss_mb"),
        "guild_ready_timeout": 0.05,
        **bot.errors(),
    }


def run(scale: Scale, seed: int) -> dict[str, Any]:
    data = dataset.ensure(scale, seed)
    with tempfile.TemporaryDirectory(prefix="twopass-bench-") as folder:
        return asyncio.run(_run(data, scale, Path(folder)))
