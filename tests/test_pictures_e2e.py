"""The pictures as members get them: served by the real bot through the local Discord, as
multipart uploads checked against Discord's spec, each with its alt text and its numbers in
the embed too."""

from __future__ import annotations

import io
import re
import sys

import discord
import pytest
from PIL import Image

from bot.group import render as group_views
from bot.learners import render as learner_views
from bot.pictures import PassState, canvas
from bot.pictures.cohort import cell_box
from bot.pictures.cohort import height as cohort_height
from bot.pictures.progress import day_box, height, tile_box
from curriculum import Pass
from localdiscord.model import Message
from tests.conftest import NOW, Server
from tests.test_member_experience import text


def attached(local: object, message: Message | None, name: str) -> tuple[dict, Image.Image]:
    """The message's one attachment called `name`, and its PNG decoded."""
    assert message is not None
    files = [a for a in message.attachments if a["filename"] == name]
    assert len(files) == 1, message.attachments
    data = local.attachment_data(files[0])  # type: ignore[attr-defined]
    return files[0], Image.open(io.BytesIO(data)).convert("RGB")


def colour_at(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, ...]:
    """The colour inside a cell, away from its rounded corners and its text."""
    left, top, _, bottom = box
    return tuple(image.getpixel((left + 3, (top + bottom) // 2)))


async def test_progress_card_is_attached_with_alt_text_and_shows_each_pass(server: Server) -> None:
    await server.slash(server.alice, "join")
    for video in ("neural-network", "gradient-descent", "backprop-intuition"):
        await server.slash(server.alice, "done", video=video, pass_="first")
    await server.slash(server.alice, "done", video="backprop-intuition", pass_="second")

    reply = await server.slash(server.alice, "progress")
    assert reply.deferred and reply.ephemeral  # acknowledged first, as private as the answer
    file, image = attached(server.discord, reply.message, "progress.png")
    alt = file["description"]
    assert alt.startswith("Progress of alice: 4 of 38 passes")
    assert "second pass 3" in alt and "first pass only 1, 2" in alt
    # The numbers are in the embed too, and the embed shows the picture.
    embed = reply.embeds[0]
    assert "4/38 passes" in embed["description"]
    assert embed["image"]["url"] == file["url"]

    result = await server.bot.learners.progress_of(server.guild.id, server.alice.id, NOW)
    card = learner_views.progress_card(server.bot.curriculum, result, "alice", personal=True)
    assert image.size == (canvas.WIDTH, height(card))
    assert colour_at(image, tile_box(card, 0, 2)) == canvas.STATE[PassState.SECOND]  # video 3
    assert colour_at(image, tile_box(card, 0, 0)) == canvas.STATE[PassState.FIRST]  # video 1
    assert colour_at(image, tile_box(card, 0, 3)) == canvas.STATE[PassState.NONE]  # video 4
    today = day_box(card, NOW.date())
    assert today is not None and colour_at(image, today) == canvas.STUDIED


async def test_a_shared_progress_card_is_public_and_leaves_out_the_plan(server: Server) -> None:
    await server.slash(server.alice, "join")
    await server.slash(server.alice, "done", video="neural-network", pass_="first")
    own = await server.slash(server.alice, "progress")
    shared = await server.slash(server.alice, "progress", share=True)
    assert not shared.ephemeral
    own_alt = attached(server.discord, own.message, "progress.png")[0]["description"]
    shared_alt = attached(server.discord, shared.message, "progress.png")[0]["description"]
    # The weekly target is the member's pace: part of their plan, so only in their own view.
    assert "of 5 h" in own_alt and "of 5 h" not in shared_alt
    assert shared.message in server.discord.channel_messages(server.study)


async def test_progress_of_someone_not_joined_is_a_private_sentence_and_no_picture(
    server: Server,
) -> None:
    reply = await server.slash(server.bob, "progress", share=True)
    assert reply.ephemeral and not reply.deferred
    assert reply.message is not None and not reply.message.attachments
    assert "/join" in reply.content


HOURS = re.compile(r"(\d+(?:\.\d+)?) h of (?:about )?(\d+(?:\.\d+)?) h")


async def test_the_progress_card_gives_the_hours_the_embed_beside_it_gives(
    server: Server,
) -> None:
    await server.slash(server.alice, "join")
    for video in ("neural-network", "gradient-descent", "micrograd"):
        await server.slash(server.alice, "done", video=video, pass_="first")
    await server.slash(server.alice, "done", video="neural-network", pass_="second")
    reply = await server.slash(server.alice, "progress")
    alt = attached(server.discord, reply.message, "progress.png")[0]["description"]
    embed = reply.embeds[0]
    for field in embed["fields"][:3]:  # one per phase: "`bar` 3/18 passes, 1.4 h of 10.7 h"
        words = HOURS.search(field["value"])
        pictured = HOURS.search(alt[alt.index(field["name"] + ": ") :])
        assert words is not None and pictured is not None, (field, alt)
        assert float(pictured[1]) == float(words[1]), (field["value"], alt)
        assert float(pictured[2]) == float(words[2]), (field["value"], alt)
    # The whole roadmap: 77.4 h of study, in words and in the picture.
    overall = HOURS.search(embed["description"])
    assert overall is not None and f"{float(overall[2]):g} h estimated" in alt


NAMES = ("山田太郎", "Дмитрий", "Zoë 🚀", "김민준", "François")


async def test_cohort_map_pages_with_buttons_only_the_caller_turns(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The module the bot loaded as an extension (discord.py loads a fresh copy of it).
    monkeypatch.setattr(sys.modules["cogs.group"], "PAGER_TIMEOUT", 1.0)
    study = server.bot.learners
    # 30 members: the first five named in other scripts, each a little further along.
    for n in range(30):
        name = NAMES[n] if n < len(NAMES) else f"member{n}"
        await study.join(server.guild.id, 900_000 + n, NOW, name=name)
    for video in ("neural-network", "gradient-descent", "backprop-intuition"):
        await study.log(server.guild.id, 900_000, video, Pass.FIRST, NOW)
    await study.log(server.guild.id, 900_000, "backprop-intuition", Pass.SECOND, NOW)
    await study.log(server.guild.id, 900_001, "neural-network", Pass.FIRST, NOW)

    reply = await server.slash(server.bob, "cohort")
    assert reply.deferred and not reply.ephemeral
    file, image = attached(server.discord, reply.message, "cohort.png")
    assert file["description"].startswith("The cohort, page 1 of 2: 25 members by 19 videos.")
    assert "山田太郎: 1 second, 2 first pass only." in file["description"]
    assert reply.embeds[0]["image"]["url"] == file["url"]
    assert "30 active members" in text(reply)  # the numbers stay in words
    assert [b["label"] for b in reply.buttons] == ["Previous", "Next"]
    assert reply.buttons[0].get("disabled") and not reply.buttons[1].get("disabled")

    # The furthest along comes first: 山田太郎's row 0, video 3 (column 2) has both passes.
    view = await server.bot.groups.cohort(server.guild.id, NOW)
    page1 = group_views.cohort_map(view, 0)
    assert page1.rows[0].name == "山田太郎" and page1.rows[1].name == "Дмитрий"
    assert image.size == (canvas.WIDTH, cohort_height(page1))
    assert colour_at(image, cell_box(page1, 0, 2)) == canvas.STATE[PassState.SECOND]
    assert colour_at(image, cell_box(page1, 0, 0)) == canvas.STATE[PassState.FIRST]
    assert colour_at(image, cell_box(page1, 1, 1)) == canvas.STATE[PassState.NONE]

    stranger = await server.discord.click(server.alice, reply, label="Next")
    assert stranger.ephemeral and "run `/cohort` yourself" in stranger.content
    assert file in reply.message.attachments  # nothing changed for them

    await server.discord.click(server.bob, reply, label="Next")
    await server.discord.wait_until(
        lambda: "page 2 of 2" in str(reply.message.attachments), what="the second page"
    )
    file2, image2 = attached(server.discord, reply.message, "cohort.png")
    assert file2["description"].startswith("The cohort, page 2 of 2: 5 members")
    assert reply.embeds[0]["image"]["url"] == file2["url"]
    page2 = group_views.cohort_map(view, 1)
    assert image2.size == (canvas.WIDTH, cohort_height(page2))
    assert not reply.buttons[0].get("disabled") and reply.buttons[1].get("disabled")
    # After the timeout the buttons are shown disabled, the picture stays.
    await server.discord.wait_until(
        lambda: all(b.get("disabled") for b in reply.buttons), within=3, what="buttons disabled"
    )
    assert attached(server.discord, reply.message, "cohort.png")[0] == file2


async def test_a_small_cohort_gets_one_map_without_buttons(server: Server) -> None:
    await server.slash(server.alice, "join")
    await server.slash(server.alice, "done", video="neural-network", pass_="first")
    reply = await server.slash(server.bob, "cohort")
    file, _ = attached(server.discord, reply.message, "cohort.png")
    assert file["description"].startswith("The cohort, page 1 of 1: 1 member by 19 videos.")
    assert "Moved this week: alice." in file["description"]
    assert not reply.buttons


async def test_the_local_discord_checks_uploads_as_discord_would(server: Server) -> None:
    channel = server.bot.get_partial_messageable(server.study.id)
    png = io.BytesIO(b"\x89PNG not really")
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send(file=discord.File(png, "a.png", description="x" * 1025))
    assert refused.value.status == 400
    assert any("attachments.0.description" in p for p in server.discord.take_problems())
    # An embed showing a file the message does not carry is a broken image on Discord.
    shown = discord.Embed(title="t").set_image(url="attachment://missing.png")
    await channel.send(embed=shown, file=discord.File(io.BytesIO(b"x"), "other.png"))
    assert any("attachment://missing.png" in p for p in server.discord.take_problems())
