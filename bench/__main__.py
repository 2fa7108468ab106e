"""`python -m bench [--quick] [--only NAME,...]`: run the benchmarks, print a table, and write
bench/results/latest.json (plus bench/results/plans.txt, the query plans of item 3).

Each benchmark runs in its own process. Benchmarks report; they never fail on a figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import backend, dataset
from bench.config import DEFAULT_SEED, RESULTS, ROOT, SCALES
from bench.one import BENCHMARKS
from bench.report import plans_text, table
from bench.stats import commit, machine

ORDER = ("latency", "store", "queries", "startup", "fanout", "pictures")
# Run only when named (`--only cluster`): three bot processes, two fan-outs at 50 requests/s.
ON_REQUEST = ("cluster",)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a tenth of the data, under two minutes"
    )
    parser.add_argument(
        "--only", help=f"comma-separated subset of: {', '.join(ORDER + ON_REQUEST)}"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--backend",
        choices=backend.BACKENDS,
        default="sqlite",
        help="the database of the latency and queries benchmarks (PostgreSQL: the data set "
        "copied into a schema of TWOPASS_TEST_POSTGRES)",
    )
    args = parser.parse_args()
    os.environ[backend.ENV] = args.backend
    if args.out is None:
        suffix = "" if args.backend == "sqlite" else f"-{args.backend}"
        args.out = RESULTS / f"latest{suffix}.json"
    scale = SCALES["quick" if args.quick else "full"]
    names = [n.strip() for n in args.only.split(",")] if args.only else list(ORDER)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    started = time.perf_counter()
    print(
        f"twopass benchmarks, {scale.name} mode, {args.backend}: {scale.servers:,} servers, "
        f"{scale.members:,} members, {scale.passes:,} passes (seed {args.seed})",
        flush=True,
    )
    data = dataset.ensure(scale, args.seed)
    if data.generated_seconds is not None:
        print(f"  generated {data.path.name} in {data.generated_seconds:.1f}s", flush=True)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": scale.name,
        "scale": scale.as_dict(),
        "seed": args.seed,
        "backend": args.backend,
        "machine": machine(),
        "commit": commit(),
        "dataset": {"file": data.path.name, **dataset.summary(data.path)},
        "benchmarks": {},
    }
    for name in names:
        print(f"  running {name} ...", flush=True)
        results["benchmarks"][name] = _run_one(name, scale.name, args.seed)
    results["total_seconds"] = round(time.perf_counter() - started, 1)

    print()
    print(table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.out.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(results, indent=1, default=str) + "\n")
    temporary.replace(args.out)
    queries = results["benchmarks"].get("queries", {})
    if "plans" in queries:
        name = "plans.txt" if args.out.name == "latest.json" else f"{args.out.stem}-plans.txt"
        (args.out.parent / name).write_text(plans_text(results))
    print(f"\nwritten: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


def _run_one(name: str, scale: str, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="twopass-bench-") as folder:
        out = Path(folder) / "result.json"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [
            sys.executable,
            "-m",
            "bench.one",
            name,
            "--scale",
            scale,
            "--seed",
            str(seed),
            "--out",
            str(out),
        ]
        started = time.perf_counter()
        finished = subprocess.run(command, cwd=ROOT, env=env, check=False)
        if finished.returncode != 0 or not out.exists():
            # A benchmark that crashed reports that; the others still run.
            return {"failed": f"exit status {finished.returncode}"}
        result: dict[str, Any] = json.loads(out.read_text())
        result.setdefault("seconds", round(time.perf_counter() - started, 1))
        return result


if __name__ == "__main__":
    sys.exit(main())
