"""Roadmaps per server: the operator's folder of roadmaps, `/setup roadmap`, what happens to
passes on videos a server's new roadmap lacks, and `/setup cohort`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import TwopassBot
from bot.posts.schedule import PostKind
from bot.settings import Settings
from bot.startup_checks import EXIT_CONFIG, check_roadmaps
from curriculum import default_curriculum
from localdiscord import EmulatorError, LocalDiscord
from tests.conftest import NOW, Server, SteppedClock
from tests.tables import Store, Study
from tests.test_journeys import text
from tests.test_startup import TINY, fails_with, run

# A short roadmap that shares one video (`gpt`) with the bundled one.
SPRINT = """id = "sprint"
title = "Transformer sprint"

[[phases]]
id = "build"
title = "Build one"
goal = "A transformer from scratch"
guide_hours = [5, 8]

[[phases.videos]]
id = "sprint-intro"
title = "Attention, briefly"
creator = "Someone"
url = "https://example.org/attention"
minutes = 30
first_pass = "Watch"
second_pass = "Rebuild it"

[[phases.videos]]
id = "gpt"
title = "Let's build GPT"
creator = "Andrej Karpathy"
url = "https://www.youtube.com/watch?v=kCc8FmEb1nY"
minutes = 116
first_pass = "Watch"
second_pass = "Type it"
"""


def posted(server: Server, heading: str) -> list[str]:
    """What the bot's messages with `heading` in the study channel say."""
    return [
        text(m)
        for m in server.discord.channel_messages(server.study)
        if any(e.get("title", "").startswith(heading) for e in m.embeds)
    ]


def roadmap_folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "roadmaps"
    folder.mkdir()
    for name, body in files.items():
        (folder / f"{name}.toml").write_text(body)
    return folder


@pytest_asyncio.fixture
async def sprint(tmp_path: Path) -> AsyncIterator[Server]:
    """The real bot with the bundled roadmap and the operator's `sprint` one."""
    settings = Settings(_env_file=None, roadmaps=roadmap_folder(tmp_path, sprint=SPRINT))  # type: ignore[call-arg]
    async with LocalDiscord() as local, await Store.open(tmp_path / "bot.sqlite3") as store:
        guild = local.add_guild("Study Hall")
        study = guild.add_text_channel("study")
        alice, bob = guild.add_member("alice"), guild.add_member("bob")
        admin = guild.add_member("admin", admin=True)
        clock = SteppedClock(NOW)
        bot = TwopassBot(
            settings=settings,
            db=store.db,
            roadmaps=check_roadmaps(settings),
            clock=clock,
            guild_ready_timeout=0.05,
        )
        async with local.running(bot):
            yield Server(local, bot, store, clock, guild, study, alice, bob, admin)


async def test_a_server_on_a_second_roadmap_sees_its_hours(sprint: Server) -> None:
    choices = await sprint.discord.autocomplete(
        sprint.admin, "setup roadmap", focused="roadmap", value="spr", channel=sprint.study
    )
    assert choices == [{"name": "Transformer sprint (sprint)", "value": "sprint"}]
    switched = await sprint.slash(sprint.admin, "setup roadmap", roadmap="sprint")
    assert switched.ephemeral and "now follows **Transformer sprint**" in text(switched)
    await sprint.slash(sprint.alice, "join")
    done = await sprint.slash(sprint.alice, "done", video="sprint-intro", pass_="second")
    assert "first pass" in done.content  # the sprint's own order applies
    await sprint.slash(sprint.alice, "done", video="sprint-intro", pass_="first")
    await sprint.slash(sprint.alice, "done", video="sprint-intro", pass_="second")
    # 30 min + 2.5 x 30 min: 1.75 h, on the board and in /progress alike.
    board = await sprint.slash(sprint.bob, "leaderboard", period="all time")
    assert f"<@{sprint.alice.id}> - 1.8 h (2 passes)" in text(board)
    progress = text(await sprint.slash(sprint.alice, "progress"))
    assert "2/4 passes, 1.8 h" in progress
    roadmap = text(await sprint.slash(sprint.alice, "roadmap"))
    assert "Attention, briefly" in roadmap and "micrograd" not in roadmap.lower()
    video_choices = await sprint.discord.autocomplete(
        sprint.alice, "done", focused="video", value="", channel=sprint.study
    )
    assert [c["value"] for c in video_choices] == ["sprint-intro", "gpt"]


async def test_the_servers_roadmap_reaches_posts_ratios_milestones_and_edits(
    sprint: Server,
) -> None:
    """Everything that reads a roadmap reads the server's: the scheduled posts, the group's
    second-pass ratios, the member's own, a finished roadmap, a corrected note, the cohort."""
    sprint.clock.now = NOW.replace(hour=9, minute=30)  # the daily video is due at 09:00
    await sprint.slash(sprint.admin, "setup channel", channel_=sprint.study)
    await sprint.slash(sprint.admin, "setup roadmap", roadmap="sprint")
    for who in (sprint.alice, sprint.bob, sprint.admin):
        await sprint.slash(who, "join")
        await sprint.slash(who, "done", video="sprint-intro", pass_="first")
        await sprint.slash(who, "done", video="sprint-intro", pass_="second", minutes=60)

    await sprint.bot.posts.publisher.fire(sprint.guild.id, PostKind.DAILY)
    (daily,) = posted(sprint, "Video of the day")
    assert "1. [Attention, briefly]" in daily

    # Three members reported 60 min for the 30-min video: 2.0x, on the sprint's own lengths.
    roadmap = text(await sprint.slash(sprint.alice, "roadmap"))
    assert "1. [Attention, briefly]" in roadmap and "second pass: 2.0x here (3 reports)" in roadmap
    progress = text(await sprint.slash(sprint.alice, "progress"))
    assert "Your second passes took 2.0x their videos" in progress

    edited = await sprint.slash(
        sprint.alice, "done", video="sprint-intro", pass_="first", note="attention, again"
    )
    assert edited.ephemeral and "Updated your first pass of **1. Attention, briefly**" in text(
        edited
    )

    await sprint.slash(sprint.alice, "done", video="gpt", pass_="first")
    finished = await sprint.slash(sprint.alice, "done", video="gpt", pass_="second")
    assert "Finished the whole roadmap, Transformer sprint!" in text(finished)
    assert "4/4 passes" in text(finished)
    assert "finished every pass" in text(await sprint.slash(sprint.alice, "today"))
    assert "You have finished the roadmap." in text(await sprint.slash(sprint.alice, "progress"))
    cohort = text(await sprint.slash(sprint.bob, "cohort"))
    assert f"Finished the roadmap: <@{sprint.alice.id}>" in cohort

    await sprint.slash(sprint.admin, "checkin now")
    (thread,) = sprint.study.threads
    checkin = "\n".join(text(m) for m in thread.visible_messages())
    assert f"<@{sprint.alice.id}> - 4 passes" in checkin
    assert "up to 2. Let's build GPT (second)" in checkin


async def test_passes_the_new_roadmap_lacks_are_kept_and_come_back(sprint: Server) -> None:
    guild, alice = sprint.guild.id, sprint.alice.id
    await sprint.slash(sprint.alice, "join")
    await sprint.slash(sprint.bob, "join")
    for video in ("micrograd", "gpt"):  # micrograd is not on the sprint; gpt is on both
        await sprint.slash(sprint.alice, "done", video=video, pass_="first")
    await sprint.slash(sprint.bob, "done", video="gpt", pass_="first")
    before = (await sprint.store.leaderboard(guild))[0].minutes
    assert before == 145 + 116

    switched = text(await sprint.slash(sprint.admin, "setup roadmap", roadmap="sprint"))
    assert "1 member has passes on videos this roadmap lacks" in switched
    assert "switch back to **" + default_curriculum().title in switched
    board = text(await sprint.slash(sprint.bob, "leaderboard", period="all time"))
    assert f"<@{alice}> - 1.9 h (2 passes)" in board  # only gpt counts; both passes stay
    assert "1/4 passes, 1.9 h" in text(await sprint.slash(sprint.alice, "progress"))
    assert len(await sprint.store.passes_of(guild, alice)) == 2
    assert len(await sprint.store.history_of(guild, alice)) == 2
    study = Study(sprint.store, sprint.bot.roadmaps)
    assert await study.check_totals() == []  # `twopass db check` agrees

    back = text(await sprint.slash(sprint.admin, "setup roadmap", roadmap="ml-engineer"))
    assert "Every pass logged here is on this roadmap's videos" in back
    assert (await sprint.store.leaderboard(guild))[0].minutes == before
    assert await study.check_totals() == []
    # A plan restarts on the switch, so nobody is told they are behind by what they lost.
    member = await sprint.store.member(guild, alice)
    assert member is not None and member.plan_start == NOW.date()
    assert member.plan_credit == before


async def test_unknown_roadmap_is_refused_and_nothing_changes(sprint: Server) -> None:
    reply = await sprint.slash(sprint.admin, "setup roadmap", roadmap="nope")
    assert reply.ephemeral and "no roadmap `nope`" in reply.content
    assert "`sprint`" in reply.content and "`ml-engineer`" in reply.content
    assert await sprint.store.guild_settings(sprint.guild.id) is None
    same = await sprint.slash(sprint.admin, "setup roadmap", roadmap="ml-engineer")
    assert "already follows" in text(same)


async def test_setup_cohort_sets_the_start_and_pace(server: Server) -> None:
    reply = await server.slash(server.admin, "setup cohort", start="2026-02-02", pace=7.5)
    assert reply.ephemeral and "started Mon 02 Feb 2026 at 7.5 h a week" in text(reply)
    settings = await server.store.guild_settings(server.guild.id)
    assert settings is not None
    assert (settings.cohort_start, settings.default_pace) == (date(2026, 2, 2), 7.5)
    for options, words in [
        ({"start": "2/2/2026"}, "is not a date"),
        ({"start": "2031-01-01"}, "more than a year from today"),
        ({}, "Say what to change"),
    ]:
        refused = await server.slash(server.admin, "setup cohort", **options)
        assert refused.ephemeral and words in refused.content
    unchanged = await server.store.guild_settings(server.guild.id)
    assert unchanged == settings
    with pytest.raises(EmulatorError, match="hidden from alice"):
        await server.slash(server.alice, "setup cohort", pace=3)


# --- start-up: the operator's folder, checked with the default roadmap -----------------------


@pytest.mark.parametrize(
    ("files", "words"),
    [
        (
            {"sprint": SPRINT, "broken": TINY.replace("minutes = 10", "minutes = -10")},
            "broken.toml",
        ),
        ({"sprint": SPRINT, "again": SPRINT}, "id 'sprint' is already used by"),
        (None, "no such folder"),
    ],
    ids=["broken-file", "duplicate-id", "missing-folder"],
)
def test_a_bad_roadmaps_folder_exits_2_before_the_database(
    tmp_path: Path, files: dict[str, str] | None, words: str
) -> None:
    folder = roadmap_folder(tmp_path, **files) if files else tmp_path / "nowhere"
    database = tmp_path / "data" / "db.sqlite3"
    result = run(tmp_path, database, TWOPASS_ROADMAPS=str(folder))
    fails_with(result, EXIT_CONFIG, "roadmap", words)
    assert not database.parent.exists()


def test_the_operators_copy_replaces_a_bundled_roadmap(tmp_path: Path) -> None:
    bundled = default_curriculum()
    copy = SPRINT.replace('id = "sprint"', f'id = "{bundled.id}"')
    settings = Settings(_env_file=None, roadmaps=roadmap_folder(tmp_path, mine=copy))  # type: ignore[call-arg]
    roadmaps = check_roadmaps(settings)
    assert len(roadmaps) == 1 and roadmaps.default.title == "Transformer sprint"


async def test_start_up_recredits_the_servers_of_a_roadmap_whose_lengths_changed(
    tmp_path: Path,
) -> None:
    folder = roadmap_folder(tmp_path, sprint=SPRINT)
    settings = Settings(_env_file=None, roadmaps=folder)  # type: ignore[call-arg]
    async with LocalDiscord() as local, await Store.open(tmp_path / "bot.sqlite3") as store:
        guild = local.add_guild("Study Hall")
        study = guild.add_text_channel("study")
        alice, admin = guild.add_member("alice"), guild.add_member("admin", admin=True)

        def start() -> TwopassBot:
            return TwopassBot(
                settings=settings,
                db=store.db,
                roadmaps=check_roadmaps(settings),
                clock=SteppedClock(NOW),
                guild_ready_timeout=0.05,
            )

        async with local.running(start()):
            await local.slash(admin, "setup roadmap", channel=study, roadmap="sprint")
            await local.slash(alice, "join", channel=study)
            await local.slash(alice, "done", channel=study, video="sprint-intro", pass_="first")
        assert (await store.leaderboard(guild.id))[0].minutes == 30
        (folder / "sprint.toml").write_text(SPRINT.replace("minutes = 30", "minutes = 45"))
        async with local.running(start()):
            pass
        assert (await store.leaderboard(guild.id))[0].minutes == 45
        assert await Study(store, check_roadmaps(settings)).check_totals() == []


def _long_roadmap(phases: int) -> str:
    """A roadmap of `phases` phases, one video each."""
    out = ['id = "long"', 'title = "A long road"']
    for n in range(1, phases + 1):
        out += [
            "[[phases]]",
            f'id = "p{n}"',
            f'title = "Part {n}"',
            'goal = "One more step"',
            "guide_hours = [1, 2]",
            "[[phases.videos]]",
            f'id = "v{n}"',
            f'title = "Video number {n}"',
            'creator = "Someone"',
            f'url = "https://example.org/{n}"',
            "minutes = 10",
            'first_pass = "Watch"',
            'second_pass = "Redo it"',
        ]
    return "\n".join(out) + "\n"


async def test_a_roadmap_of_more_phases_than_one_message_holds_is_shown_whole(
    tmp_path: Path,
) -> None:
    # Discord takes at most 10 embeds a message; /roadmap shows one a phase.
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, roadmaps=roadmap_folder(tmp_path, long=_long_roadmap(12))
    )
    async with LocalDiscord() as local, await Store.open(tmp_path / "bot.sqlite3") as store:
        guild = local.add_guild("Study Hall")
        study = guild.add_text_channel("study")
        alice, admin = guild.add_member("alice"), guild.add_member("admin", admin=True)
        bot = TwopassBot(
            settings=settings,
            db=store.db,
            roadmaps=check_roadmaps(settings),
            clock=SteppedClock(NOW),
            guild_ready_timeout=0.05,
        )
        async with local.running(bot):
            await local.slash(admin, "setup roadmap", channel=study, roadmap="long")
            await local.slash(alice, "join", channel=study)
            reply = await local.slash(alice, "roadmap", channel=study)
    messages = [reply.message, *reply.followups]
    assert all(m is not None and m.ephemeral and len(m.embeds) <= 10 for m in messages)
    titles = [e["title"] for m in messages if m is not None for e in m.embeds]
    assert titles == [f"Part {n}" for n in range(1, 13)]
