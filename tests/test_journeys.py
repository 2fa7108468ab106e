"""Every study journey end to end: the real bot, cogs and store, through the local Discord.

Each request the bot sends is validated against Discord's OpenAPI spec by the emulator; a
payload Discord would reject fails the test that caused it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.learners.plan import credit
from bot.learners.progress import replay
from curriculum import Pass
from localdiscord import EmulatorError, LocalDiscord, Permission
from tests.conftest import NOW, Server, SteppedClock, make_bot
from tests.tables import Store

COMMANDS = "/applications/{application_id}/commands"
GUILD_COMMANDS = "/applications/{application_id}/guilds/{guild_id}/commands"


def text(reply: object) -> str:
    """Everything a user reads in a reply: content, embed titles, descriptions and fields."""
    parts = [getattr(reply, "content", "")]
    for embed in getattr(reply, "embeds", []):
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        parts.append(embed.get("footer", {}).get("text", ""))
    return "\n".join(parts)


# --- start-up and sync ---------------------------------------------------------------------------


async def test_login_syncs_exactly_the_reviewed_payload(server: Server) -> None:
    synced = sorted(server.discord.synced_commands, key=lambda c: c["name"])
    # What each command says in Discord's command picker, as reviewed.
    reviewed = {
        "join": "Join this server's roadmap, or change your pace",
        "leave": "Leave the roadmap: no reminders, off the boards; your history is kept",
        "today": "Your next step, how you stand against your plan, and the cohort's video",
        "done": "Log a pass of a video",
        "undo": "Remove a pass you logged by mistake",
        "progress": "Progress per phase, streak and notes (yours or a member's)",
        "roadmap": "The whole roadmap with links, lengths and your ticks",
        "leaderboard": "Members ranked by estimated study hours",
        "cohort": "Who is on which video, who moved this week, who has gone quiet",
        "setup": "The server's posts, roadmap, cohort and members' data",
        "checkin": "The weekly check-in",
        "export": "Your passes, notes, links and history in this server, as CSV and JSON files",
        "forget": "Erase everything this bot stores about you in this server",
        "help": "The two-pass method and every command",
    }
    assert {c["name"]: c["description"] for c in synced} == reviewed
    # The sync sends exactly what `twopass commands --json` prints, built offline.
    printer = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "commands", "--json", stdout=asyncio.subprocess.PIPE
    )
    printed, _ = await printer.communicate()
    assert printer.returncode == 0
    offline = json.loads(printed)
    (sync,) = server.discord.requests_to("PUT", COMMANDS)
    assert sync.body == offline
    setup = next(c for c in synced if c["name"] == "setup")
    assert int(setup["default_member_permissions"]) == Permission.MANAGE_GUILD
    # /setup's subcommands and their options, as reviewed.
    assert {
        sub["name"]: [option["name"] for option in sub.get("options", [])]
        for sub in setup["options"]
    } == {
        "channel": [
            "channel",
            "timezone",
            "checkin_day",
            "checkin_time",
            "daily_time",
            "admin_channel",
        ],
        "show": [],
        "posts": ["daily", "checkin"],
        "roadmap": ["roadmap"],
        "cohort": ["start", "pace"],
        "export": [],
        "forget": ["member", "user_id"],
    }


async def test_sync_only_when_commands_change(tmp_path: Path) -> None:
    async with LocalDiscord() as local, await Store.open(tmp_path / "bot.sqlite3") as store:
        local.add_guild("Study Hall")
        clock = SteppedClock(NOW)
        for _ in range(2):
            async with local.running(make_bot(store, clock)):
                pass
        assert len(local.requests_to("PUT", COMMANDS)) == 1  # the second start had nothing new
        guild = local.add_guild("Dev server")
        async with local.running(make_bot(store, clock, dev_guild_id=guild.id)):
            pass
        assert len(local.requests_to("PUT", GUILD_COMMANDS)) == 1


# --- learners ------------------------------------------------------------------------------------


async def test_join_then_join_again_changes_the_pace(server: Server) -> None:
    first = await server.slash(server.alice, "join")
    assert first.ephemeral
    assert "5 hours a week" in text(first) and "finish on" in text(first)
    again = await server.slash(server.alice, "join", hours_per_week=10, timezone="Asia/Tokyo")
    assert (
        "Plan updated" in text(again)
        and "10 hours a week" in text(again)
        and "(was 5 h)" in text(again)
    )
    member = await server.store.member(server.guild.id, server.alice.id)
    assert member is not None and member.pace_hours == 10 and member.timezone == "Asia/Tokyo"


async def test_join_bad_timezone_is_refused_and_nothing_written(server: Server) -> None:
    reply = await server.slash(server.alice, "join", timezone="Mars/Olympus")
    assert reply.ephemeral and "not a timezone" in reply.content
    assert await server.store.member(server.guild.id, server.alice.id) is None
    with pytest.raises(EmulatorError):  # Discord's own client refuses a pace outside the range
        await server.slash(server.alice, "join", hours_per_week=100)


async def test_timezone_autocomplete(server: Server) -> None:
    choices = await server.discord.autocomplete(
        server.alice, "join", focused="timezone", value="tokyo", channel=server.study
    )
    assert {"name": "Tokyo — Japan (Asia/Tokyo)", "value": "Asia/Tokyo"} in choices


async def test_today_invites_then_guides(server: Server) -> None:
    invite = await server.slash(server.alice, "today")
    assert invite.ephemeral and "/join" in invite.content
    await server.slash(server.alice, "join")
    today = await server.slash(server.alice, "today")
    assert today.ephemeral  # it says where she stands against her own plan: hers alone
    body = text(today)
    assert "But what is a neural network?" in body and "first pass" in body and "on track" in body
    assert "https://www.youtube.com/watch?v=aircAruvnKk" in body
    assert "video of the day" in body


async def test_done_autocomplete_rules_and_progress(server: Server) -> None:
    choices = await server.discord.autocomplete(
        server.alice, "done", focused="video", value="micro", channel=server.study
    )
    assert choices[0]["value"] == "micrograd" and len(choices) <= 25
    everything = await server.discord.autocomplete(
        server.alice, "done", focused="video", value="", channel=server.study
    )
    assert len(everything) == 19

    not_joined = await server.slash(server.alice, "done", video="micrograd", pass_="first")
    assert not_joined.ephemeral and "/join" in not_joined.content
    await server.slash(server.alice, "join")

    second_first = await server.slash(server.alice, "done", video="micrograd", pass_="second")
    assert second_first.ephemeral and "first pass" in second_first.content
    unknown = await server.slash(server.alice, "done", video="micrgrad", pass_="first")
    assert (
        unknown.ephemeral
        and "No such video" in unknown.content
        and "`micrograd`" in unknown.content
    )
    future = await server.slash(
        server.alice, "done", video="micrograd", pass_="first", date="2030-01-01"
    )
    assert future.ephemeral and "future" in future.content
    old = await server.slash(
        server.alice, "done", video="micrograd", pass_="first", date="2026-02-01"
    )
    assert old.ephemeral and "7 days" in old.content
    bad_link = await server.slash(
        server.alice, "done", video="micrograd", pass_="first", link="my notebook"
    )
    assert bad_link.ephemeral and "link" in bad_link.content
    assert await server.store.passes_of(server.guild.id, server.alice.id) == []

    logged = await server.slash(
        server.alice,
        "done",
        video="10",
        pass_="first",
        note="autograd clicked",
        link="https://github.com/a/micrograd",
    )
    assert not logged.ephemeral
    assert (
        "first pass" in text(logged)
        and "Building micrograd" in text(logged)
        and "1/38 passes" in text(logged)
    )
    twice = await server.slash(server.alice, "done", video="micrograd", pass_="first")
    assert twice.ephemeral and "already logged" in twice.content
    before_first = await server.slash(
        server.alice, "done", video="micrograd", pass_="second", date="yesterday"
    )
    assert before_first.ephemeral and "second pass comes after it" in before_first.content
    second = await server.slash(
        server.alice, "done", video="micrograd", pass_="second", private=True
    )
    assert second.ephemeral and "second pass" in text(second)
    stored = await server.store.passes_of(server.guild.id, server.alice.id)
    assert [(p.pass_no, p.study_date) for p in stored] == [(1, NOW.date()), (2, NOW.date())]

    progress = await server.slash(server.alice, "progress")
    body = text(progress)
    assert (
        "2/38 passes" in body
        and "autograd clicked" in body
        and "https://github.com/a/micrograd" in body
    )
    assert progress.ephemeral  # private unless shared
    assert "1-day streak" in body and "ahead of plan" in body


async def test_milestone_is_celebrated(server: Server) -> None:
    await server.slash(server.alice, "join")
    for video in ("intro-llms", "deep-dive-llms"):
        await server.slash(server.alice, "done", video=video, pass_="first")
        last = await server.slash(server.alice, "done", video=video, pass_="second")
    assert "Phase complete" in text(last)


async def test_undo_and_the_history_behind_the_totals(server: Server) -> None:
    await server.slash(server.alice, "join")
    nothing = await server.slash(server.alice, "undo", video="gpt", pass_="first")
    assert nothing.ephemeral and "no first pass" in nothing.content
    await server.slash(server.alice, "done", video="gpt", pass_="first")
    await server.slash(server.alice, "done", video="gpt", pass_="second")
    blocked = await server.slash(server.alice, "undo", video="gpt", pass_="first")
    assert blocked.ephemeral and "second pass" in blocked.content
    undone = await server.slash(server.alice, "undo", video="gpt", pass_="second")
    assert undone.ephemeral and "Removed your second pass" in undone.content

    history = await server.store.history_of(server.guild.id, server.alice.id)
    assert [(h.action, h.pass_no) for h in history] == [("log", 1), ("log", 2), ("undo", 2)]
    progress = text(await server.slash(server.alice, "progress"))
    hours_done = credit(server.bot.curriculum, replay(history)) / 60
    assert f"1/38 passes, {hours_done:.1f} h" in progress


async def test_progress_of_another_member(server: Server) -> None:
    missing = await server.slash(server.alice, "progress", member=server.bob)
    assert missing.ephemeral and f"<@{server.bob.id}> has not joined" in missing.content
    await server.slash(server.bob, "join")
    shown = await server.slash(server.alice, "progress", member=server.bob)
    assert f"<@{server.bob.id}>" in text(shown)


async def test_leave_hides_from_boards_and_join_resumes(server: Server) -> None:
    await server.slash(server.alice, "join")
    await server.slash(server.alice, "done", video="gpt", pass_="first")
    left = await server.slash(server.alice, "leave")
    assert left.ephemeral and "kept" in left.content
    board = await server.slash(server.bob, "leaderboard", period="all time")
    assert f"<@{server.alice.id}>" not in text(board)
    gone = await server.slash(server.alice, "done", video="gpt", pass_="second")
    assert gone.ephemeral and "/join" in gone.content
    back = await server.slash(server.alice, "join")
    assert "Welcome back" in text(back)
    assert "1/38" in text(await server.slash(server.alice, "progress"))


async def test_leaderboard_pages_with_buttons(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The module the bot loaded as an extension (discord.py loads a fresh copy of it).
    monkeypatch.setattr(sys.modules["cogs.group"], "PAGER_TIMEOUT", 0.5)
    study = server.bot.learners
    # 23 members with a growing amount of study; bob ends up last, off the first page.
    for n in range(22):
        user = 900_000 + n
        await study.join(server.guild.id, user, NOW)
        for video in ("neural-network", "gradient-descent", "backprop-intuition")[: 1 + n % 3]:
            await study.log(server.guild.id, user, video, Pass.FIRST, NOW)
    await server.slash(server.bob, "join")
    await server.slash(server.bob, "done", video="llms-briefly", pass_="first")
    board = await server.slash(server.bob, "leaderboard", period="all time")
    assert not board.ephemeral
    assert "Page 1 of 3" in text(board)
    assert f"**23. <@{server.bob.id}> - 8 min (1 pass)** ← you" in text(board)
    assert [b["label"] for b in board.buttons] == ["Previous", "Next"] and board.buttons[0].get(
        "disabled"
    )
    page2 = await server.discord.click(server.bob, board, label="Next")
    assert "Page 2 of 3" in text(page2) and "\n11. <@" in text(page2)
    stranger = await server.discord.click(server.alice, board, label="Next")
    assert stranger.ephemeral and "run `/leaderboard` yourself" in stranger.content
    week = await server.slash(server.bob, "leaderboard")
    assert "this week" in text(week)
    # After the timeout the buttons are shown disabled rather than failing when clicked.
    await server.discord.wait_until(
        lambda: all(b.get("disabled") for b in board.buttons), within=3, what="buttons disabled"
    )


async def test_pager_buttons_from_before_a_restart_answer_and_turn_off(tmp_path: Path) -> None:
    async with LocalDiscord() as local, await Store.open(tmp_path / "bot.sqlite3") as store:
        guild = local.add_guild("Study Hall")
        study = guild.add_text_channel("study")
        bob = guild.add_member("bob")
        clock = SteppedClock(NOW)
        first = make_bot(store, clock)
        async with local.running(first):
            # 26 members: a leaderboard of three pages, a cohort map of two.
            for n in range(26):
                await first.learners.join(guild.id, 900_000 + n, NOW, name=f"member{n}")
                await first.learners.log(guild.id, 900_000 + n, "neural-network", Pass.FIRST, NOW)
            board = await local.slash(bob, "leaderboard", channel=study, period="all time")
            cohort = await local.slash(bob, "cohort", channel=study)
        # The bot restarted within the buttons' five minutes: they still look live, but the
        # pages they turned were in the old process.
        assert "Page 1 of 3" in text(board)
        for reply in (board, cohort):
            assert [b["label"] for b in reply.buttons] == ["Previous", "Next"]
            assert not reply.buttons[1].get("disabled")
        async with local.running(make_bot(store, clock)):
            for reply, command in ((board, "leaderboard"), (cohort, "cohort")):
                note = await local.click(bob, reply, label="Next")
                assert note.ephemeral and f"expired; run `/{command}` again" in note.content
                await local.wait_until(
                    lambda shown=reply: all(b.get("disabled") for b in shown.buttons),
                    what=f"/{command}'s buttons disabled",
                )
        assert "Page 1 of 3" in text(board)  # the board stays as it was shown


async def test_cohort_and_roadmap(server: Server) -> None:
    await server.slash(server.alice, "join")
    await server.slash(server.bob, "join")
    await server.slash(server.alice, "done", video="neural-network", pass_="first")
    cohort = await server.slash(server.bob, "cohort")
    body = text(cohort)
    assert "2 active members" in body
    # Each member once, at the pass they are on.
    assert f"on the first pass: <@{server.bob.id}>" in body
    assert f"on the second pass: <@{server.alice.id}>" in body
    assert body.count(f"<@{server.alice.id}>") == 2  # on the map, and in "moved this week"
    assert f"Moved this week: <@{server.alice.id}>" in body
    # Who went quiet is counted in public, never named.
    server.clock.advance(days=15)
    later = text(await server.slash(server.alice, "cohort"))
    assert "Quiet for 14 days or more: 2 members" in later
    quiet_line = next(line for line in later.splitlines() if line.startswith("Quiet for"))
    assert "<@" not in quiet_line
    roadmap = await server.slash(server.alice, "roadmap")
    assert roadmap.ephemeral and len(roadmap.embeds) == 3
    assert "✅⬜ 1. [But what is a neural network?]" in text(roadmap)


async def test_help_anywhere_and_commands_only_in_servers(server: Server) -> None:
    dm_help = await server.discord.slash(server.alice, "help", dm=True)
    assert "two passes" in text(dm_help).lower()
    # Discord itself offers the other commands only in servers (guild_only).
    for command in ("today", "done", "join", "leaderboard", "setup", "checkin", "export", "forget"):
        with pytest.raises(EmulatorError, match="not available in DMs"):
            await server.discord.slash(server.alice, command, dm=True)


# --- admins --------------------------------------------------------------------------------------


async def test_setup_is_for_admins(server: Server) -> None:
    with pytest.raises(EmulatorError):  # hidden from members without Manage Server
        await server.slash(server.alice, "setup show")


async def test_setup_channel_show_and_posts(server: Server) -> None:
    saved = await server.slash(
        server.admin,
        "setup channel",
        channel_=server.study,
        timezone="Europe/Berlin",
        checkin_day="friday",
        checkin_time="18:30",
        daily_time="08:00",
    )
    assert saved.ephemeral
    body = text(saved)
    assert f"<#{server.study.id}>" in body and "Europe/Berlin" in body and "Friday at 18:30" in body
    settings = await server.store.guild_settings(server.guild.id)
    assert settings is not None and settings.study_channel_id == server.study.id
    off = await server.slash(server.admin, "setup posts", daily="off")
    assert "Daily video: off" in text(off)
    shown = await server.slash(server.admin, "setup show")
    assert "Daily video: off" in text(shown) and "Weekly check-in: on" in text(shown)
    nothing = await server.slash(server.admin, "setup posts")
    assert nothing.ephemeral and "Say which post" in nothing.content


async def test_setup_refuses_a_channel_the_bot_cannot_post_in(server: Server) -> None:
    closed = server.guild.add_text_channel(
        "closed", bot_denied=Permission.SEND_MESSAGES | Permission.EMBED_LINKS
    )
    reply = await server.slash(server.admin, "setup channel", channel_=closed)
    assert reply.ephemeral and "Send Messages" in reply.content and "Embed Links" in reply.content
    assert await server.store.guild_settings(server.guild.id) is None
    bad_time = await server.slash(
        server.admin, "setup channel", channel_=server.study, checkin_time="7pm"
    )
    assert bad_time.ephemeral and "HH:MM" in bad_time.content
    assert await server.store.guild_settings(server.guild.id) is None
    # Without thread permissions the channel is accepted with a warning: check-ins go in the channel.
    threadless = server.guild.add_text_channel(
        "no-threads", bot_denied=Permission.CREATE_PUBLIC_THREADS
    )
    saved = await server.slash(server.admin, "setup channel", channel_=threadless)
    assert "not in a thread" in text(saved) and "Create Public Threads" in text(saved)
    settings = await server.store.guild_settings(server.guild.id)
    assert settings is not None and settings.study_channel_id == threadless.id


async def test_setup_names_attach_files_the_check_in_chart_needs(server: Server) -> None:
    no_files = server.guild.add_text_channel("no-files", bot_denied=Permission.ATTACH_FILES)
    refused = await server.slash(server.admin, "setup channel", channel_=no_files)
    assert refused.ephemeral and "missing Attach Files" in refused.content
    assert await server.store.guild_settings(server.guild.id) is None
    await server.slash(server.admin, "setup channel", channel_=server.study)
    # Taken away later: /setup show says what to grant.
    server.study.set_permissions(server.guild.me, deny=Permission.ATTACH_FILES)
    shown = await server.slash(server.admin, "setup show")
    assert "Needs attention" in text(shown) and "missing Attach Files" in text(shown)


async def test_an_admin_corrects_a_members_log_and_the_history_says_who(server: Server) -> None:
    await server.slash(server.alice, "join")
    refused = await server.slash(
        server.bob, "done", video="gpt", pass_="first", member=server.alice
    )
    assert refused.ephemeral and "Manage Server" in refused.content
    stranger = await server.slash(
        server.admin, "done", video="gpt", pass_="first", member=server.bob
    )
    assert f"<@{server.bob.id}> has not joined" in stranger.content
    logged = await server.slash(
        server.admin, "done", video="gpt", pass_="first", member=server.alice
    )
    # A correction is private to the admin, and not announced as if Alice had studied.
    assert logged.ephemeral and "as a correction" in logged.content
    assert f"<@{server.alice.id}>'s first pass" in logged.content
    assert server.discord.channel_messages(server.study) == []
    undone = await server.slash(
        server.admin, "undo", video="gpt", pass_="first", member=server.alice
    )
    assert undone.ephemeral and f"<@{server.alice.id}>'s first pass" in undone.content
    assert "naming you" in undone.content
    history = await server.store.history_of(server.guild.id, server.alice.id)
    assert [(h.action, h.actor_id) for h in history] == [
        ("log", server.admin.id),
        ("undo", server.admin.id),
    ]


# --- operations ----------------------------------------------------------------------------------


async def test_the_token_never_reaches_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with LocalDiscord() as local, await Store.open(tmp_path / "bot.sqlite3") as store:
        guild = local.add_guild("Study Hall")
        study = guild.add_text_channel("study")
        alice = guild.add_member("alice")
        async with local.running(make_bot(store, SteppedClock(NOW))):
            await local.slash(alice, "join", channel=study)
            await local.slash(alice, "done", channel=study, video="gpt", pass_="first")
        assert "IDENTIFY" in caplog.text  # the gateway handshake was logged at DEBUG...
        assert local.token not in caplog.text  # ...but never the token it carried
        assert local.token.split(".")[-1] not in caplog.text


async def test_commands_json_is_what_sync_sends(server: Server) -> None:
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "commands", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    printed = {c["name"]: c for c in json.loads(result.stdout)}
    synced = {c["name"]: c for c in server.discord.synced_commands}
    assert printed.keys() == synced.keys()
    for name, command in printed.items():
        for key, value in command.items():
            if key == "default_member_permissions" and value is not None:
                assert int(synced[name][key]) == value  # Discord answers with a string
            elif value is not None:  # the emulator fills Discord's defaults for missing keys
                assert synced[name][key] == value, (name, key)


async def test_checkin_now_posts_once_and_setup_show_reports_a_lost_channel(server: Server) -> None:
    await server.slash(server.alice, "join")
    await server.slash(server.alice, "done", video="neural-network", pass_="first")
    await server.slash(server.admin, "setup channel", channel_=server.study)
    first = await server.slash(server.admin, "checkin now")
    assert first.ephemeral and "Posted the check-in for 2 March" in text(first)
    again = await server.slash(server.admin, "checkin now")
    assert "already posted" in text(again)
    heads = [
        m
        for m in server.discord.channel_messages(server.study)
        if "check-in" in str(m.embeds).lower()
    ]
    assert len(heads) == 1
    general = server.guild.add_text_channel("general")
    server.study.delete()
    await server.discord.wait_until(lambda: bool(server.discord.dm_messages(server.admin)))
    assert "was deleted" in server.discord.dm_messages(server.admin)[0].content
    shown = await server.discord.slash(server.admin, "setup show", channel=general)
    assert "Needs attention" in text(shown) and "was deleted" in text(shown)
    server.clock.advance(days=7)
    refused = await server.discord.slash(server.admin, "checkin now", channel=general)
    assert "Choose the study channel first" in text(refused)
    settings = await server.store.guild_settings(server.guild.id)
    assert settings is not None and settings.checkin_enabled and settings.study_channel_id is None


async def test_admin_commands_check_permissions_when_they_run(server: Server) -> None:
    # A server may show /setup and /checkin to anyone (Integrations settings); the bot still
    # refuses members without Manage Server, and writes nothing.
    server.guild.allow_command("setup", server.alice)
    server.guild.allow_command("checkin", server.alice)
    refused = await server.slash(server.alice, "setup posts", checkin="off")
    assert refused.ephemeral and "Manage Server" in refused.content
    assert await server.store.guild_settings(server.guild.id) is None
    now = await server.slash(server.alice, "checkin now")
    assert now.ephemeral and "Manage Server" in now.content


async def test_done_shows_a_date_only_when_back_dated_in_the_members_zone(server: Server) -> None:
    server.clock.now = NOW.replace(hour=23, minute=30)  # already tomorrow in Tokyo
    await server.slash(server.alice, "join", timezone="Asia/Tokyo")
    back = await server.slash(server.alice, "done", video="gpt", pass_="first", date="yesterday")
    assert "on Mon 2 Mar." in text(back)  # yesterday in Tokyo, where it is already Tuesday
    today = await server.slash(server.alice, "done", video="gpt", pass_="second")
    assert " on " not in text(today).split("\n")[0]
