"""The printed table and plans.txt, from the results dictionary."""

from __future__ import annotations

from typing import Any


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{text}{unit}"


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(benchmark, figure, value, target or note)."""
    b = results.get("benchmarks", {})
    out: list[tuple[str, str, str, str]] = []
    lat = b.get("latency")
    if lat and "failed" not in lat:
        out.append(
            (
                "1 latency",
                "floor /ping p50 / p99",
                f"{_fmt(_get(lat, 'floor', 'sequential', 'p50_ms'))} / {_fmt(_get(lat, 'floor', 'sequential', 'p99_ms'), ' ms')}",
                "bare discord.py",
            )
        )
        embed = _get(lat, "floor", "sequential_embed") or {}
        out.append(
            (
                "1 latency",
                "floor answering an embed p50 / p99",
                f"{_fmt(embed.get('p50_ms'))} / {_fmt(embed.get('p99_ms'), ' ms')}",
                "what an embed alone adds",
            )
        )
        for cmd, target in (("done", "1.25x"), ("today", "1.2x")):
            fair = _get(lat, "floor", cmd, "sequential") or {}
            out.append(
                (
                    f"1 /{cmd}",
                    "fair floor p50 / p99",
                    f"{_fmt(fair.get('p50_ms'))} / {_fmt(fair.get('p99_ms'), ' ms')}",
                    "same signature, one SQLite statement, an embed",
                )
            )
            out.append(
                (
                    f"1 /{cmd}",
                    "p50 vs fair floor",
                    _fmt(_get(lat, cmd, "p50_vs_fair_floor"), "x"),
                    f"target <= {target}",
                )
            )
            after = _get(lat, cmd, "after_today") or {}
            if after:
                out.append(
                    (
                        f"1 /{cmd}",
                        "after the member's /today: p50; vs fair floor",
                        f"{_fmt(after.get('p50_ms'), ' ms')}; "
                        f"{_fmt(after.get('p50_vs_fair_floor'), 'x')}",
                        "one trip: the write checks the timezones and roadmap last read",
                    )
                )
            model = _get(lat, "floor", cmd, "model") or {}
            if model:
                out.append(
                    (
                        f"1 /{cmd}",
                        "data model's floor p50; ours vs it",
                        f"{_fmt(model.get('p50_ms'), ' ms')}; "
                        f"{_fmt(_get(lat, cmd, 'p50_vs_model_floor'), 'x')}",
                        "the fair floor running the store's own statement(s)",
                    )
                )
            split = _get(lat, "segments", cmd) or {}
            if split:
                bots = [bot for bot in ("fair", "model", "ours") if bot in split]
                work = "the command's work"
                out.append(
                    (
                        f"1 /{cmd}",
                        f"{work}, µs p50: {' / '.join(bots)}",
                        " / ".join(_fmt(split[bot].get(work)) for bot in bots),
                        "its callback until it sends the answer",
                    )
                )
                out.append(
                    (
                        f"1 /{cmd}",
                        f"the rest, µs p50: {' / '.join(bots)}",
                        " / ".join(
                            _fmt(sum(v for k, v in split[bot].items() if k != work)) for bot in bots
                        ),
                        "gateway, discord.py, checks, the answer's request",
                    )
                )
            out.append(
                (
                    f"1 /{cmd}",
                    "p50 vs string floor",
                    _fmt(_get(lat, cmd, "p50_vs_floor"), "x"),
                    "was 2.2x (/done), 1.8x (/today)",
                )
            )
            out.append(
                (
                    f"1 /{cmd}",
                    "p99 vs fair / string floor",
                    f"{_fmt(_get(lat, cmd, 'p99_vs_fair_floor'), 'x')} / "
                    f"{_fmt(_get(lat, cmd, 'p99_vs_floor'), 'x')}",
                    "",
                )
            )
            seq = _get(lat, cmd, "sequential") or {}
            out.append(
                (
                    f"1 /{cmd}",
                    "p50 / p99 / max",
                    f"{_fmt(seq.get('p50_ms'))} / {_fmt(seq.get('p99_ms'))} / {_fmt(seq.get('max_ms'), ' ms')}",
                    "target p99 < 20 ms",
                )
            )
            conc = _get(lat, cmd, "concurrent") or {}
            fair_rate = _get(lat, "floor", cmd, "concurrent", "per_second")
            out.append(
                (
                    f"1 /{cmd}",
                    f"throughput, {conc.get('in_flight')} in flight",
                    _fmt(conc.get("per_second"), "/s"),
                    f"{_fmt(_get(lat, cmd, 'throughput_vs_fair_floor'), 'x')} of its fair floor "
                    f"({_fmt(fair_rate, '/s')})",
                )
            )
            out.append(
                (
                    f"1 /{cmd}",
                    "p50 / p99 with 100 in flight",
                    f"{_fmt(conc.get('p50_ms'))} / {_fmt(conc.get('p99_ms'), ' ms')}",
                    "",
                )
            )
        card = lat.get("progress_card") or {}
        for what, figures, note in (
            ("acknowledged", card.get("acknowledged") or {}, "the defer, before the card is drawn"),
            ("with its card", card.get("with_card") or {}, "until the follow-up with the PNG"),
        ):
            if figures:
                out.append(
                    (
                        "1 /progress",
                        f"{what} p50 / p99 / max",
                        f"{_fmt(figures.get('p50_ms'))} / {_fmt(figures.get('p99_ms'))} / {_fmt(figures.get('max_ms'), ' ms')}",
                        note,
                    )
                )
        if lat.get("error_count") or lat.get("problems"):
            out.append(
                (
                    "1 latency",
                    "error replies / emulator problems",
                    f"{lat.get('error_count')} / {len(lat.get('problems') or [])}",
                    "should be 0 / 0",
                )
            )
    st = b.get("store")
    if st and "failed" not in st:
        out.append(
            (
                "2 store",
                "LearnerRepo.log_pass vs plain sqlite3",
                f"{_fmt(st.get('store_vs_plain'), 'x')} ({_fmt(st.get('store_per_second'), '/s')})",
                "target >= 0.5x",
            )
        )
        out.append(
            (
                "2 store",
                "LearnerRepo.log_pass, 100 callers",
                f"{_fmt(st.get('store_100_callers_vs_plain'), 'x')} "
                f"({_fmt(st.get('store_100_callers_per_second'), '/s')})",
                "target >= 1.0x",
            )
        )
        out.append(
            (
                "2 store",
                "plain sqlite3, 1 tx per pass",
                _fmt(st.get("plain_per_second"), "/s"),
                f"checkpoints {st.get('checkpoints') or 'automatic'}",
            )
        )
        out.append(
            (
                "2 store",
                "plain sqlite3, the store's SQL",
                _fmt(st.get("plain_store_sql_per_second"), "/s"),
                "",
            )
        )
        out.append(
            (
                "2 store",
                "plain sqlite3, one batch",
                _fmt(st.get("plain_batched_per_second"), "/s"),
                "bulk ceiling",
            )
        )
    q = b.get("queries")
    if q and "failed" not in q:
        members = _get(q, "largest_server", "members")
        for name, label in (
            ("leaderboard_all", "/leaderboard all time"),
            ("leaderboard_week", "/leaderboard this week"),
            ("progress", "/progress"),
        ):
            board = name.startswith("leaderboard")
            if f"{name}_largest" in q:
                largest = _get(q, f"{name}_largest") or {}
                out.append(
                    (
                        "3 queries",
                        f"{label}, largest server ({_fmt(members)} members) p50 / p99",
                        f"{_fmt(largest.get('p50_ms'))} / {_fmt(largest.get('p99_ms'), ' ms')}",
                        "target p99 <= 5 ms" if board else "",
                    )
                )
            out.append(
                (
                    "3 queries",
                    f"{label}, random members' servers p50 / p99",
                    f"{_fmt(_get(q, name, 'p50_ms'))} / {_fmt(_get(q, name, 'p99_ms'), ' ms')}",
                    "target p99 <= 5 ms" if board else "",
                )
            )
        out.append(
            (
                "3 queries",
                "board sorts / whole-board scans / full scans of passes",
                f"{_fmt(q.get('board_sorts'))} / {_fmt(q.get('board_scans'))} / "
                f"{_fmt(q.get('full_scans_of_passes'))}",
                f"target 0 / 0 / 0 (other sorts: {_fmt(q.get('sorts'))}, see plans.txt)",
            )
        )
    s = b.get("startup")
    if s and "failed" not in s:
        servers = _fmt(s.get("servers"))
        jobs = _fmt(s.get("jobs"))
        identify = _fmt(s.get("emulator_identify_seconds"), " s")
        shards = _fmt(s.get("shards"))
        out.append(
            (
                "5 startup",
                f"process start -> ready, {servers} servers",
                _fmt(s.get("ready_seconds"), " s"),
                f"of which the emulator's READY + GUILD_CREATEs: {identify}; {shards} shards "
                f"(+{_fmt(s.get('discord_identify_wait_seconds'), ' s')} of Discord's identify spacing)",
            )
        )
        out.append(
            (
                "5 startup",
                "the bot's own work (store, cogs, jobs, command sync)",
                _fmt(s.get("bot_work_seconds"), " s"),
                "target <= 1 s",
            )
        )
        out.append(
            (
                "5 startup",
                "the process's share of ready",
                _fmt(s.get("bot_seconds"), " s"),
                "with interpreter, imports, discord.py's GUILD_CREATEs",
            )
        )
        out.append(("5 startup", "APScheduler jobs", jobs, "was 20,001 at 10k servers"))
        out.append(("5 startup", "RSS after ready", _fmt(s.get("rss_mb"), " MB"), "stated"))
    f = b.get("fanout")
    if f and "failed" not in f:
        what = f"check-ins to {_fmt(f.get('servers'))} servers"
        if f.get("gave_up"):
            why = (
                f"stopped after {_fmt(f.get('stall_seconds'), ' s')} without progress"
                if f.get("stalled")
                else "deadline reached"
            )
            out.append(("4 fan-out", what, "DID NOT FINISH", why))
        else:
            ideal = f"ideal {_fmt(f.get('ideal_seconds'), ' s')}"
            out.append(("4 fan-out", what, _fmt(f.get("seconds_total"), " s"), ideal))
            out.append(
                (
                    "4 fan-out",
                    f"vs requests / 50 s, at the bot's {_fmt(f.get('post_rate'), '/s')}",
                    _fmt(f.get("vs_ideal"), "x"),
                    "target <= 1.1x",
                )
            )
        first = _fmt(f.get("rate_limited_first_second"))
        out.append(
            (
                "4 fan-out",
                "requests / 429s received",
                f"{_fmt(f.get('requests'))} / {_fmt(f.get('rate_limited'))}",
                f"target: no 429 hit twice ({first} in the first second)",
            )
        )
        out.append(
            (
                "4 fan-out",
                "posted / not posted",
                f"{_fmt(f.get('posted'))} / {_fmt(f.get('not_posted'))}",
                f"bot ERROR log lines: {_fmt(f.get('bot_error_lines'))}",
            )
        )
        growth = _fmt(f.get("rss_growth_mb"), " MB")
        out.append(
            (
                "4 fan-out",
                "bot memory peak (growth)",
                f"{_fmt(f.get('rss_peak_mb'), ' MB')} (+{growth})",
                "",
            )
        )
    c = b.get("cluster")
    if c and "failed" not in c:
        for run, label in (
            ("three_processes", "3 processes"),
            ("one_killed_and_restarted", "1 of 3 killed"),
        ):
            r = c.get(run) or {}
            out.append(
                (
                    "cluster",
                    f"{label}: {_fmt(r.get('servers'))} servers, {_fmt(r.get('shards'))} shards",
                    f"{_fmt(r.get('seconds'), ' s')} ({_fmt(r.get('vs_floor'), 'x')} floor)",
                    f"target <= 1.1x; 429s {_fmt(r.get('rate_limited'))}; "
                    f"posted {_fmt(r.get('posted'))}, not once {r.get('not_exactly_once') or 0}",
                )
            )
    for name, result in b.items():
        if "failed" in result:
            out.append((name, "FAILED", result["failed"], ""))
    return out


def table(results: dict[str, Any]) -> str:
    body = rows(results)
    header = ("benchmark", "figure", "value", "target / note")
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(4)]
    line = "  ".join("-" * w for w in widths)
    text = [
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
        line,
        *("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body),
    ]
    m, c = results.get("machine", {}), results.get("commit", {})
    text.append("")
    text.append(
        f"{results.get('mode')} mode, {m.get('cores')} cores, Python {m.get('python')}, "
        f"SQLite {m.get('sqlite')}, discord.py {m.get('discord.py')}, commit "
        f"{str(c.get('head'))[:10]}{' (uncommitted code changes)' if c.get('dirty_code') else ''}, "
        f"{results.get('total_seconds')} s"
    )
    return "\n".join(text)


def plans_text(results: dict[str, Any]) -> str:
    q = results["benchmarks"]["queries"]
    c = results.get("commit", {})
    out = [
        "EXPLAIN QUERY PLAN of every statement Group.leaderboard and Learners.progress_of ran",
        f"({results.get('mode')} data set, commit {c.get('head')}).",
        "FULL SCAN = SCAN of passes without an index; INDEX SCAN = a whole index walked;",
        "SORT = a temporary B-tree; WHOLE BOARD = a step reading a whole server's board.",
        "",
    ]
    for plan in q["plans"]:
        out.append(f"== {plan['operation']}")
        out.append(plan["sql"])
        for line in plan.get("plan", []):
            flag = ""
            if line in plan.get("full_scan_of_passes", []):
                flag = "    <-- FULL SCAN of passes"
            elif line in plan.get("full_index_scan_of_passes", []):
                flag = "    <-- INDEX SCAN of passes"
            elif line in plan.get("temp_btree", []):
                flag = "    <-- SORT"
            elif line in plan.get("board_scans", []):
                flag = "    <-- WHOLE BOARD"
            out.append(f"  {line}{flag}")
        if "error" in plan:
            out.append(f"  error: {plan['error']}")
        out.append("")
    out.append(
        f"full scans of passes: {q.get('full_scans_of_passes')}, "
        f"full index scans of passes: {q.get('full_index_scans_of_passes')}, "
        f"sorts: {q.get('sorts')}, whole-board steps: {q.get('board_scans')}"
    )
    return "\n".join(out) + "\n"
