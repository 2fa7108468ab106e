"""The pictures as members get them: served by the real bot through the local Discord, as
multipart uploads checked against Discord's spec, each with its alt text and its numbers in
the embed too."""

from __future__ import annotations

import io

from PIL import Image

from bot.learners import render as learner_views
from bot.pictures import PassState, canvas
from bot.pictures.progress import day_box, height, tile_box
from localdiscord.model import Message
from tests.conftest import NOW, Server


def attached(local: object, message: Message | None, name: str) -> tuple[dict, Image.Image]:
    """The message's one attachment called `name`, and its PNG decoded."""
    assert message is not None
    files = [a for a in message.attachments if a["filename"] == name]
    assert len(files) == 1, message.attachments
    data = local.attachment_bytes(files[0])  # type: ignore[attr-defined]
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
