"""The study use cases on a real SQLite store, with `now` handed in."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import errors as base_errors
from bot.group.board import BoardRow, Period
from bot.learners import errors
from bot.learners.plan import credit, next_step, steps
from bot.learners.progress import phase_progress, replay
from bot.learners.streaks import streak_of
from bot.server.rules import SetupChange
from bot.timekeeping import week_start
from curriculum import Pass, default_curriculum
from tests.conftest import NOW
from tests.tables import Store, Study

GUILD, ALICE, BOB, CAROL = 100, 1, 2, 3
ROADMAP = default_curriculum()


@pytest.fixture
def study(store: Store) -> Study:
    return Study(store, ROADMAP, "UTC")


async def test_join_defaults_then_updates_and_resumes(study: Study) -> None:
    first = await study.join(GUILD, ALICE, NOW)
    assert first.first_time and first.member.pace_hours == 5 and first.member.timezone == "UTC"
    assert first.finish is not None and first.finish > NOW.date()
    again = await study.join(GUILD, ALICE, NOW, pace_hours=10, timezone="Europe/Paris")
    assert not again.first_time and not again.resumed
    assert (
        again.before is not None and again.before.pace_hours == 5 and again.member.pace_hours == 10
    )
    assert again.finish is not None and again.finish < first.finish
    await study.leave(GUILD, ALICE)
    back = await study.join(GUILD, ALICE, NOW + timedelta(days=1))
    assert back.resumed and back.member.pace_hours == 10  # keeps the pace it had


async def test_bad_join_input_writes_nothing(study: Study, store: Store) -> None:
    with pytest.raises(base_errors.BadInput, match="timezone"):
        await study.join(GUILD, ALICE, NOW, timezone="Nowhere/Land")
    with pytest.raises(base_errors.BadInput, match="Pace"):
        await study.join(GUILD, ALICE, NOW, pace_hours=100)
    assert await store.member(GUILD, ALICE) is None
    assert await store.guild_settings(GUILD) is None


async def test_leave_needs_a_member(study: Study) -> None:
    with pytest.raises(errors.NotJoined):
        await study.leave(GUILD, ALICE)
    await study.join(GUILD, ALICE, NOW)
    await study.leave(GUILD, ALICE)
    with pytest.raises(errors.AlreadyLeft):  # leaving twice says so, not "not joined"
        await study.leave(GUILD, ALICE)


async def test_log_rules(study: Study, store: Store) -> None:
    with pytest.raises(errors.NotJoined):
        await study.log(GUILD, ALICE, "micrograd", Pass.FIRST, NOW)
    await study.join(GUILD, ALICE, NOW)
    with pytest.raises(errors.SecondBeforeFirst):
        await study.log(GUILD, ALICE, "micrograd", Pass.SECOND, NOW)
    with pytest.raises(errors.UnknownVideo, match="micrograd"):
        await study.log(GUILD, ALICE, "micrgrad", Pass.FIRST, NOW)
    with pytest.raises(base_errors.BadInput, match="future"):
        await study.log(GUILD, ALICE, "micrograd", Pass.FIRST, NOW, on="2030-01-01")
    with pytest.raises(base_errors.BadInput, match="link"):
        await study.log(GUILD, ALICE, "micrograd", Pass.FIRST, NOW, link="not-a-link")
    assert await store.passes_of(GUILD, ALICE) == []  # nothing written by any refusal

    done = await study.log(GUILD, ALICE, "10", Pass.FIRST, NOW, note="wow", link="https://x.org/nb")
    assert done.video.id == "micrograd" and done.logged.note == "wow"
    assert done.totals.passes_done == 1 and done.next is not None
    with pytest.raises(errors.AlreadyLogged, match="already logged"):
        await study.log(GUILD, ALICE, "micrograd", Pass.FIRST, NOW + timedelta(hours=1))
    # A second pass cannot be dated before its first (here: the first was today).
    with pytest.raises(errors.SecondDatedBeforeFirst, match="Mon 2 Mar"):
        await study.log(GUILD, ALICE, "micrograd", Pass.SECOND, NOW, on="yesterday")
    second = await study.log(GUILD, ALICE, "micrograd", Pass.SECOND, NOW)
    assert second.logged.study_date == NOW.date()
    assert second.totals.minutes_done == 145 * 3.5


async def test_inactive_member_cannot_log(study: Study) -> None:
    await study.join(GUILD, ALICE, NOW)
    await study.leave(GUILD, ALICE)
    with pytest.raises(errors.NotJoined):
        await study.log(GUILD, ALICE, "gpt", Pass.FIRST, NOW)


async def test_milestone_on_finishing_a_phase(study: Study) -> None:
    await study.join(GUILD, ALICE, NOW)
    await study.log(GUILD, ALICE, "intro-llms", Pass.FIRST, NOW)
    await study.log(GUILD, ALICE, "intro-llms", Pass.SECOND, NOW)
    await study.log(GUILD, ALICE, "deep-dive-llms", Pass.FIRST, NOW)
    last = await study.log(GUILD, ALICE, "deep-dive-llms", Pass.SECOND, NOW)
    assert last.milestone is not None and "Phase complete" in last.milestone


async def test_undo_rules_and_history_agrees_with_totals(study: Study, store: Store) -> None:
    await study.join(GUILD, ALICE, NOW)
    with pytest.raises(errors.NotLogged):
        await study.undo(GUILD, ALICE, "gpt", Pass.FIRST, NOW)
    for video in ("neural-network", "gpt", "tokenizer"):
        await study.log(GUILD, ALICE, video, Pass.FIRST, NOW)
    await study.log(GUILD, ALICE, "gpt", Pass.SECOND, NOW)
    with pytest.raises(errors.SecondStillLogged):
        await study.undo(GUILD, ALICE, "gpt", Pass.FIRST, NOW)
    await study.undo(GUILD, ALICE, "gpt", Pass.SECOND, NOW)
    await study.undo(GUILD, ALICE, "tokenizer", Pass.FIRST, NOW)
    await study.log(GUILD, ALICE, "gpt", Pass.SECOND, NOW + timedelta(days=1))

    history = await store.history_of(GUILD, ALICE)
    assert [h.action for h in history].count("undo") == 2
    held = replay(history)
    report = await study.progress_of(GUILD, ALICE, NOW)
    assert held == {(p.video_id, p.pass_no) for p in await store.passes_of(GUILD, ALICE)}
    assert report.progress.minutes_done == credit(ROADMAP, held)
    assert report.progress.passes_done == len(held) == 3
    board = await study.leaderboard(GUILD, Period.ALL_TIME, NOW)
    assert board.entries[0].hours * 60 == pytest.approx(credit(ROADMAP, held))


async def test_leaderboard_points_ties_and_week(study: Study) -> None:
    for user in (ALICE, BOB, CAROL):
        await study.join(GUILD, user, NOW - timedelta(days=10))
    # Last week: Carol does a lot.
    last_week = NOW - timedelta(days=3)  # NOW is a Monday
    await study.log(GUILD, CAROL, "micrograd", Pass.FIRST, last_week)
    await study.log(GUILD, CAROL, "micrograd", Pass.SECOND, last_week)
    # This week: Alice and Bob tie on points; Bob got there first.
    await study.log(GUILD, BOB, "gpt", Pass.FIRST, NOW)
    await study.log(GUILD, ALICE, "gpt", Pass.FIRST, NOW + timedelta(minutes=5))
    week = await study.leaderboard(GUILD, Period.WEEK, NOW + timedelta(hours=1))
    assert [(e.rank, e.user_id) for e in week.entries] == [(1, BOB), (2, ALICE)]
    assert week.since == date(2026, 3, 2)
    alltime = await study.leaderboard(GUILD, Period.ALL_TIME, NOW + timedelta(hours=1))
    assert [e.user_id for e in alltime.entries] == [CAROL, BOB, ALICE]
    assert alltime.entries[0].hours == pytest.approx(145 * 3.5 / 60)
    assert alltime.rank_of(ALICE) is not None and alltime.rank_of(ALICE).rank == 3  # type: ignore[union-attr]
    assert alltime.size == 3 and alltime.pages == 1
    await study.leave(GUILD, CAROL)
    hidden = await study.leaderboard(GUILD, Period.ALL_TIME, NOW)
    assert CAROL not in [e.user_id for e in hidden.entries]


async def test_cohort_view(study: Study) -> None:
    for user in (ALICE, BOB, CAROL):
        await study.join(GUILD, user, NOW - timedelta(days=30))
    await study.log(GUILD, ALICE, "neural-network", Pass.FIRST, NOW)
    await study.log(GUILD, ALICE, "neural-network", Pass.SECOND, NOW)
    await study.log(GUILD, BOB, "neural-network", Pass.FIRST, NOW - timedelta(days=20))
    view = await study.cohort(GUILD, NOW)
    first = view.videos[0]
    assert first.video.id == "neural-network"
    assert first.both == (ALICE,) and first.first_only == (BOB,)
    assert first.on_it == (BOB, CAROL)  # Bob's second pass, Carol's first
    assert view.videos[1].on_it == (ALICE,)
    assert view.moved_this_week == (ALICE,)
    assert set(view.quiet) == {BOB, CAROL}
    # Someone who joined today has not had the time to go quiet.
    await study.join(GUILD, 4, NOW)
    assert 4 not in (await study.cohort(GUILD, NOW)).quiet
    # Nor has someone who came back today after months away.
    await study.leave(GUILD, BOB)
    await study.join(GUILD, BOB, NOW + timedelta(days=100))
    assert BOB not in (await study.cohort(GUILD, NOW + timedelta(days=100))).quiet
    assert BOB in (await study.cohort(GUILD, NOW + timedelta(days=115))).quiet


async def test_setup_validates_before_saving(study: Study, store: Store) -> None:
    with pytest.raises(base_errors.BadInput, match="HH:MM"):
        await study.setup(GUILD, SetupChange(channel_id=5, checkin_time="25:00"), NOW)
    assert await store.guild_settings(GUILD) is None
    saved = await study.setup(
        GUILD,
        SetupChange(channel_id=5, timezone="Asia/Tokyo", checkin_day="friday", daily_time="7:30"),
        NOW,
    )
    assert (
        saved.study_channel_id == 5
        and saved.timezone == "Asia/Tokyo"
        and saved.checkin_weekday == 4
    )
    off = await study.setup(GUILD, SetupChange(daily_enabled=False), NOW)
    assert not off.daily_enabled and off.checkin_enabled and off.study_channel_id == 5


async def test_today(study: Study) -> None:
    with pytest.raises(errors.NotJoined):
        await study.today(GUILD, ALICE, NOW)
    await study.join(GUILD, ALICE, NOW - timedelta(days=2), timezone="Asia/Tokyo")
    await study.log(GUILD, ALICE, "neural-network", Pass.FIRST, NOW)
    result = await study.today(GUILD, ALICE, NOW)
    assert result.next is not None and result.next.key == ("neural-network", 2)
    assert result.cohort is not None
    assert "behind" in result.standing.clause


async def test_setup_writes_only_what_was_asked(study: Study, store: Store) -> None:
    await study.setup(GUILD, SetupChange(channel_id=5, timezone="Asia/Tokyo"), NOW)
    # Meanwhile the bot turns the failing daily post off...
    current = await store.guild_settings(GUILD)
    assert current is not None
    await store.save_guild_settings(replace(current, daily_enabled=False), NOW)
    # ...and an admin changing the check-in day does not turn it back on.
    after = await study.setup(GUILD, SetupChange(checkin_day="sunday"), NOW)
    assert not after.daily_enabled and after.checkin_weekday == 6 and after.timezone == "Asia/Tokyo"
    assert await store.guild_settings(GUILD) == after


async def test_coming_back_or_changing_pace_restarts_the_plan_from_today(study: Study) -> None:
    long_ago = NOW - timedelta(days=90)
    await study.join(GUILD, ALICE, long_ago)
    await study.log(GUILD, ALICE, "neural-network", Pass.FIRST, long_ago)
    await study.leave(GUILD, ALICE)
    back = await study.join(GUILD, ALICE, NOW)
    assert back.resumed
    today = await study.today(GUILD, ALICE, NOW)
    assert today.standing.clause == "you are on track"  # not "89 days behind"
    assert today.standing.done_minutes == 19 and today.standing.expected_minutes == 19
    # Ten idle days later the new plan says so...
    later = NOW + timedelta(days=10)
    assert (await study.today(GUILD, ALICE, later)).standing.days_ahead == -10
    # ...a timezone change keeps the plan, a new pace starts it again from that day.
    await study.join(GUILD, ALICE, later, timezone="Europe/Paris")
    assert (await study.today(GUILD, ALICE, later)).standing.days_ahead == -10
    await study.join(GUILD, ALICE, later, pace_hours=8)
    assert (await study.today(GUILD, ALICE, later)).standing.clause == "you are on track"


async def test_kept_totals_always_match_the_passes(study: Study, store: Store) -> None:
    """Logs, back-dated logs, undos and leaves in a seeded random order: the boards read from
    the kept totals agree with totals summed from the passes themselves."""
    rng = random.Random(7)
    users = [ALICE, BOB, CAROL, 4, 5]
    for user in users:
        await study.join(GUILD, user, NOW - timedelta(days=30))
    videos = [v.id for _, v in ROADMAP.videos()][:8]
    now = NOW
    for _ in range(300):
        now += timedelta(hours=rng.randint(1, 30))
        user, video = rng.choice(users), rng.choice(videos)
        which = rng.choice([Pass.FIRST, Pass.SECOND])
        try:
            if rng.random() < 0.7:
                on = rng.choice([None, "yesterday", (now - timedelta(days=3)).date().isoformat()])
                await study.log(GUILD, user, video, which, now, on=on)
            else:
                await study.undo(GUILD, user, video, which, now)
        except errors.UserError:
            pass  # refused (already logged, second before first...): writes nothing
    await study.leave(GUILD, CAROL)

    def rows(board: list[BoardRow]) -> list[tuple[int, float, int, str]]:
        return [(r.user_id, round(r.minutes, 6), r.passes, r.reached_at) for r in board]

    summed = await store.board_from_passes(GUILD)
    assert rows(await store.leaderboard(GUILD)) == rows(summed)
    assert len(summed) >= 3  # the random walk left several members on the board

    # Week by week, against the passes themselves (grouped by the Monday of their study day).
    weekly: dict[tuple[date, int], tuple[float, int]] = {}
    for user in (u for u in users if u != CAROL):
        for p in await store.passes_of(GUILD, user):
            monday = p.study_date - timedelta(days=p.study_date.weekday())
            minutes, count = weekly.get((monday, user), (0.0, 0))
            weekly[monday, user] = (minutes + credit(ROADMAP, [(p.video_id, p.pass_no)]), count + 1)
    for monday in {m for m, _ in weekly}:
        kept = {r.user_id: (r.minutes, r.passes) for r in await store.leaderboard(GUILD, monday)}
        assert kept == {u: v for (m, u), v in weekly.items() if m == monday}, monday


async def test_changed_video_lengths_recount_the_kept_totals(study: Study, store: Store) -> None:
    await study.join(GUILD, ALICE, NOW)
    await study.log(GUILD, ALICE, "gpt", Pass.FIRST, NOW)
    assert (await store.leaderboard(GUILD))[0].minutes == 116
    longer = ROADMAP.model_copy(
        update={
            "phases": tuple(
                phase.model_copy(
                    update={
                        "videos": tuple(
                            v.model_copy(update={"minutes": 200}) if v.id == "gpt" else v
                            for v in phase.videos
                        )
                    }
                )
                for phase in ROADMAP.phases
            )
        }
    )
    # What start-up does when the roadmap's lengths changed.
    relengthed = Study(store, longer)
    assert await relengthed.learners.recredit() == 1
    await relengthed.groups.rebuild_totals()
    assert (await store.leaderboard(GUILD))[0].minutes == 200
    assert [p.video_id for p in await store.passes_of(GUILD, ALICE)] == ["gpt"]
    assert await relengthed.groups.check_totals() == []


async def test_leaderboard_reads_one_page_and_the_callers_rank(study: Study) -> None:
    for user in range(1, 26):  # user n logs n first passes: more study, higher rank
        await study.join(GUILD, user, NOW)
        for _, video in list(ROADMAP.videos())[: 1 + user % 19]:
            await study.log(GUILD, user, video.id, Pass.FIRST, NOW)
    full = await store_board(study)
    second = await study.leaderboard(GUILD, Period.ALL_TIME, NOW, caller=full[-1], page=1)
    assert second.size == 25 and second.pages == 3 and second.page == 1
    assert [e.rank for e in second.entries] == list(range(11, 21))
    assert [e.user_id for e in second.entries] == full[10:20]
    assert second.caller is not None and second.caller.rank == 25
    assert second.rank_of(full[-1]) == second.caller
    third = await study.leaderboard(GUILD, Period.ALL_TIME, NOW, caller=full[12], page=2)
    assert [e.rank for e in third.entries] == list(range(21, 26))
    assert third.caller is not None and third.caller.rank == 13
    past = await study.leaderboard(GUILD, Period.ALL_TIME, NOW, page=7)  # members left meanwhile
    assert past.page == 2 and [e.rank for e in past.entries] == list(range(21, 26))
    for position, user in enumerate(full, start=1):  # ties included, every rank agrees
        board = await study.leaderboard(GUILD, Period.ALL_TIME, NOW, caller=user)
        assert board.caller is not None and board.caller.rank == position


async def store_board(study: Study) -> list[int]:
    """Every member on the all-time board, in rank order, from the unpaged query."""
    return [row.user_id for row in await study.store.leaderboard(GUILD)]


async def test_what_done_and_today_show_is_recomputed_from_the_passes_table(study: Study) -> None:
    """/done and /today read a member's passes as "video:pass:day:week:minutes" words (/done's
    from its INSERT's RETURNING), not as records: the rules fed with the stored passes give
    every number they show."""
    rng = random.Random(7)
    await study.join(GUILD, ALICE, NOW)
    now = NOW
    for step in steps(ROADMAP)[:24]:
        now += timedelta(days=rng.choice((0, 0, 1, 1, 2, 3)), hours=rng.random())
        on = "yesterday" if step.which is Pass.FIRST and rng.random() < 0.3 else None
        done = await study.log(GUILD, ALICE, step.video.id, step.which, now, on=on)
        passes = await study.store.passes_of(GUILD, ALICE)
        held = {(p.video_id, p.pass_no) for p in passes}
        this_week = week_start(now.date())
        assert done.week_minutes == pytest.approx(
            sum(p.minutes for p in passes if p.week == this_week)
        )
        assert done.streak == streak_of([p.study_date for p in passes], now.date())
        assert done.totals.phases == phase_progress(ROADMAP, held)
        assert done.totals.passes_done == len(passes)
        assert done.next == next_step(ROADMAP, held)
        today = await study.today(GUILD, ALICE, now)
        assert today.streak == done.streak and today.next == done.next


@pytest.mark.sqlite_only  # the statements are read through SQLite's trace
async def test_a_done_after_today_is_one_trip_to_the_database(study: Study) -> None:
    await study.join(GUILD, ALICE, NOW)
    await study.today(GUILD, ALICE, NOW)
    statements: list[str] = []
    await study.store.db.trace(statements.append)
    done = await study.log(GUILD, ALICE, "micrograd", Pass.FIRST, NOW)
    await study.store.db.trace(None)
    assert done.totals.passes_done == 1
    # The INSERT that logs it (then its triggers' statements), and no read before it.
    assert statements[0].split()[:3] == ["INSERT", "INTO", "passes"], statements[0]
    assert not [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]


async def test_a_done_computed_from_what_was_read_before_follows_changes_made_elsewhere(
    study: Study, store: Store
) -> None:
    """Another process (its own services on the same database) moves the member to Auckland and
    the server to New York after this one read them: this one's next /done still logs the pass
    on the member's new day and in the server's new week."""
    await study.join(GUILD, ALICE, NOW)
    await study.today(GUILD, ALICE, NOW)  # read, and remembered
    other = Study(store, ROADMAP, "UTC")
    await other.join(GUILD, ALICE, NOW, timezone="Pacific/Auckland")
    await other.setup(GUILD, SetupChange(timezone="America/New_York"), NOW)
    sunday_night = NOW - timedelta(hours=13)  # Sun 23:00 UTC: Mon in Auckland, Sun in New York
    done = await study.log(GUILD, ALICE, "micrograd", Pass.FIRST, sunday_night)
    auckland_day = sunday_night.astimezone(ZoneInfo("Pacific/Auckland")).date()
    assert done.logged.study_date == auckland_day == NOW.date()
    [stored] = await store.passes_of(GUILD, ALICE)
    # Logged on the member's Monday while the server is still in Sunday's week: it counts in the
    # server's current week (timekeeping.pass_week), as a read-first log would have put it.
    assert stored.week == week_start(sunday_night.astimezone(ZoneInfo("America/New_York")).date())
    # Remembered again from the read that followed: the next one is quick and right as well.
    second = await study.log(GUILD, ALICE, "micrograd", Pass.SECOND, NOW + timedelta(hours=1))
    assert (
        second.logged.study_date
        == (NOW + timedelta(hours=1)).astimezone(ZoneInfo("Pacific/Auckland")).date()
    )
