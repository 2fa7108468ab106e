"""The `twopass` command line: run the bot, inspect the roadmap, look after the database."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.settings import Settings
from curriculum import DEFAULT_PATH, Curriculum, CurriculumError, load_curriculum

log = logging.getLogger("twopass")

NO_TOKEN = (
    "twopass: DISCORD_TOKEN is not set. Copy .env.example to .env and set DISCORD_TOKEN "
    "to your bot's token (Discord developer portal > your application > Bot)."
)


class CliError(Exception):
    """A problem the user can fix; printed as one line, no traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except CliError as exc:
        print(f"twopass: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twopass", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="connect to Discord and serve the study group")
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
    check = roadmap_sub.add_parser("check", help="validate a roadmap file")
    check.add_argument("path", type=Path)
    check.set_defaults(handler=_curriculum_check)

    cmds = sub.add_parser("commands", help="print the slash commands that sync sends to Discord")
    cmds.add_argument("--json", action="store_true", required=True, help="as a JSON list")
    cmds.set_defaults(handler=_commands)

    db = sub.add_parser("db", help="look after the database")
    db_sub = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply pending schema migrations")
    upgrade.set_defaults(handler=_db_upgrade)
    backup = db_sub.add_parser("backup", help="copy the live database to DEST")
    backup.add_argument("dest", type=Path)
    backup.set_defaults(handler=_db_backup)
    return parser


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and .env; ``overrides`` (command-line flags) win."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            ".".join(str(part) for part in error["loc"]) + ": " + _reason(error["msg"])
            if error["loc"]
            else _reason(error["msg"])
            for error in exc.errors()
        )
        where = (
            "the command line, the environment or .env" if overrides else "the environment or .env"
        )
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


# --- run ------------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    flags: dict[str, Any] = {}
    if args.shard_count is not None:
        flags["shard_count"] = args.shard_count
    if args.shards is not None:
        flags["shard_ids"] = args.shards
    settings = load_settings(**flags)
    if settings.discord_token is None:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    from bot.runner import serve  # discord.py is imported only when the bot really runs

    return asyncio.run(serve(settings))


# --- curriculum -----------------------------------------------------------------------------


def _load(path: Path) -> Curriculum:
    try:
        return load_curriculum(path)
    except CurriculumError as exc:
        raise CliError(str(exc)) from None


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


def _curriculum_show(args: argparse.Namespace) -> int:
    curriculum = _load(args.path)
    if args.json:
        print(json.dumps(curriculum_json(curriculum), indent=2, ensure_ascii=False))
        return 0
    print(
        f"{curriculum.title} - {curriculum.video_count} videos, "
        f"about {curriculum.estimate_minutes / 60:.0f} h with both passes"
    )
    number = 0
    for phase in curriculum.phases:
        low, high = phase.guide_hours
        print(
            f"\n{phase.title}  (estimate {phase.estimate_minutes / 60:.1f} h; guide {low:g}-{high:g} h)"
        )
        for video in phase.videos:
            number += 1
            bonus = " (bonus)" if video.optional else ""
            print(f"  {number:>2}. {video.id:<20} {video.minutes:>4} min  {video.title}{bonus}")
    return 0


def _curriculum_check(args: argparse.Namespace) -> int:
    curriculum = _load(args.path)
    print(f"{args.path}: ok ({len(curriculum.phases)} phases, {curriculum.video_count} videos)")
    return 0


# --- commands -------------------------------------------------------------------------------


def command_payload() -> list[dict[str, Any]]:
    """Build the real bot offline (no token, a throwaway database) and read its commands."""

    async def build() -> list[dict[str, Any]]:
        from bot.app import TwopassBot
        from bot.store import Store

        async with await Store.open(":memory:") as store:
            bot = TwopassBot(settings=Settings(_env_file=None), store=store)  # type: ignore[call-arg]
            async with bot:  # sets up what close() needs, without connecting
                await bot.load_cogs()
                return bot.command_payload()

    return asyncio.run(build())


def _commands(args: argparse.Namespace) -> int:
    print(json.dumps(command_payload(), indent=2, sort_keys=True))
    return 0


# --- database -------------------------------------------------------------------------------


def _db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()

    async def upgrade() -> int:
        from bot.store import Store

        async with await Store.open(settings.database, migrate=False) as store:
            before = await store.schema_version()
            applied = await store.upgrade()
            print(
                f"{settings.database}: schema version {before} -> {before + len(applied)}"
                if applied
                else f"{settings.database}: already at schema version {before}"
            )
        return 0

    return asyncio.run(upgrade())


def _db_backup(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.database.exists():
        raise CliError(f"no database at {settings.database} (set TWOPASS_DATABASE)")
    if args.dest.exists():
        raise CliError(f"{args.dest} already exists; choose a new file name")

    async def backup() -> int:
        from bot.store import Store

        async with await Store.open(settings.database, migrate=False) as store:
            await store.backup(args.dest)
        print(f"backed up {settings.database} to {args.dest}")
        return 0

    return asyncio.run(backup())
