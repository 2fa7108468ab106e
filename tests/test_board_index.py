"""Boards read in index order (migration 0014): the page, the board's size and the caller's rank
come from the board indexes and kept counters, and must be exactly what ranking every active
member's passes by hand gives, through /leave, /join again, /undo, ties and a rebuild."""

from __future__ import annotations

import random
from datetime import timedelta

from bot.group.board import BOARD_PAGE_SIZE, Period
from bot.learners.plan import steps
from curriculum import Pass, default_curriculum
from tests.conftest import NOW
from tests.tables import Store, Study

GUILD, OTHER = 100, 200
ROADMAP = default_curriculum()


async def by_hand(store: Store, guild: int, week: str | None) -> list[tuple[int, float, int]]:
    """(user, minutes, passes) of every active member with passes, in board order."""
    rows = await store.db.rows(
        "SELECT p.user_id, sum(p.minutes), count(*), max(p.logged_at) FROM passes AS p"
        " JOIN members AS m USING (guild_id, user_id)"
        " WHERE p.guild_id = ? AND m.active = 1 AND (CAST(? AS TEXT) IS NULL OR p.week = ?)"
        " GROUP BY p.user_id",
        (guild, week, week),
    )
    ordered = sorted(rows, key=lambda r: (-r[1], r[3], r[0]))
    return [(r[0], r[1], r[2]) for r in ordered]


async def check_boards(study: Study, store: Store) -> None:
    week = (await store.db.row("SELECT max(week) FROM passes WHERE guild_id = ?", (GUILD,)))[0]
    for period, key in ((Period.ALL_TIME, None), (Period.WEEK, week)):
        expected = await by_hand(store, GUILD, key)
        since = None if key is None else NOW.date().fromisoformat(key)
        pages = (len(expected) + BOARD_PAGE_SIZE - 1) // BOARD_PAGE_SIZE
        shown = []
        for page in range(max(pages, 1)):
            board = await study.leaderboard(GUILD, period, NOW, page=page, since=since)
            assert board.size == len(expected)
            shown += [(e.user_id, round(e.hours * 60, 6), e.passes) for e in board.entries]
        assert shown == [(u, round(m, 6), n) for u, m, n in expected]
        # Every member's own rank, wherever they stand (and none for who is not on it).
        for rank, (user, _, _) in enumerate(expected, start=1):
            board = await study.leaderboard(GUILD, period, NOW, caller=user, since=since)
            assert board.caller is not None and board.caller.rank == rank, (period, user)


async def test_pages_sizes_and_ranks_match_the_passes_ranked_by_hand(store: Store) -> None:
    rng = random.Random(14)
    study = Study(store, ROADMAP)
    keys = [step.key for step in steps(ROADMAP)]
    members = list(range(1, 31))
    for user in members:
        await study.join(GUILD, user, NOW - timedelta(days=30))
    await study.join(OTHER, 1, NOW - timedelta(days=30))  # another server's board is apart
    await study.log(OTHER, 1, keys[0][0], Pass.FIRST, NOW)
    # Some log a lot, some a little, several exactly the same (ties go to who got there first).
    for user in members:
        for video, number in keys[: rng.choice([0, 1, 1, 2, 3, 5, 8])]:
            await study.log(GUILD, user, video, Pass(number), NOW, on="yesterday")
    await check_boards(study, store)

    # Leaving takes a member off every board at once; coming back puts them back.
    for user in members[:8]:
        await study.leave(GUILD, user)
    await check_boards(study, store)
    gone = await study.leaderboard(GUILD, Period.ALL_TIME, NOW, caller=members[0])
    assert gone.caller is None
    for user in members[:4]:
        await study.join(GUILD, user, NOW)
    await check_boards(study, store)

    # An undo that empties a member's total takes them off the board and its size.
    held = await store.db.rows(
        "SELECT user_id, video_id, pass FROM passes WHERE guild_id = ? AND user_id IN"
        " (SELECT user_id FROM passes WHERE guild_id = ? GROUP BY user_id HAVING count(*) = 1)"
        " AND user_id IN (SELECT user_id FROM members WHERE guild_id = ? AND active = 1)",
        (GUILD, GUILD, GUILD),
    )
    assert held
    for user, video, number in held[:2]:
        await study.undo(GUILD, user, video, Pass(number), NOW)
    await check_boards(study, store)

    # The totals rebuilt from the passes give the same boards.
    await study.rebuild_totals()
    await check_boards(study, store)
    assert await study.check_totals() == []


async def test_board_sizes_follow_every_change_of_the_totals(store: Store) -> None:
    study = Study(store, ROADMAP)
    for user in (1, 2, 3):
        await study.join(GUILD, user, NOW)
        await study.log(GUILD, user, "gpt", Pass.FIRST, NOW)
    await study.leave(GUILD, 2)
    await study.log(GUILD, 1, "gpt", Pass.SECOND, NOW)  # an update, not a new line
    kept = await store.db.rows(
        "SELECT week, members FROM board_sizes WHERE guild_id = ? ORDER BY week", (GUILD,)
    )
    counted = await store.db.rows(
        "SELECT '', count(*) FROM member_points WHERE guild_id = ? AND active = 1"
        " UNION ALL SELECT week, count(*) FROM member_week_points"
        " WHERE guild_id = ? AND active = 1 GROUP BY week ORDER BY 1",
        (GUILD, GUILD),
    )
    assert kept == counted == [("", 2), (counted[1][0], 2)]
