"""The `twopass` command line: run the bot, inspect the roadmap, look after the database."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot import private_files
from bot.db import Database, SQLiteDatabase
from bot.db.migrations import SchemaTooNew
from bot.db.target import parse as parse_target
from bot.group.repo import GroupRepo
from bot.group.service import Group
from bot.learners import export as export_files
from bot.learners.repo import LearnerRepo
from bot.learners.service import Learners
from bot.posts.repo import PostRepo
from bot.server.repo import ServerRepo
from bot.server.service import Servers
from bot.settings import Settings
from bot.startup_checks import (
    EXIT_CONFIG,
    EXIT_RUNTIME,
    StartupError,
    check_roadmaps,
    describe_schema_too_new,
    open_database,
)
from curriculum import (
    DEFAULT_PATH,
    Curriculum,
    CurriculumError,
    Roadmaps,
    default_curriculum,
    load_curriculum,
)

log = logging.getLogger("twopass")

NO_TOKEN = (
    "twopass: DISCORD_TOKEN is not set (looked in the environment and {env_file}). Copy "
    ".env.example to .env and set DISCORD_TOKEN to your bot's token (Discord developer portal "
    "> your application > Bot), or name another file with --env-file PATH."
)


class CliError(Exception):
    """A problem the user can fix; printed as one line, no traceback, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except CliError as exc:
        print(f"twopass: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except StartupError as exc:
        print(f"twopass: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `twopass curriculum show | head`: the reader left; nothing more to say to it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twopass",
        description=__doc__,
        epilog="exit codes: 0 ok; 1 runtime failure (Discord unreachable, an invalid roadmap "
        "for `curriculum check`); 2 usage or configuration error; 3 the database cannot be used",
    )
    env_help = "read settings from this file instead of .env in the current folder"
    parser.add_argument("--env-file", type=Path, metavar="PATH", help=env_help)
    # Also accepted after the command (`twopass run --env-file PATH`); SUPPRESS keeps the
    # subcommand from resetting a value given before it.
    with_env = argparse.ArgumentParser(add_help=False)
    with_env.add_argument(
        "--env-file", type=Path, metavar="PATH", help=env_help, default=argparse.SUPPRESS
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run", help="connect to Discord and serve the study group", parents=[with_env]
    )
    run.add_argument(
        "--shards",
        metavar="IDS",
        help="run only these shards, e.g. 0-3 or 0,2 (needs --shard-count or TWOPASS_SHARD_COUNT)",
    )
    run.add_argument(
        "--shard-count",
        type=int,
        metavar="N",
        help="total shards across every process (default: as many as Discord recommends)",
    )
    run.set_defaults(handler=_run)

    roadmap = sub.add_parser("curriculum", help="show or check a roadmap file")
    roadmap_sub = roadmap.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = roadmap_sub.add_parser("show", help="print a roadmap (the bundled one by default)")
    show.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(handler=_curriculum_show)
    check = roadmap_sub.add_parser(
        "check", help="validate a roadmap file: every fault with its line; exit 1 if any"
    )
    check.add_argument("path", type=Path)
    check.set_defaults(handler=_curriculum_check)

    sandbox = sub.add_parser(
        "sandbox",
        help="try the bot without Discord: type commands as a member of a local server",
        description="Runs the real bot and a real database against a local Discord and reads "
        "commands from stdin (/join, /done gpt first, :as bob, :advance 1d, :posts, :help).",
    )
    sandbox.add_argument(
        "--db",
        type=Path,
        help="keep the database in this file to carry on later (default: a temporary one)",
    )
    sandbox.add_argument(
        "--start", help="the clock at start, e.g. 2026-03-02T08:00 (UTC); default: now"
    )
    sandbox.set_defaults(handler=_sandbox)

    cmds = sub.add_parser("commands", help="print the slash commands that sync sends to Discord")
    cmds.add_argument(
        "--json", action="store_true", help="the exact JSON payload instead of a readable list"
    )
    cmds.set_defaults(handler=_commands)

    db = sub.add_parser("db", help="look after the database")
    db_sub = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = db_sub.add_parser(
        "upgrade", help="apply pending schema migrations", parents=[with_env]
    )
    upgrade.set_defaults(handler=_db_upgrade)
    backup = db_sub.add_parser("backup", help="copy the live database to DEST", parents=[with_env])
    backup.add_argument("dest", type=Path)
    backup.set_defaults(handler=_db_backup)
    check_db = db_sub.add_parser(
        "check",
        help="recompute the leaderboard totals from the history and report differences",
        parents=[with_env],
    )
    check_db.add_argument(
        "--fix", action="store_true", help="rebuild the totals when they differ from the history"
    )
    check_db.set_defaults(handler=_db_check)
    copy = db_sub.add_parser(
        "copy",
        help="copy every row from SRC to an empty DEST (SQLite to PostgreSQL, or back), then "
        "compare row counts and check the totals",
        description="SRC and DEST are each an SQLite file (a path or sqlite:///path) or a "
        "postgresql:// URL. DEST is created and migrated if needed and must hold no data. Stop "
        "the bot first: rows written during the copy would be missed.",
    )
    copy.add_argument("source", metavar="SRC")
    copy.add_argument("destination", metavar="DEST")
    copy.set_defaults(handler=_db_copy)
    export = db_sub.add_parser(
        "export",
        help="write every member's data in a server to a CSV and a JSON file",
        parents=[with_env],
    )
    export.add_argument("--guild", type=int, required=True, metavar="ID", help="the server's id")
    export.add_argument(
        "--out", type=Path, default=Path("."), metavar="DIR", help="folder for the files (.)"
    )
    export.set_defaults(handler=_db_export)
    erase = db_sub.add_parser(
        "erase",
        help="erase everything stored about a user (a data deletion request)",
        parents=[with_env],
    )
    erase.add_argument("--user", type=int, required=True, metavar="ID", help="the user's id")
    erase.add_argument(
        "--guild", type=int, metavar="ID", help="only in this server (default: every server)"
    )
    erase.set_defaults(handler=_db_erase)
    return parser


def env_file(args: argparse.Namespace) -> Path:
    """The settings file: --env-file if given (it must exist), else .env here (if any)."""
    path: Path | None = getattr(args, "env_file", None)
    if path is None:
        return Path(".env")
    if not path.is_file():
        raise CliError(f"--env-file {path}: no such file")
    return path


def load_settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from the environment and the settings file; ``overrides`` (command-line flags)
    win."""
    path = env_file(args)
    try:
        return Settings(_env_file=path, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        problems = "; ".join(
            ".".join(str(part) for part in error["loc"]) + ": " + _reason(error["msg"])
            if error["loc"]
            else _reason(error["msg"])
            for error in exc.errors()
        )
        flags = "the command line, " if overrides else ""
        where = f"{flags}the environment or {path}"
        raise CliError(f"invalid settings in {where}: {problems}") from None


def _reason(message: str) -> str:
    return message.removeprefix("Value error, ")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # discord.py's gateway chatter is only useful when debugging it.
    logging.getLogger("discord").setLevel(max(logging.getLevelName(level), logging.INFO))
    # aiosqlite logs every statement with its parameters at DEBUG: members' notes and links
    # would land in the logs. Never below INFO, whatever the level.
    logging.getLogger("aiosqlite").setLevel(max(logging.getLevelName(level), logging.INFO))


# --- run ------------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    flags: dict[str, Any] = {}
    if args.shard_count is not None:
        flags["shard_count"] = args.shard_count
    if args.shards is not None:
        flags["shard_ids"] = args.shards
    settings = load_settings(args, **flags)
    if settings.discord_token is None:
        print(NO_TOKEN.format(env_file=env_file(args).absolute()), file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level)
    from bot.runner import serve  # discord.py is imported only when the bot really runs

    return asyncio.run(serve(settings))


# --- sandbox --------------------------------------------------------------------------------


def _sandbox(args: argparse.Namespace) -> int:
    sandbox = _import_sandbox()
    result: int = sandbox.main(args.db, args.start)
    return result


def _import_sandbox() -> Any:
    """The sandbox lives in the local Discord, which is installed with the bot but needs the
    development extras (its spec validation): import it, or say how to get it."""
    import importlib

    try:
        return importlib.import_module("localdiscord.sandbox")
    except ModuleNotFoundError as missing:
        if missing.name and missing.name.split(".")[0] == "localdiscord":
            raise CliError(
                "the sandbox needs the local Discord (localdiscord), which this install lacks; "
                "run it from a clone of the repository installed with pip install -e '.[dev]'"
            ) from None
        raise CliError(
            f"the sandbox needs the development packages ({missing.name} is missing): "
            "pip install -e '.[dev]'"
        ) from None


# --- curriculum -----------------------------------------------------------------------------


def _load(path: Path) -> Curriculum:
    try:
        return load_curriculum(path)
    except CurriculumError as exc:
        if exc.unreadable:
            raise CliError(str(exc)) from None
        raise StartupError(str(exc), EXIT_RUNTIME) from None


def curriculum_json(curriculum: Curriculum) -> dict[str, Any]:
    return {
        "id": curriculum.id,
        "title": curriculum.title,
        "estimate_hours": round(curriculum.estimate_minutes / 60, 1),
        "phases": [
            {
                "id": phase.id,
                "title": phase.title,
                "goal": phase.goal,
                "guide_hours": list(phase.guide_hours),
                "estimate_hours": round(phase.estimate_minutes / 60, 1),
                "videos": [
                    {
                        "id": video.id,
                        "title": video.title,
                        "creator": video.creator,
                        "url": video.url,
                        "minutes": video.minutes,
                        "optional": video.optional,
                    }
                    for video in phase.videos
                ],
            }
            for phase in curriculum.phases
        ],
    }


def _hours(low: float, high: float) -> str:
    return f"~{low:g} h" if low == high else f"{low:g}-{high:g} h"


def _curriculum_show(args: argparse.Namespace) -> int:
    curriculum = _load(args.path)
    if args.json:
        print(json.dumps(curriculum_json(curriculum), indent=2, ensure_ascii=False))
        return 0
    guide_low = sum(phase.guide_hours[0] for phase in curriculum.phases)
    guide_high = sum(phase.guide_hours[1] for phase in curriculum.phases)
    print(
        f"{curriculum.title} - {curriculum.video_count} videos, "
        f"about {curriculum.estimate_minutes / 60:.0f} h with both passes "
        f"(the guide says {_hours(guide_low, guide_high)}; a second pass takes 2-3x a video)"
    )
    number = 0
    for phase in curriculum.phases:
        low, high = phase.guide_hours
        print(
            f"\n{phase.title}  (estimate {phase.estimate_minutes / 60:.1f} h; "
            f"guide {_hours(low, high)})"
        )
        for video in phase.videos:
            number += 1
            bonus = " (bonus)" if video.optional else ""
            print(f"  {number:>2}. {video.id:<20} {video.minutes:>4} min  {video.title}{bonus}")
    return 0


def _curriculum_check(args: argparse.Namespace) -> int:
    """Every fault, one per line as `file:line: item: what is wrong`; exit 1 if there is any."""
    try:
        curriculum = load_curriculum(args.path)
    except CurriculumError as exc:
        if exc.unreadable:
            raise CliError(str(exc)) from None
        for fault in exc.faults:
            line = f"{fault.line}:" if fault.line else ""
            where = f" {fault.where}:" if fault.where else ""
            print(f"{args.path}:{line}{where} {fault.message}", file=sys.stderr)
        count = len(exc.faults)
        print(f"{args.path}: {count} fault{'s' if count != 1 else ''}", file=sys.stderr)
        return 1
    print(f"{args.path}: ok ({len(curriculum.phases)} phases, {curriculum.video_count} videos)")
    return 0


# --- commands -------------------------------------------------------------------------------


def command_payload() -> list[dict[str, Any]]:
    """Build the real bot offline (no token, a throwaway database) and read its commands."""

    async def build() -> list[dict[str, Any]]:
        from bot.app import TwopassBot

        async with await Database.open(":memory:") as db:
            bot = TwopassBot(settings=Settings(_env_file=None), db=db)  # type: ignore[call-arg]
            async with bot:  # sets up what a sharded bot's close() needs, without connecting
                await bot.load_cogs()
                return bot.command_payload()

    return asyncio.run(build())


def _commands(args: argparse.Namespace) -> int:
    payload = command_payload()
    if args.json:
        print(json.dumps(payload, indent=2, sort_keys=True))
    else:
        print("\n".join(describe_commands(payload)))
    return 0


_SUB_COMMAND, _SUB_COMMAND_GROUP = 1, 2


def describe_commands(payload: list[dict[str, Any]]) -> list[str]:
    """`/name <required> [optional]` and its description, for every command and subcommand."""
    lines: list[str] = []

    def walk(prefix: str, command: dict[str, Any]) -> None:
        name = f"{prefix} {command['name']}".strip()
        options = command.get("options") or []
        children = [o for o in options if o["type"] in (_SUB_COMMAND, _SUB_COMMAND_GROUP)]
        if children:
            for child in children:
                walk(name, child)
            return
        usage = " ".join(
            f"<{option['name']}>" if option.get("required") else f"[{option['name']}]"
            for option in options
        )
        lines.append(f"/{name} {usage}".rstrip())
        lines.append(f"    {command.get('description', '')}")

    for command in payload:
        walk("", command)
    return lines


# --- database -------------------------------------------------------------------------------


def _db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings(args)

    async def upgrade() -> int:
        async with await open_database(settings.database, migrate=False) as db:
            before = await db.schema_version()
            try:
                applied = await db.upgrade()
            except SchemaTooNew as exc:
                raise describe_schema_too_new(db.name, exc) from None
            print(
                f"{db.name}: schema version {before} -> {before + len(applied)}"
                if applied
                else f"{db.name}: already at schema version {before}"
            )
        return 0

    return asyncio.run(upgrade())


def _sqlite_file(location: str) -> Path:
    """The SQLite file `location` names; a PostgreSQL URL or a missing file is refused."""
    target = parse_target(location)
    if target.path is None:
        return Path()
    if not target.path.exists():
        raise CliError(f"no database at {target.path} (set TWOPASS_DATABASE)")
    return target.path


def _db_backup(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    if parse_target(settings.database).is_postgres:
        raise CliError(
            "TWOPASS_DATABASE is a PostgreSQL database: back it up with pg_dump, or copy it to "
            "an SQLite file with `twopass db copy`"
        )
    # The file the setting names (a path or a sqlite:/// URL), never the setting's raw text:
    # opening that would create an empty database and back it up.
    source = _sqlite_file(settings.database)
    if args.dest.exists():
        raise CliError(f"{args.dest} already exists; choose a new file name")

    async def backup() -> int:
        async with await open_database(source, migrate=False) as db:
            assert isinstance(db, SQLiteDatabase)
            await db.backup(args.dest)
        print(f"backed up {source} to {args.dest}")
        return 0

    return asyncio.run(backup())


def _db_check(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    _sqlite_file(settings.database)

    async def check() -> int:
        from bot.group.repo import GroupRepo
        from bot.group.service import Group
        from bot.server.repo import ServerRepo
        from bot.server.service import Servers

        async with await open_database(settings.database) as db:
            roadmaps = Roadmaps(default_curriculum())
            group = Group(GroupRepo(db), Servers(ServerRepo(db), roadmaps), roadmaps)
            problems = await group.check_totals(fix=args.fix)
            if not problems:
                print(f"{db.name}: the totals agree with the history")
                return 0
            for line in problems:
                print(line)
            if args.fix:
                left = await group.check_totals()
                print(
                    f"{len(problems)} totals differed; rebuilt"
                    + (
                        ""
                        if not left
                        else f", {len(left)} still differ (the passes and the history disagree)"
                    )
                )
                return 0 if not left else 1
            print(
                f"{len(problems)} totals differ from the history; `twopass db check --fix` rebuilds them"
            )
            return 1

    return asyncio.run(check())


async def totals_problems(db: Database) -> list[str]:
    """What `twopass db check` reports: kept totals that differ from the history."""
    roadmaps = Roadmaps(default_curriculum())
    group = Group(GroupRepo(db), Servers(ServerRepo(db), roadmaps), roadmaps)
    return await group.check_totals()


def _db_copy(args: argparse.Namespace) -> int:
    from bot.db.copy import CopyRefused, copy, counts

    if parse_target(args.source).path is not None:
        _sqlite_file(args.source)  # an SQLite source must exist: never create an empty one

    async def run() -> int:
        async with (
            await open_database(args.source, migrate=False, setting="SRC") as source,
            await open_database(args.destination, setting="DEST") as destination,
        ):
            try:
                copied = await copy(source, destination)
            except CopyRefused as refused:
                raise CliError(str(refused)) from None
            there = await counts(destination)
            for table, rows in copied.items():
                print(f"  {table:<20} {rows:>9} rows")
            wrong = {t: (n, there.get(t)) for t, n in copied.items() if there.get(t) != n}
            if wrong:
                for table, (expected, found) in wrong.items():
                    print(f"{table}: copied {expected} rows, {destination.name} has {found}")
                return EXIT_RUNTIME
            problems = await totals_problems(destination)
            for line in problems:
                print(line)
            if problems:
                print(f"{len(problems)} totals in {destination.name} differ from its history")
                return EXIT_RUNTIME
            print(
                f"copied {sum(copied.values())} rows from {source.name} to {destination.name}; "
                "the row counts match and the totals agree with the history"
            )
        return 0

    return asyncio.run(run())


def _services(db: Database, settings: Settings) -> tuple[Learners, Group]:
    """The services the data commands need, wired as the bot wires them, without Discord."""
    roadmaps = check_roadmaps(settings)
    servers = Servers(ServerRepo(db), roadmaps, settings.default_timezone)
    learners = Learners(LearnerRepo(db), servers, roadmaps)
    learners.others = [servers, PostRepo(db)]
    return learners, Group(GroupRepo(db), servers, roadmaps)


def _existing_database(settings: Settings) -> str:
    """The database settings name; an SQLite file must exist (a PostgreSQL one is asked)."""
    _sqlite_file(settings.database)
    return settings.database


def _db_export(args: argparse.Namespace) -> int:
    """Files on disk have no upload limit: the CSV and the JSON, never zipped."""
    settings = load_settings(args)
    path = _existing_database(settings)
    if not args.out.is_dir():
        raise CliError(f"--out {args.out}: no such folder")

    async def export() -> int:
        async with await open_database(path) as db:
            learners, _ = _services(db, settings)
            # Not `export`: that packs the files for one Discord upload and refuses more.
            data = await learners.export_data(args.guild, None, datetime.now(UTC))
        if data.empty:
            # The database as the logs show it: a PostgreSQL URL without its password.
            raise CliError(f"nothing is stored about server {args.guild} in {parse_target(path)}")
        stem = export_files.file_stem(data)
        for name, body in (
            (f"{stem}.csv", export_files.to_csv(data)),
            (f"{stem}.json", export_files.to_json(data)),
        ):
            target = args.out / name
            private_files.create_file(target)
            target.write_bytes(body)
            print(target)
        print(
            f"server {args.guild}: {len(data.members)} members, {len(data.passes)} passes, "
            f"{len(data.history)} history entries"
        )
        return 0

    return asyncio.run(export())


def _db_erase(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    path = _existing_database(settings)
    where = f"server {args.guild}" if args.guild else "every server"

    async def erase() -> int:
        async with await open_database(path) as db:
            learners, group = _services(db, settings)
            if args.guild:
                erased = await learners.forget(args.guild, args.user)
            else:
                erased = await learners.erase_everywhere(args.user)
            left = await group.check_totals()
        if erased.nothing:
            print(f"nothing is stored about user {args.user} in {where}")
        else:
            print(
                f"erased user {args.user} in {where}: {_count(erased.members, 'membership')}, "
                f"{_count(erased.passes, 'pass', 'passes')}, "
                f"{_count(erased.history, 'history entry', 'history entries')}; "
                f"{_count(erased.corrections, 'correction')} they made to others' logs now "
                "name no one"
            )
        if left:
            print(f"{len(left)} totals differ from the history; run `twopass db check --fix`")
            return 1
        return 0

    return asyncio.run(erase())


def _count(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"
