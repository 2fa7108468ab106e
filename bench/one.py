"""Runs one benchmark in this process and writes its result as JSON (the runner starts one
process per benchmark, so each one's memory and start-up are its own)."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
from pathlib import Path

from bench.config import SCALES
from bench.stats import peak_rss_mb

BENCHMARKS = {
    "latency": "bench.latency",
    "store": "bench.store_inserts",
    "queries": "bench.queries",
    "startup": "bench.startup",
    "fanout": "bench.fanout",
    "pictures": "bench.pictures",
    "cluster": "bench.cluster",
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.one")
    parser.add_argument("name", choices=sorted(BENCHMARKS))
    parser.add_argument("--scale", choices=sorted(SCALES), default="quick")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    # The bot logs every post and every skipped catch-up at INFO/WARNING: thousands of lines
    # that would time the terminal, not the bot. Errors still show.
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    module = importlib.import_module(BENCHMARKS[args.name])
    started = time.perf_counter()
    result = module.run(SCALES[args.scale], args.seed)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["process_peak_rss_mb"] = round(peak_rss_mb(), 1)
    args.out.write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
