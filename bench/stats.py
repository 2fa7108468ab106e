"""Small helpers every benchmark shares: percentiles, memory, the machine and the commit."""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from bench.config import ROOT


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, Any]:
    """p50/p90/p99/max in milliseconds."""
    return {
        "n": len(seconds),
        "p50_ms": round(percentile(seconds, 50) * 1000, 3),
        "p90_ms": round(percentile(seconds, 90) * 1000, 3),
        "p99_ms": round(percentile(seconds, 99) * 1000, 3),
        "max_ms": round(max(seconds) * 1000, 3) if seconds else None,
        "mean_ms": round(sum(seconds) / len(seconds) * 1000, 3) if seconds else None,
    }


def rss_mb() -> float:
    """Resident memory now (Linux /proc; falls back to the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


class RssSampler:
    """Peak resident memory over a stretch of work, sampled every `every` seconds."""

    def __init__(self, every: float = 0.05) -> None:
        self.every = every
        self.baseline = rss_mb()
        self.peak = self.baseline
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mb())
            await asyncio.sleep(self.every)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> dict[str, float]:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.peak = max(self.peak, rss_mb())
        return {
            "rss_before_mb": round(self.baseline, 1),
            "rss_peak_mb": round(self.peak, 1),
            "rss_growth_mb": round(self.peak - self.baseline, 1),
        }


def machine() -> dict[str, Any]:
    import aiosqlite
    import discord

    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "discord.py": discord.__version__,
        "aiosqlite": getattr(aiosqlite, "__version__", "?"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    return {
        "head": git("rev-parse", "HEAD"),
        "subject": git("log", "-1", "--format=%s"),
        # Uncommitted changes to the code under test make the figures about something else.
        "dirty_code": bool(git("status", "--porcelain", "--", "bot", "cogs", "curriculum")),
    }
