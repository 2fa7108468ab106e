"""Item 1: /done and /today end to end, against the floor of the stack; /progress with its card.

From the emulator dispatching INTERACTION_CREATE to the interaction callback reaching it,
through the real discord.py client, our tree, cogs, feature services and their repositories
(TwopassBot from bot/app.py on the big database). Two floors, in the same run and against the
same emulator:

- the string floor: a bare discord.py bot whose slash command answers a constant string;
- the fair floor: a bare bot with `/done`'s exact signature (same options, same transforms) that
  does one synchronous SQLite INSERT + commit on a WAL database and answers an embed the size of
  `/done`'s, and a `/today` that does one indexed read: the least either command can cost.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import discord
from discord import app_commands
from discord.interactions import InteractionResponse
from discord.state import ConnectionState

from bench import backend, dataset
from bench.config import BOT_IDENTIFY_INTERVAL, NOW, Scale
from bench.stats import latency_summary
from bench.store_inserts import logged_now
from bench.world import BenchDiscord, Member
from bot.app import TwopassBot
from bot.db import Database
from bot.learners import inputs
from bot.learners import repo as learner_repo
from bot.settings import Settings
from localdiscord.interactions import EmulatorError

WARMUP = 50
PRIVATE_ANSWERS = frozenset({"today"})  # commands whose own answer only the member sees
GAP_SECONDS = 0.002  # between sequential interactions: the bot finishes its tail work
PROGRESS_RUNS = 300  # /progress answers with a picture: fewer runs, each ~tens of ms


class FloorBot(discord.AutoShardedClient):
    """The least a discord.py bot can do for a slash command (sharded as the bot is: the full
    data set's servers need more than one shard)."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="ping", description="Answers a constant string")
        async def ping(interaction: discord.Interaction[discord.Client]) -> None:
            await interaction.response.send_message("pong")

        @self.tree.command(name="pingembed", description="Answers a constant embed")
        async def pingembed(interaction: discord.Interaction[discord.Client]) -> None:
            await interaction.response.send_message(embed=_constant_embed())

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if not initial:
            await asyncio.sleep(BOT_IDENTIFY_INTERVAL)


PassChoice = Literal["first", "second"]


class FairFloorBot(discord.AutoShardedClient):
    """The least any `/done` and `/today` can cost (sharded as the bot is): the commands' own
    signatures, so discord.py parses and transforms the same options, one synchronous SQLite
    statement on a WAL database (an INSERT and its commit; an indexed read), and an embed of
    `/done`'s size.

    With `model=True`, the data model's floor: the same bot on a copy of the big database,
    running the store's own statements (the INSERT that logs a pass, with the history, totals
    and board triggers it fires; the one-row read of /today), so what is left between it and
    the bot is the bot's own work."""

    def __init__(self, path: Path, *, model: bool = False) -> None:
        super().__init__(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.refused = 0  # passes the store's statement did not log (the floor would flatter)
        if model:
            # As the store's loop connection: foreign keys checked, no checkpoint inside a commit
            # (the store checkpoints from another connection; over one run the log just grows).
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA wal_autocheckpoint = 0")
        else:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS passes (guild_id INTEGER, user_id INTEGER,"
                " video_id TEXT, pass INTEGER, note TEXT,"
                " PRIMARY KEY (guild_id, user_id, video_id, pass))"
            )
        db = self.db

        def log(guild_id: int | None, user_id: int, video: str, number: int, note: Any) -> None:
            if not model:
                db.execute(
                    "INSERT INTO passes VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (guild_id, user_id, video, number, note),
                )
                return
            params = learner_repo.log_params(
                guild_id or 0, user_id, video, number, **logged_now(user_id, video, number, note)
            )
            if not db.execute(learner_repo.LOG_SQL, params).fetchall():
                self.refused += 1

        def read(guild_id: int | None, user_id: int) -> None:
            if model:
                db.execute(learner_repo.VIEW_SQL, (guild_id, user_id)).fetchall()
            else:
                db.execute(
                    "SELECT video_id, pass FROM passes WHERE guild_id = ? AND user_id = ?",
                    (guild_id, user_id),
                ).fetchall()

        @self.tree.command(name="done", description="Log a pass of a video")
        @app_commands.guild_only()
        @app_commands.rename(pass_="pass")
        async def done(
            interaction: discord.Interaction[discord.Client],
            video: app_commands.Range[str, 1, 100],
            pass_: PassChoice,
            note: app_commands.Range[str, 1, inputs.NOTE_MAX] | None = None,
            link: app_commands.Range[str, 1, inputs.LINK_MAX] | None = None,
            date: app_commands.Range[str, 1, 20] | None = None,
            private: bool = False,
            member: discord.Member | None = None,
            minutes: app_commands.Range[int, 1, 1440] | None = None,
        ) -> None:
            target = member or interaction.user
            may_correct = interaction.permissions.manage_guild
            log(interaction.guild_id, target.id, video, 1 if pass_ == "first" else 2, note)
            del may_correct
            await interaction.response.send_message(embed=_constant_embed(), ephemeral=private)

        @self.tree.command(name="today", description="Your next step")
        @app_commands.guild_only()
        async def today(interaction: discord.Interaction[discord.Client]) -> None:
            read(interaction.guild_id, interaction.user.id)
            await interaction.response.send_message(embed=_constant_embed(), ephemeral=True)

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if not initial:
            await asyncio.sleep(BOT_IDENTIFY_INTERVAL)

    async def close(self) -> None:
        await super().close()
        self.db.close()


def _constant_embed() -> discord.Embed:
    """About the size and shape of /done's answer: a title, a description and four fields."""
    embed = discord.Embed(
        title="First pass logged: Let's build GPT: from scratch, in code, spelled out",
        description="Logged for Sun 08 Mar. 14 of 38 passes, 21.5 h of 68.4 h. On track.",
        colour=0x3498DB,
    )
    for name in ("Phase 2. Implementation", "Streak", "Next", "Milestone"):
        embed.add_field(
            name=name, value="`###########---------` 55% - 6 of 11 videos", inline=False
        )
    return embed


Send = Callable[[int], Awaitable[Any]]

# Where a command's time goes, from the emulator's dispatch to its answer arriving there.
SEGMENTS = (
    ("gateway", "dispatch", "parse"),  # the event over the gateway, read by discord.py
    ("interaction", "parse", "tree"),  # the Interaction built and handed to the tree
    ("checks and options", "tree", "callback"),  # the tree's checks, the options transformed
    ("the command's work", "callback", "answer"),  # the callback until it sends its answer
    ("answer sent", "answer", "arrival"),  # discord.py's request, the emulator receiving it
)


class Segments:
    """Time stamps at four points inside discord.py, per interaction, for every bot this
    process runs (`recording()`): with the emulator's own two, they split each command's
    latency into SEGMENTS. A few dictionary writes per command, the same for every bot."""

    def __init__(self) -> None:
        self.marks: dict[int, dict[str, float]] = {}

    def _mark(self, interaction_id: Any, point: str) -> None:
        self.marks.setdefault(int(interaction_id), {}).setdefault(point, time.monotonic())

    @contextmanager
    def recording(self) -> Iterator[None]:
        parse = ConnectionState.parse_interaction_create
        call = app_commands.CommandTree._call
        run = app_commands.Command._do_call
        send = InteractionResponse.send_message
        mark = self._mark

        def parse_interaction(state: ConnectionState, data: Any) -> None:
            mark(data["id"], "parse")
            parse(state, data)

        async def tree_call(tree: Any, interaction: Any) -> None:
            mark(interaction.id, "tree")
            await call(tree, interaction)

        async def do_call(command: Any, interaction: Any, params: Any) -> Any:
            mark(interaction.id, "callback")
            return await run(command, interaction, params)

        async def send_message(response: Any, *args: Any, **kwargs: Any) -> Any:
            mark(response._parent.id, "answer")
            return await send(response, *args, **kwargs)

        patches: list[tuple[Any, str, Any]] = [
            (ConnectionState, "parse_interaction_create", parse_interaction),
            (app_commands.CommandTree, "_call", tree_call),
            (app_commands.Command, "_do_call", do_call),
            (InteractionResponse, "send_message", send_message),
        ]
        originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
        try:
            for owner, name, patched in patches:
                setattr(owner, name, patched)
            yield
        finally:
            for owner, name, original in originals:
                setattr(owner, name, original)

    def medians(self, local: BenchDiscord, ids: Sequence[int]) -> dict[str, float]:
        """Median microseconds of each segment over the interactions `ids`."""
        spans: dict[str, list[float]] = {name: [] for name, _, _ in SEGMENTS}
        for interaction_id in ids:
            points = dict(self.marks.get(interaction_id, {}))
            points["dispatch"] = local.dispatched_at.get(interaction_id, float("nan"))
            points["arrival"] = local.callback_at.get(interaction_id, float("nan"))
            if len(points) < 6 or any(v != v for v in points.values()):
                continue  # answered some other way (an error reply): not this command's path
            for name, start, end in SEGMENTS:
                spans[name].append(points[end] - points[start])
        return {
            name: round(statistics.median(values) * 1e6) for name, values in spans.items() if values
        }


class Meter:
    """Runs interactions and reads their latency from the emulator's time stamps."""

    def __init__(self, local: BenchDiscord) -> None:
        self.local = local
        self.errors: list[str] = []
        self.ran: list[int] = []  # the interactions of the last sequential run

    def _check(self, reply: Any, command: str) -> float | None:
        record = reply.interaction
        message = reply.message
        private = command in PRIVATE_ANSWERS
        # An error reply is private plain text (bot/tree.py): a command measured answers in the
        # open, or privately with an embed as /today does.
        if message is None or message.ephemeral != private or (private and not message.embeds):
            self.errors.append(f"/{command}: {reply.content or reply.embeds}"[:200])
        return self.local.latency(record.id)

    async def sequential(self, count: int, send: Send, command: str) -> list[float]:
        out = []
        self.ran = []
        for index in range(count):
            reply = await send(index)
            self.ran.append(reply.interaction.id)
            latency = self._check(reply, command)
            if latency is not None:
                out.append(latency)
            await asyncio.sleep(GAP_SECONDS)
        return out

    async def concurrent(
        self, count: int, in_flight: int, send: Send, command: str
    ) -> tuple[list[float], float]:
        """`count` interactions with `in_flight` of them outstanding at any time; returns the
        latencies and the wall time from the first dispatch to the last callback."""
        queue = iter(range(count))
        replies: list[Any] = []

        async def worker() -> None:
            for index in queue:
                try:
                    replies.append(await send(index))
                except EmulatorError as lost:
                    # Answered too late for Discord's window, or not at all: counted, not fatal.
                    self.errors.append(f"/{command}: {lost}"[:200])

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        first = min(self.local.dispatched_at[r.interaction.id] for r in replies)
        last = max(self.local.callback_at[r.interaction.id] for r in replies)
        del started
        latencies = [x for r in replies if (x := self._check(r, command)) is not None]
        return latencies, last - first


def _world(local: BenchDiscord, learners: Sequence[dataset.Learner]) -> dict[int, Member]:
    """Every sampled learner as a member of their server in the emulator."""
    guilds: dict[int, Any] = {}
    members: dict[int, Member] = {}
    for learner in learners:
        if learner.guild_id not in guilds:
            index = dataset.guild_index(learner.guild_id)
            guilds[learner.guild_id] = local.add_study_server(
                learner.guild_id, dataset.channel_id(index), f"server {index}"
            )
        guild, _ = guilds[learner.guild_id]
        members[learner.user_id] = local.add_member_with_id(guild, learner.user_id)
    return members


async def _run(
    data: dataset.Dataset, scale: Scale, seed: int, workdir: Path, segments: Segments
) -> dict[str, Any]:
    seq, conc, in_flight = scale.sequential, scale.concurrent, scale.in_flight
    # Distinct learners for each /done run (each logs their next pass once), others for /today:
    # the headline /done is a member's first command in the bot's process (nothing of theirs
    # read before); `returning` run /today, then /done, as a member checking first would.
    need = WARMUP + seq + conc + 2 * seq
    learners = dataset.learners(data.path, need, seed)
    warm, seq_done, conc_done, readers, returning = (
        learners[:WARMUP],
        learners[WARMUP : WARMUP + seq],
        learners[WARMUP + seq : WARMUP + seq + conc],
        learners[WARMUP + seq + conc : WARMUP + 2 * seq + conc],
        learners[WARMUP + 2 * seq + conc :],
    )
    db_path = data.copy_to(workdir)
    results: dict[str, Any] = {"learners": len(learners)}

    ran: dict[tuple[str, str], list[int]] = {}  # each bot's sequential interactions

    async with BenchDiscord(timeout=30.0) as local:
        members = _world(local, learners)
        results["emulator_guilds"] = len(local.world.guilds)
        meter = Meter(local)

        def channel_of(learner: dataset.Learner) -> Any:
            return local.world.channel(dataset.channel_id(dataset.guild_index(learner.guild_id)))

        def ping(pool: Sequence[dataset.Learner], command: str = "ping") -> Send:
            async def send(i: int) -> Any:
                who = pool[i % len(pool)]
                return await local.slash(members[who.user_id], command, channel=channel_of(who))

            return send

        def today(pool: Sequence[dataset.Learner]) -> Send:
            async def send(i: int) -> Any:
                who = pool[i % len(pool)]
                return await local.slash(members[who.user_id], "today", channel=channel_of(who))

            return send

        def done(pool: Sequence[dataset.Learner]) -> Send:
            async def send(i: int) -> Any:
                who = pool[i]
                return await local.slash(
                    members[who.user_id],
                    "done",
                    channel=channel_of(who),
                    video=who.video_id,
                    pass_=who.pass_label,
                )

            return send

        async def warm_up() -> None:
            """Each bot's first commands (caches, the database's pages), then a clean heap."""
            await meter.sequential(WARMUP, today(warm), "today")
            await meter.sequential(WARMUP, done(warm), "done")
            gc.collect()

        # --- the floor ----------------------------------------------------------------------
        floor = FloorBot()
        async with local.running(floor):
            await meter.sequential(WARMUP, ping(learners), "ping")
            gc.collect()
            floor_seq = await meter.sequential(seq, ping(learners), "ping")
            floor_conc, floor_wall = await meter.concurrent(conc, in_flight, ping(learners), "ping")
            # The same floor answering with an embed: what discord.py itself adds for one.
            embed_seq = await meter.sequential(seq, ping(learners, "pingembed"), "pingembed")
        results["floor"] = {
            "sequential": latency_summary(floor_seq),
            "sequential_embed": latency_summary(embed_seq),
            "concurrent": {
                **latency_summary(floor_conc),
                "in_flight": in_flight,
                "per_second": round(len(floor_conc) / floor_wall, 1),
            },
        }

        # --- the fair floor: the commands' signatures, one SQLite statement, an embed ------------
        fair = FairFloorBot(workdir / "floor.sqlite3")
        async with local.running(fair):
            await warm_up()
            fair_today_seq = await meter.sequential(seq, today(readers), "today")
            ran["fair", "today"] = meter.ran
            fair_done_seq = await meter.sequential(seq, done(seq_done), "done")
            ran["fair", "done"] = meter.ran
            fair_today_conc, fair_today_wall = await meter.concurrent(
                conc, in_flight, today(readers), "today"
            )
            fair_done_conc, fair_done_wall = await meter.concurrent(
                conc, in_flight, done(conc_done), "done"
            )
        for name, seq_values, conc_values, wall in (
            ("today", fair_today_seq, fair_today_conc, fair_today_wall),
            ("done", fair_done_seq, fair_done_conc, fair_done_wall),
        ):
            results["floor"][name] = {
                "sequential": latency_summary(seq_values),
                "concurrent": {
                    **latency_summary(conc_values),
                    "in_flight": in_flight,
                    "per_second": round(len(conc_values) / wall, 1),
                },
            }

        # --- the data model's floor: the store's own statements, on the big database -----------
        if backend.name() == "sqlite":
            model_dir = workdir / "model"
            model_dir.mkdir()
            model_path = data.copy_to(model_dir)
            async with await Database.open(model_path):
                pass  # the schema the bot would run on (migrations applied)
            model = FairFloorBot(model_path, model=True)
            async with local.running(model):
                await warm_up()
                model_today = await meter.sequential(seq, today(readers), "today")
                ran["model", "today"] = meter.ran
                model_done = await meter.sequential(seq, done(seq_done), "done")
                ran["model", "done"] = meter.ran
            results["floor"]["today"]["model"] = latency_summary(model_today)
            results["floor"]["done"]["model"] = latency_summary(model_done)
            if model.refused:
                meter.errors.append(f"the data model's floor did not log {model.refused} passes")

        # --- twopass on the big database -----------------------------------------------------
        results["backend"] = backend.name()
        async with (
            backend.database_at(db_path, results) as location,
            await Database.open(location) as db,
        ):
            bot = TwopassBot(
                settings=Settings(_env_file=None),  # type: ignore[call-arg]
                db=db,
                clock=lambda: NOW,
                guild_ready_timeout=0.05,
                identify_interval=BOT_IDENTIFY_INTERVAL,
            )
            async with local.running(bot):
                # The start-up work (the server check, the posts' catch-up) is not part of the
                # figures: measuring while it ran would count its database trips as /done's.
                await bot.reconciled.wait()
                await bot.posts.wait_idle()
                await warm_up()
                today_seq = await meter.sequential(seq, today(readers), "today")
                ran["ours", "today"] = meter.ran
                done_seq = await meter.sequential(seq, done(seq_done), "done")
                ran["ours", "done"] = meter.ran
                await meter.sequential(seq, today(returning), "today")
                done_after_today = await meter.sequential(seq, done(returning), "done")
                today_conc, today_wall = await meter.concurrent(
                    conc, in_flight, today(readers), "today"
                )
                done_conc, done_wall = await meter.concurrent(
                    conc, in_flight, done(conc_done), "done"
                )
                results["progress_card"] = await _progress_card(
                    local, meter, learners, members, channel_of, min(seq, PROGRESS_RUNS)
                )
        results["problems"] = local.take_problems()
        # Where each command's time went, for each bot (sequential runs: one at a time).
        results["segments"] = {
            command: {bot: segments.medians(local, ran[bot, command]) for bot in bots}
            for command in ("today", "done")
            if (bots := [bot for bot in ("fair", "model", "ours") if (bot, command) in ran])
        }
    results["errors"] = meter.errors[:20]
    results["error_count"] = len(meter.errors)

    for name, seq_values, conc_values, wall in (
        ("today", today_seq, today_conc, today_wall),
        ("done", done_seq, done_conc, done_wall),
    ):
        seq_summary = latency_summary(seq_values)
        floor_summary = results["floor"]["sequential"]
        fair_floor = results["floor"][name]
        results[name] = {
            "sequential": seq_summary,
            "concurrent": {
                **latency_summary(conc_values),
                "in_flight": in_flight,
                "per_second": round(len(conc_values) / wall, 1),
            },
            "p50_vs_floor": round(seq_summary["p50_ms"] / floor_summary["p50_ms"], 2),
            "p99_vs_floor": round(seq_summary["p99_ms"] / floor_summary["p99_ms"], 2),
            "throughput_vs_floor": round(
                (len(conc_values) / wall) / results["floor"]["concurrent"]["per_second"], 2
            ),
            # Against the same command's fair floor (the emulator's validation runs on the same
            # loop for both, so this ratio, not the absolute rate, is the figure).
            "p50_vs_fair_floor": round(
                seq_summary["p50_ms"] / fair_floor["sequential"]["p50_ms"], 2
            ),
            "p99_vs_fair_floor": round(
                seq_summary["p99_ms"] / fair_floor["sequential"]["p99_ms"], 2
            ),
            "throughput_vs_fair_floor": round(
                (len(conc_values) / wall) / fair_floor["concurrent"]["per_second"], 2
            ),
        }
        if "model" in fair_floor:
            results[name]["p50_vs_model_floor"] = round(
                seq_summary["p50_ms"] / fair_floor["model"]["p50_ms"], 2
            )
    after = latency_summary(done_after_today)
    results["done"]["after_today"] = {
        **after,
        "p50_vs_fair_floor": round(
            after["p50_ms"] / results["floor"]["done"]["sequential"]["p50_ms"], 2
        ),
    }
    return results


async def _progress_card(
    local: BenchDiscord,
    meter: Meter,
    learners: Sequence[dataset.Learner],
    members: dict[int, Member],
    channel_of: Callable[[dataset.Learner], Any],
    count: int,
) -> dict[str, Any]:
    """/progress one at a time: from the dispatch to the acknowledgement (the defer), and to
    the follow-up carrying the card (the member sees the picture then)."""
    acked, complete = [], []
    for index in range(count + WARMUP // 5):
        who = learners[index % len(learners)]
        reply = await local.slash(members[who.user_id], "progress", channel=channel_of(who))
        finished = time.monotonic()
        message = reply.message
        names = [a.get("filename") for a in (message.attachments if message else [])]
        if not reply.ephemeral or names != ["progress.png"]:
            meter.errors.append(f"/progress: {reply.content or names}"[:200])
            continue
        if index < WARMUP // 5:
            continue  # the first renders load the fonts
        ack = local.latency(reply.interaction.id)
        if ack is not None:
            acked.append(ack)
            complete.append(finished - local.dispatched_at[reply.interaction.id])
        await asyncio.sleep(GAP_SECONDS)
    return {"acknowledged": latency_summary(acked), "with_card": latency_summary(complete)}


def run(scale: Scale, seed: int) -> dict[str, Any]:
    data = dataset.ensure(scale, seed)
    segments = Segments()
    with tempfile.TemporaryDirectory(prefix="twopass-bench-") as folder, segments.recording():
        return asyncio.run(_run(data, scale, seed, Path(folder), segments))
