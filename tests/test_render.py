"""Replies stay inside Discord's embed limits whatever the data (real discord.Embed objects)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import discord

from bot import embeds as limits
from bot.group import render as group_render
from bot.group.board import Board, BoardEntry, CohortView, Period, VideoCrowd
from bot.learners import render
from bot.learners.plan import Standing
from bot.learners.progress import progress
from bot.learners.records import LoggedPass, Member
from bot.learners.service import MemberProgress
from curriculum import default_curriculum

ROADMAP = default_curriculum()


def within_limits(embed: discord.Embed) -> None:
    assert len(embed.title or "") <= limits.TITLE_MAX
    assert len(embed.description or "") <= limits.DESCRIPTION_MAX
    assert len(embed.fields) <= limits.FIELDS_MAX
    for field in embed.fields:
        assert len(field.name or "") <= limits.FIELD_NAME_MAX
        assert len(field.value or "") <= limits.FIELD_VALUE_MAX
    assert len(embed) <= limits.EMBED_TOTAL_MAX


def test_a_huge_cohort_fits() -> None:
    members = tuple(range(10**17, 10**17 + 3000))
    crowds = tuple(
        VideoCrowd(video, members[:1000], members[1000:2000], members[2000:])
        for _, video in ROADMAP.videos()
    )
    view = CohortView(crowds, members, members, members, members[:5])
    embeds = group_render.cohort(view)
    for embed in embeds:
        within_limits(embed)
    assert sum(len(e) for e in embeds) <= limits.EMBED_TOTAL_MAX  # one message carries them all
    assert "more" in embeds[0].fields[0].value
    # Every mention shown is whole: no "<@123" cut off at a field's limit.
    for embed in embeds:
        for field in embed.fields:
            for word in (field.value or "").split():
                assert not word.startswith("<@") or word.endswith(">"), word


def test_leaderboard_page_and_own_rank() -> None:
    page = tuple(BoardEntry(rank, 1000 + rank, 100 - rank / 10, rank) for rank in range(1, 11))
    caller = BoardEntry(37, 1037, 96.3, 37)
    board = Board(Period.ALL_TIME, page, None, size=37, page=0, caller=caller)
    assert board.pages == 4
    first = group_render.leaderboard(board, caller_id=1037)
    within_limits(first)
    assert "**37. <@1037> - 96.3 h (37 passes)** ← you" in (first.description or "")
    assert (first.description or "").count("<@") == 11
    assert "(1 pass)" in (first.description or "") and "(2 passes)" in (first.description or "")
    assert "Page 1 of 4" in (first.footer.text or "")
    last = Board(Period.ALL_TIME, (caller,), None, size=37, page=3, caller=caller)
    shown = group_render.leaderboard(last, caller_id=1037)
    assert "**37. <@1037>" in (shown.description or "") and "You:" not in (shown.description or "")
    stranger = Board(Period.ALL_TIME, page, None, size=37)
    assert "not on this board" in (
        group_render.leaderboard(stranger, caller_id=5).description or ""
    )
    empty = group_render.leaderboard(Board(Period.WEEK, (), date(2026, 3, 2)), 1)
    assert "No passes" in (empty.description or "")


def test_progress_with_long_notes_fits() -> None:
    at = datetime(2026, 3, 2, tzinfo=UTC)
    passes = [
        LoggedPass(1, video.id, p, at, at.date(), "n" * 300, "https://example.org/" + "x" * 270)
        for _, video in ROADMAP.videos()
        for p in (1, 2)
    ]
    member = Member(1, 1, at, 5, "UTC", True, False)
    result = MemberProgress(
        member, progress(ROADMAP, passes, at.date()), Standing(0, 0, 0, None), at.date(), ROADMAP
    )
    embed = render.progress(ROADMAP, result, 1, personal=True)
    within_limits(embed)
    assert embed.fields[0].value.startswith("`████████████`")


def test_roadmap_and_help_fit_one_message() -> None:
    embeds = render.roadmap(ROADMAP, {("micrograd", 1)})
    assert len(embeds) == 3
    for embed in embeds:
        within_limits(embed)
    assert sum(len(e) for e in embeds) <= limits.EMBED_TOTAL_MAX
    assert "✅⬜ 10. [Building micrograd]" in (embeds[1].description or "")
    within_limits(render.help_embed())


def test_embeds_are_grouped_into_messages_within_discords_limits() -> None:
    big = [discord.Embed(title=f"t{n}", description="x" * 2500) for n in range(5)]
    small = [discord.Embed(title=f"s{n}") for n in range(23)]
    for embeds in (big, small, big[:1] + small + big[1:]):
        messages = limits.messages_of(embeds)
        assert [e for m in messages for e in m] == embeds  # all of them, in order
        assert all(0 < len(m) <= 10 and sum(len(e) for e in m) <= 6000 for m in messages)
    assert [len(m) for m in limits.messages_of(big)] == [2, 2, 1]
    assert [len(m) for m in limits.messages_of(small)] == [10, 10, 3]
