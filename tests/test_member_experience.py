"""The member experience, read as members and admins read it, through the local Discord: kind
in public, exact about time, short to read, and errors that say what is wrong."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from pydantic import ValidationError

from bot.posts.schedule import PostKind
from bot.settings import Settings
from curriculum import Pass
from localdiscord import EmulatorError, LocalDiscord, Permission
from tests.conftest import NOW, Server, SteppedClock, make_bot
from tests.tables import Store


def text(reply: object) -> str:
    """Everything a user reads in a reply or message: content, embed titles, text, fields."""
    parts = [getattr(reply, "content", "") or ""]
    for embed in getattr(reply, "embeds", []):
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        parts.append(embed.get("footer", {}).get("text", ""))
    return "\n".join(parts)


async def many_members(server: Server, count: int) -> list[int]:
    """`count` members of the server who joined and each logged a few passes this week."""
    ids = []
    study = server.bot.learners
    for n in range(count):
        member = server.guild.add_member(f"member{n}")
        ids.append(member.id)
        await study.join(server.guild.id, member.id, NOW - timedelta(days=14))
        for video in ("neural-network", "gradient-descent", "backprop-intuition")[: 1 + n % 3]:
            await study.log(server.guild.id, member.id, video, Pass.FIRST, NOW)
            await study.log(server.guild.id, member.id, video, Pass.SECOND, NOW)
    return ids


# --- public replies encourage; standing is personal ------------------------------------------------


async def test_public_replies_say_what_was_done_and_standing_stays_private(server: Server) -> None:
    server.clock.now = NOW - timedelta(days=20)
    await server.slash(server.alice, "join")
    server.clock.now = NOW
    done = await server.slash(server.alice, "done", video="neural-network", pass_="first")
    assert not done.ephemeral
    body = text(done)
    assert "behind" not in body and "ahead" not in body and "plan" not in body
    assert "first pass" in body and "this week" in body and "1-day streak" in body

    today = await server.slash(server.alice, "today")
    assert today.ephemeral and "days behind plan" in text(today)
    own = await server.slash(server.alice, "progress")
    assert own.ephemeral and "days behind plan" in text(own)
    shared = await server.slash(server.alice, "progress", share=True)
    assert not shared.ephemeral and "behind" not in text(shared)
    assert "1-day streak" in text(shared)
    # Someone else's progress never shows their standing, even privately.
    other = await server.slash(server.bob, "progress", member=server.alice)
    assert other.ephemeral and "behind" not in text(other)


async def test_changing_pace_says_the_plan_starts_again(server: Server) -> None:
    first = await server.slash(server.alice, "join")
    assert "starts again" not in text(first)
    changed = await server.slash(server.alice, "join", hours_per_week=8)
    assert "(was 5 h)" in text(changed) and "plan starts again from today" in text(changed)
    same = await server.slash(server.alice, "join", timezone="berlin")
    assert "starts again" not in text(same) and "Europe/Berlin" in text(same)


async def test_joining_again_at_the_same_pace_does_not_say_the_plan_changed(
    server: Server,
) -> None:
    await server.slash(server.alice, "join")
    for options in ({}, {"reminders": True}, {"timezone": "berlin"}):
        again = text(await server.slash(server.alice, "join", **options))
        assert "Settings saved" in again and "your plan goes on as it was" in again, options
        assert "Plan updated" not in again and "plan is updated" not in again, options


async def test_join_says_whether_the_check_in_will_mention_you(server: Server) -> None:
    assert "Check-in reminders: off." in text(await server.slash(server.alice, "join"))
    on = text(await server.slash(server.alice, "join", reminders=True))
    assert "Check-in reminders: on." in on
    await server.slash(server.alice, "leave")
    # Coming back keeps the choice made before leaving, and says so.
    back = text(await server.slash(server.alice, "join"))
    assert "Welcome back" in back and "Check-in reminders: on." in back
    off = text(await server.slash(server.alice, "join", reminders=False))
    assert "Check-in reminders: off." in off


async def test_help_writes_down_what_is_public_and_what_is_private(server: Server) -> None:
    shown = text(await server.slash(server.alice, "help"))
    assert "`/done` is shared with the channel" in shown and "share:true" in shown


# --- streaks ---------------------------------------------------------------------------------------


async def test_a_missed_day_spends_a_freeze_and_a_broken_streak_says_what_to_do(
    server: Server,
) -> None:
    server.clock.now = NOW - timedelta(days=9)  # Saturday 21 Feb
    await server.slash(server.alice, "join")
    videos = [
        "neural-network",
        "gradient-descent",
        "backprop-intuition",
        "backprop-calculus",
        "llms-briefly",
        "transformers",
        "attention",
        "micrograd",
    ]
    for day, video in enumerate(videos[:7]):
        server.clock.now = NOW - timedelta(days=9 - day)
        await server.slash(server.alice, "done", video=video, pass_="first")
    # Day 8 missed, day 9 studied: the freeze earned by 7 days in a row keeps the streak.
    server.clock.now = NOW - timedelta(days=1)
    done = await server.slash(server.alice, "done", video=videos[7], pass_="first")
    assert "8-day streak" in text(done)
    # Three days without a pass and no freeze left: the streak ends, kindly.
    server.clock.now = NOW + timedelta(days=3)
    today = await server.slash(server.alice, "today")
    body = text(today)
    assert "Last studied Sun 1 Mar; log a pass today to start a new streak" in body
    assert "0" not in body.split("streak")[0].split("\n")[-1]
    progress = await server.slash(server.alice, "progress")
    assert "(best: 8 days)" in text(progress)


# --- corrections ------------------------------------------------------------------------------------


async def test_a_correction_is_private_and_the_history_names_the_admin(server: Server) -> None:
    await server.slash(server.alice, "join")
    fixed = await server.slash(
        server.admin, "done", video="gpt", pass_="first", member=server.alice
    )
    assert fixed.ephemeral and "as a correction" in fixed.content
    assert server.discord.channel_messages(server.study) == []
    history = await server.store.history_of(server.guild.id, server.alice.id)
    assert [(h.action, h.actor_id) for h in history] == [("log", server.admin.id)]


async def test_an_admin_refused_a_correction_is_told_whose_pass_it_is(server: Server) -> None:
    await server.slash(server.alice, "join")
    await server.slash(server.admin, "done", video="gpt", pass_="first", member=server.alice)
    refused = await server.slash(
        server.admin, "done", video="gpt", pass_="second", member=server.alice, date="yesterday"
    )
    assert refused.ephemeral and refused.content.startswith(
        f"<@{server.alice.id}>'s first pass of **Let's build GPT"
    )
    assert "is dated Mon 2 Mar" in refused.content and "Nothing was logged" in refused.content
    assert len(await server.store.passes_of(server.guild.id, server.alice.id)) == 1


# --- timezones ---------------------------------------------------------------------------------------


async def test_timezones_as_people_type_them(server: Server) -> None:
    for typed, zone in (("europe/berlin", "Europe/Berlin"), ("New York", "America/New_York")):
        reply = await server.slash(server.alice, "join", timezone=typed)
        assert zone in text(reply)
        member = await server.store.member(server.guild.id, server.alice.id)
        assert member is not None and member.timezone == zone
    choices = await server.discord.autocomplete(
        server.bob, "join", focused="timezone", value="São Paulo", channel=server.study
    )
    assert choices[0]["value"] == "America/Sao_Paulo"
    for typed, said in (
        ("America", "America/New_York"),  # a folder: refused with examples, no crash
        ("EST", "America/New_York"),  # a fixed offset: refused, naming the zone meant
        ("Etc/GMT+2", "UTC"),
        ("localtime", "Berlin"),
    ):
        refused = await server.slash(server.bob, "join", timezone=typed)
        assert refused.ephemeral and said in refused.content, (typed, refused.content)
        assert "Something went wrong" not in refused.content
    assert await server.store.member(server.guild.id, server.bob.id) is None
    saved = await server.slash(
        server.admin, "setup channel", channel_=server.study, timezone="tokyo"
    )
    assert "Saved" in text(saved) and "Asia/Tokyo" in text(saved)


def test_the_default_timezone_setting_uses_the_same_rules() -> None:
    assert Settings(_env_file=None, default_timezone="berlin").default_timezone == "Europe/Berlin"  # type: ignore[call-arg]
    for bad in ("America", "localtime", "EST"):
        with pytest.raises(ValidationError, match="default_timezone"):
            Settings(_env_file=None, default_timezone=bad)  # type: ignore[call-arg]


async def test_a_bad_stored_zone_does_not_stop_start_up_for_other_servers(
    database_url: str,
) -> None:
    async with LocalDiscord() as local, await Store.open(database_url) as store:
        broken, fine = local.add_guild("Old Host"), local.add_guild("Study Hall")
        alice = fine.add_member("alice")
        channels = {g.id: g.add_text_channel("study") for g in (broken, fine)}
        clock = SteppedClock(NOW)
        async with local.running(make_bot(store, clock)) as bot:
            for guild_id, channel in channels.items():
                await bot.servers.ensure(guild_id, NOW)
                await store.db.rows(
                    "UPDATE guild_settings SET study_channel_id = ? WHERE guild_id = ?",
                    (channel.id, guild_id),
                )
        for bad in ("localtime", "America", "posix/Europe/Berlin"):
            await store.db.rows(
                "UPDATE guild_settings SET timezone = ? WHERE guild_id = ?", (bad, broken.id)
            )
            async with local.running(make_bot(store, clock)) as bot:
                assert bot.posts.next_fire(fine.id, PostKind.CHECKIN) is not None
                # The broken server keeps working too, on UTC, until an admin sets its zone.
                assert (await bot.servers.settings(broken.id, NOW)).timezone == "UTC"
        async with local.running(make_bot(store, clock)) as bot:
            reply = await local.slash(alice, "join", channel=channels[fine.id])
            assert "Welcome" in text(reply)


# --- exact about time ----------------------------------------------------------------------------------


async def test_after_moving_west_a_second_pass_may_follow_and_the_streak_holds(
    server: Server,
) -> None:
    server.clock.now = NOW.replace(hour=20)  # already Tuesday 3 March in Tokyo
    await server.slash(server.alice, "join", timezone="Asia/Tokyo")
    await server.slash(server.alice, "done", video="gpt", pass_="first")
    await server.slash(server.alice, "join", timezone="UTC")  # still Monday 2 March here
    second = await server.slash(server.alice, "done", video="gpt", pass_="second")
    assert not second.ephemeral, second.content
    body = text(second)
    assert "1-day streak" in body and " on " not in body.split("\n")[1]
    refused = await server.slash(
        server.alice, "done", video="micrograd", pass_="second", date="yesterday"
    )
    assert "Log the first pass" in refused.content


async def test_a_second_pass_dated_before_a_first_dated_tomorrow_is_refused_every_time(
    server: Server,
) -> None:
    server.clock.now = NOW.replace(hour=20)  # already Tuesday 3 March in Tokyo
    await server.slash(server.alice, "join", timezone="Asia/Tokyo")
    await server.slash(server.alice, "done", video="gpt", pass_="first")  # dated Tuesday
    await server.slash(server.alice, "join", timezone="UTC")  # still Monday 2 March here
    # Sunday is before the first pass (Tuesday, which counts as today): asking again changes
    # nothing.
    for _ in range(2):
        refused = await server.slash(
            server.alice, "done", video="gpt", pass_="second", date="yesterday"
        )
        assert refused.ephemeral and "is dated Tue 3 Mar" in refused.content
        assert "Nothing was logged" in refused.content
    passes = await server.store.passes_of(server.guild.id, server.alice.id)
    assert [(p.video_id, p.pass_no) for p in passes] == [("gpt", 1)]


async def test_a_pass_logged_today_is_on_the_current_board_whatever_the_members_zone(
    server: Server,
) -> None:
    await server.slash(server.alice, "join", timezone="Asia/Tokyo")
    # Sunday 16:00 on the server's calendar (UTC) is already Monday 01:00 in Tokyo.
    server.clock.now = NOW + timedelta(days=6, hours=4)
    await server.slash(server.alice, "done", video="gpt", pass_="first")
    board = await server.slash(server.bob, "leaderboard")
    assert f"<@{server.alice.id}>" in text(board) and "2-8 March" in text(board)


async def test_undo_after_leave_behaves_like_done_after_leave(server: Server) -> None:
    await server.slash(server.alice, "join")
    await server.slash(server.alice, "done", video="gpt", pass_="first")
    await server.slash(server.alice, "leave")
    done = await server.slash(server.alice, "done", video="micrograd", pass_="first")
    undo = await server.slash(server.alice, "undo", video="gpt", pass_="first")
    assert done.ephemeral and undo.ephemeral and done.content == undo.content
    again = await server.slash(server.alice, "leave")
    assert "already left" in again.content
    assert len(await server.store.passes_of(server.guild.id, server.alice.id)) == 1


async def test_a_member_who_left_is_told_their_passes_wait_and_not_that_they_never_joined(
    server: Server,
) -> None:
    never = await server.slash(server.bob, "done", video="gpt", pass_="first")
    assert never.content == "You have not joined this server's roadmap yet: use `/join` to start."
    await server.slash(server.alice, "join")
    await server.slash(server.alice, "done", video="gpt", pass_="first")
    await server.slash(server.alice, "leave")
    for command, options in (
        ("done", {"video": "micrograd", "pass_": "first"}),
        ("undo", {"video": "gpt", "pass_": "first"}),
        ("today", {}),
    ):
        reply = await server.slash(server.alice, command, **options)
        assert reply.ephemeral and reply.content == (
            "You left this server's roadmap; your passes are kept. "
            "Use `/join` to pick up where you were."
        ), command
    left = f"<@{server.alice.id}> has left this server's roadmap."
    for command in ("done", "undo"):
        fixed = await server.slash(
            server.admin, command, video="gpt", pass_="second", member=server.alice
        )
        assert fixed.ephemeral and fixed.content == left, command
    assert len(await server.store.passes_of(server.guild.id, server.alice.id)) == 1


async def _hold_a_first_pass_off_the_roadmap(server: Server, video_id: str) -> None:
    """Alice holds a first pass of `video_id`, a video no longer on the roadmap (worth nothing)."""
    await server.store.db.rows(
        "INSERT INTO passes (guild_id, user_id, video_id, pass, logged_at, study_date, minutes,"
        " week) VALUES (?, ?, ?, 1, '2026-03-02T10:00:00+00:00', '2026-03-02', 0, '2026-03-02')",
        (server.guild.id, server.alice.id, video_id),
    )


async def test_a_pass_on_a_video_that_left_the_roadmap_can_be_undone(server: Server) -> None:
    await server.slash(server.alice, "join")
    await _hold_a_first_pass_off_the_roadmap(server, "old-talk")
    progress = await server.slash(server.alice, "progress")
    assert "0/38 passes" in text(progress)  # worth nothing, as on every board
    undone = await server.slash(server.alice, "undo", video="old-talk", pass_="first")
    assert "Removed your first pass of **old-talk**" in undone.content


async def test_a_video_that_left_the_roadmap_is_undone_by_its_id_beside_a_longer_one(
    server: Server,
) -> None:
    # `deep-dive` is no longer on the roadmap, `deep-dive-llms` is: the id typed exactly is the
    # pass the member holds, not the only video whose id starts with it.
    await server.slash(server.alice, "join")
    await _hold_a_first_pass_off_the_roadmap(server, "deep-dive")
    undone = await server.slash(server.alice, "undo", video="deep-dive", pass_="first")
    assert undone.content.startswith("Removed your first pass of **deep-dive**"), undone.content
    assert await server.store.passes_of(server.guild.id, server.alice.id) == []
    # Words of a title still find the video on the roadmap.
    nothing = await server.slash(server.alice, "undo", video="deep dive", pass_="first")
    assert "no first pass of **Deep Dive into LLMs" in nothing.content


async def test_two_last_passes_at_once_celebrate_the_roadmap_exactly_once(server: Server) -> None:
    await server.slash(server.alice, "join")
    study = server.bot.learners
    last_two = [("intro-llms", Pass.SECOND), ("deep-dive-llms", Pass.SECOND)]
    for step in study_steps(server):
        if step not in last_two:
            await study.log(server.guild.id, server.alice.id, step[0], step[1], NOW)
    replies = await asyncio.gather(
        *(server.slash(server.alice, "done", video=video, pass_="second") for video, _ in last_two)
    )
    assert sum("Finished the whole roadmap" in text(r) for r in replies) == 1


def study_steps(server: Server) -> list[tuple[str, Pass]]:
    return [(video.id, which) for _, video in server.bot.curriculum.videos() for which in Pass]


# --- user text -------------------------------------------------------------------------------------------


async def test_members_text_is_shown_literally_and_links_must_be_real(server: Server) -> None:
    await server.slash(server.alice, "join")
    unknown = await server.slash(server.alice, "done", video="`gpt` x", pass_="first")
    assert "`ˋgptˋ x`" in unknown.content
    spaced = await server.slash(
        server.alice, "done", video="gpt", pass_="first", link="https://a b"
    )
    assert spaced.ephemeral and "spaces" in spaced.content
    done = await server.slash(
        server.alice,
        "done",
        video="gpt",
        pass_="first",
        note="[free nitro](https://evil.example) @everyone",
    )
    body = text(done)
    assert r"\[free nitro\]\(https://evil.example\)" in body
    assert "@everyone" not in body and "@\u200beveryone" in body


# --- errors the tree handles ----------------------------------------------------------------------------


async def test_a_member_who_left_the_server_is_named_as_the_problem(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    ghost = server.discord.add_user("ghost")  # not (any more) a member of the server
    caplog.set_level(logging.WARNING)
    reply = await server.slash(server.admin, "done", video="gpt", pass_="first", member=ghost)
    assert reply.ephemeral and "cannot find that member" in reply.content
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_answer_discord_closed_is_one_warning_and_still_reaches_the_member(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    await server.slash(server.alice, "join")
    caplog.set_level(logging.WARNING)
    server.discord.interaction_ack_seconds = 0  # as if the bot took more than 3 s
    with pytest.raises(EmulatorError):
        await server.slash(server.alice, "today")
    await server.discord.wait_until(
        lambda: server.discord.channel_messages(server.study), what="a note in the channel"
    )
    (note,) = server.discord.channel_messages(server.study)
    assert note.content.startswith(f"<@{server.alice.id}> Discord closed my answer to /today")
    server.discord.take_problems()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    warnings = [r for r in caplog.records if r.name == "bot.tree"]
    assert len(warnings) == 1 and warnings[0].exc_info is None


async def test_setup_names_only_the_permission_to_grant(server: Server) -> None:
    muted = server.guild.add_text_channel("muted", bot_denied=Permission.SEND_MESSAGES)
    reply = await server.slash(server.admin, "setup channel", channel_=muted)
    assert "missing Send Messages." in reply.content and "Embed Links" not in reply.content


# --- short and plain ---------------------------------------------------------------------------------------


async def test_thirty_members_fit_one_cohort_embed_and_one_check_in_list(server: Server) -> None:
    ids = await many_members(server, 30)
    cohort = await server.slash(server.alice, "cohort")
    board = cohort.embeds[0]
    shown = text(cohort)
    assert "30 active members" in shown
    for user in ids:  # everyone once on the map (and again at most in "moved this week")
        mapped = "\n".join(f["value"] for f in board.get("fields", []))
        assert mapped.count(f"<@{user}>") == 1
    await server.slash(server.admin, "setup channel", channel_=server.study)
    server.clock.advance(days=1)  # a check-in counts whole days, up to yesterday
    await server.slash(server.admin, "checkin now")
    head = next(m for m in server.discord.channel_messages(server.study) if "Check-in" in text(m))
    (thread,) = server.study.threads
    lists = [m for m in thread.visible_messages() if "Member by member" in str(m.embeds)]
    assert len(lists) == 1
    whole = text(head) + "".join(text(m) for m in thread.visible_messages())
    assert "behind" not in whole
    # Days, not an ISO week code: the first check-in runs from the cohort's first day.
    assert head.embeds[0]["title"] == "Check-in - 16 February - 2 March"


async def test_one_active_member_and_no_jargon(server: Server) -> None:
    await server.slash(server.alice, "join")
    assert "1 active member." in text(await server.slash(server.alice, "cohort"))
    roadmap = text(await server.slash(server.alice, "roadmap"))
    assert "5-5 h" not in roadmap and "the guide:" in roadmap
    await server.slash(server.alice, "done", video="gpt", pass_="first")
    board = text(await server.slash(server.alice, "leaderboard"))
    assert "2.5x" not in board and "← you" in board and "Page" not in board
    saved = await server.slash(server.admin, "setup posts", daily="off")
    assert "Saved" in text(saved)


# --- the mission's own method -------------------------------------------------------------------------------


async def test_reported_minutes_calibrate_progress_and_the_roadmap(server: Server) -> None:
    members = [server.alice, server.bob, server.admin]
    for member in members:
        await server.slash(member, "join")
        await server.slash(member, "done", video="neural-network", pass_="first")
        # The video is 19 minutes; these second passes took 57 minutes each: 3x.
        await server.slash(member, "done", video="neural-network", pass_="second", minutes=57)
    own = text(await server.slash(server.alice, "progress"))
    assert "Your second passes took 3.0x their videos" in own
    roadmap = text(await server.slash(server.alice, "roadmap"))
    assert "second pass: 3.0x here (3 reports)" in roadmap


async def test_the_groups_measured_second_passes_move_a_members_projected_finish(
    server: Server,
) -> None:
    dora = server.guild.add_member("dora")
    # 2 h a week is 120/7 min a day; the roadmap is 4644.5 min at 2.5x: 270.9 days, so the
    # 271st day counting Mon 2 Mar.
    joined = text(await server.slash(dora, "join", hours_per_week=2))
    assert "you finish on **Fri 27 Nov 2026**." in joined and "timed by the group" not in joined
    members = [server.alice, server.bob, server.admin]
    for member in members:
        await server.slash(member, "join")
        await server.slash(member, "done", video="neural-network", pass_="first")
        # The video is 19 minutes; these second passes took 57 minutes each: 3x.
        await server.slash(member, "done", video="neural-network", pass_="second", minutes=57)
        if member is server.bob:
            # Two reports are not yet enough to replace the plan's 2.5x.
            assert "timed by the group" not in text(await server.slash(dora, "progress"))
    # Dora's second pass of it now counts 57 min, not 47.5: 4654 min, 271.5 days.
    why = "(second passes timed by the group where 3 or more reported them)"
    own = text(await server.slash(dora, "progress"))
    assert f"at 2 h a week you finish Sat 28 Nov 2026 {why}." in own
    again = text(await server.slash(dora, "join"))
    assert f"you finish on **Sat 28 Nov 2026** {why}." in again
    # Points stay the time model's estimate: the reporters' second passes earn 2.5x.
    board = await server.store.passes_of(server.guild.id, server.alice.id)
    assert sorted(p.minutes for p in board) == [19.0, 47.5]


async def test_a_note_can_be_corrected_and_the_history_keeps_the_old_one(server: Server) -> None:
    await server.slash(server.alice, "join")
    await server.slash(server.alice, "done", video="gpt", pass_="first", note="typo")
    fixed = await server.slash(server.alice, "done", video="gpt", pass_="first", note="fixed")
    assert fixed.ephemeral and "Updated your first pass" in text(fixed) and "fixed" in text(fixed)
    (stored,) = await server.store.passes_of(server.guild.id, server.alice.id)
    assert stored.note == "fixed"
    edits = await server.bot.learners.repo.edits_of(server.guild.id, server.alice.id)
    assert edits == [("gpt", 1, server.alice.id, "fixed")]


async def test_a_check_in_says_who_moved_in_its_own_days(server: Server) -> None:
    # A Monday check-in covers the seven days before it: the cohort part of the post must name
    # the same members as its numbers, not "this week", which has only just begun.
    await server.slash(server.admin, "setup channel", channel_=server.study)
    await server.slash(server.alice, "join")
    await server.slash(server.alice, "done", video="neural-network", pass_="first")
    server.clock.advance(days=7)  # Monday 9 March, after the day's check-in time
    await server.slash(server.admin, "checkin now")
    (thread,) = server.study.threads
    posted = "".join(text(m) for m in thread.visible_messages())
    assert f"Moved in these days: <@{server.alice.id}>" in posted
    assert "Moved this week" not in posted


async def test_progress_shows_whole_notes_and_links_within_the_fields_limit(server: Server) -> None:
    # Three long notes with long links are more than a field holds: whole entries are shown,
    # never one cut inside its link.
    await server.slash(server.alice, "join")
    links = [f"https://colab.research.google.com/drive/{n}" + "x" * 200 for n in range(3)]
    for video, link in zip(("neural-network", "gradient-descent", "micrograd"), links, strict=True):
        await server.slash(
            server.alice, "done", video=video, pass_="first", note="n" * 190, link=link
        )
    reply = await server.slash(server.alice, "progress")
    (field,) = [f for f in reply.embeds[0]["fields"] if f["name"] == "Latest notes and links"]
    value = field["value"]
    assert len(value) <= 1024 and "…" not in value
    shown = [link for link in links if f"]({link})" in value]
    assert shown and value.count("](") == len(shown)  # every link shown is whole
    assert links[2] in shown  # the latest first


async def test_a_pass_logged_on_the_servers_monday_moves_a_member_west_of_it_this_week(
    server: Server,
) -> None:
    # 02:00 UTC on Monday is still Sunday evening in Los Angeles: the pass counts in the
    # server's new week on the weekly board, and /cohort says the same of who moved.
    server.clock.now = NOW - timedelta(hours=10)
    await server.slash(server.alice, "join", timezone="America/Los_Angeles")
    await server.slash(server.alice, "done", video="gpt", pass_="first")
    board = text(await server.slash(server.bob, "leaderboard", period="this week"))
    assert f"<@{server.alice.id}>" in board
    cohort = text(await server.slash(server.bob, "cohort"))
    assert f"Moved this week: <@{server.alice.id}>" in cohort


async def test_a_pace_of_one_hour_is_one_hour_a_week(server: Server) -> None:
    joined = text(await server.slash(server.alice, "join", hours_per_week=1))
    assert "Pace: **1 hour a week**" in joined
    again = text(await server.slash(server.alice, "join", hours_per_week=1.5))
    assert "Pace: **1.5 hours a week** (was 1 h)" in again
