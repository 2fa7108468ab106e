"""The local Discord emulator, exercised by a small discord.py bot defined here."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Literal

import discord
import pytest
import pytest_asyncio
from discord import app_commands

from localdiscord import (
    BucketRule,
    Channel,
    EmulatorError,
    EmulatorProblems,
    Guild,
    LocalDiscord,
    Member,
    Permission,
    spec_validator,
)
from localdiscord.rest import ROUTES

pytestmark = pytest.mark.asyncio(loop_scope="module")

VIDEOS = ["micrograd", "makemore", "nanogpt", "tokenizer"]
MESSAGES = "/channels/{channel_id}/messages"


class Counter(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.count = 0

    @discord.ui.button(label="+1", custom_id="counter:add", style=discord.ButtonStyle.primary)
    async def add(
        self, interaction: discord.Interaction, button: discord.ui.Button[Counter]
    ) -> None:
        self.count += 1
        await interaction.response.edit_message(content=f"count: {self.count}", view=self)


class Picker(discord.ui.View):
    @discord.ui.select(
        custom_id="picker:video",
        options=[discord.SelectOption(label=v, value=v) for v in VIDEOS],
    )
    async def pick(
        self, interaction: discord.Interaction, select: discord.ui.Select[Picker]
    ) -> None:
        # Acknowledge first (type 6), then edit the original message later.
        await interaction.response.defer()
        await interaction.edit_original_response(content=f"picked {select.values[0]}", view=None)


class Setup(app_commands.Group):
    """An admin-only group with a nested group, like a settings command."""

    channel = app_commands.Group(name="channel", description="Where the bot posts")

    @app_commands.command(name="show", description="Show the settings")
    async def show(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("settings: default", ephemeral=True)

    @channel.command(name="set", description="Pick the posting channel")
    async def set_channel(
        self, interaction: discord.Interaction, target: discord.TextChannel
    ) -> None:
        await interaction.response.send_message(f"posting in #{target.name}", ephemeral=True)


def build_bot(guild_id: int) -> tuple[discord.Client, app_commands.CommandTree[discord.Client]]:
    client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    tree = app_commands.CommandTree(client)

    @tree.command(name="log", description="Log a study session")
    @app_commands.rename(pass_="pass")
    async def log(
        interaction: discord.Interaction,
        video: Literal["micrograd", "makemore"],
        pass_: app_commands.Range[int, 1, 2],
        buddy: discord.Member | None = None,
        where: discord.TextChannel | None = None,
        hours: float = 1.0,
        public: bool = False,
    ) -> None:
        parts = [f"{interaction.user.name} logged {video} pass {pass_} ({hours}h)"]
        if buddy is not None:
            parts.append(f"with {buddy.name}")
        if where is not None:
            parts.append(f"in #{where.name}")
        embed = discord.Embed(title="Session", description=video).add_field(
            name="pass", value=str(pass_)
        )
        await interaction.response.send_message(" ".join(parts), embed=embed, ephemeral=not public)

    @tree.command(name="video", description="Look up a video")
    async def video(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"video: {name}")

    @video.autocomplete("name")
    async def video_names(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=v.title(), value=v) for v in VIDEOS if current in v]

    @tree.command(name="counter", description="A counter with a button")
    async def counter(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("count: 0", view=Counter())

    @tree.command(name="pick", description="Pick a video from a menu")
    async def pick(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pick one", view=Picker())

    @tree.command(name="slow", description="Think, then answer")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await asyncio.sleep(0.05)
        await interaction.followup.send("done thinking")

    @tree.command(name="announce", description="Post in a channel")
    async def announce(
        interaction: discord.Interaction, text: str, where: discord.TextChannel
    ) -> None:
        try:
            await where.send(text)
        except discord.Forbidden as error:
            await interaction.response.send_message(
                f"cannot post there ({error.code})", ephemeral=True
            )
        else:
            await interaction.response.send_message("posted", ephemeral=True)

    @tree.command(name="discuss", description="Open a discussion thread")
    async def discuss(interaction: discord.Interaction, topic: str) -> None:
        assert isinstance(interaction.channel, discord.TextChannel)
        starter = await interaction.channel.send(f"Discussion: {topic}")
        thread = await starter.create_thread(name=topic)
        await thread.send("Say hi here")
        side = await interaction.channel.create_thread(
            name=f"{topic} notes", type=discord.ChannelType.public_thread
        )
        await interaction.response.send_message(f"threads {thread.id} {side.id}", ephemeral=True)

    @tree.command(name="big", description="An embed Discord refuses")
    async def big(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(embed=discord.Embed(title="x" * 300))

    @tree.command(name="today", description="Today's plan")
    async def today(interaction: discord.Interaction) -> None:
        if interaction.guild is None:
            await interaction.response.send_message("This command only works in servers.")
            return
        await interaction.response.send_message("plan: watch micrograd")

    @tree.command(name="ping", description="Guild-only ping")
    @app_commands.guilds(guild_id)
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    settings = Setup(
        name="setup",
        description="Bot settings",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )
    tree.add_command(settings)

    async def setup_hook() -> None:
        await tree.sync()
        await tree.sync(guild=discord.Object(guild_id))

    client.setup_hook = setup_hook  # type: ignore[method-assign]
    return client, tree


@dataclass
class World:
    local: LocalDiscord
    client: discord.Client
    tree: app_commands.CommandTree[discord.Client]
    guild: Guild
    study: Channel
    locked: Channel
    alice: Member
    bob: Member
    admin: Member


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[World]:
    async with LocalDiscord() as local:
        guild = local.add_guild("Study Hall")
        study = guild.add_text_channel("study")
        locked = guild.add_text_channel("announcements", bot_denied=Permission.SEND_MESSAGES)
        alice = guild.add_member("alice")
        bob = guild.add_member("bob")
        admin = guild.add_member("root", admin=True)
        client, tree = build_bot(guild.id)
        async with local.running(client):
            yield World(local, client, tree, guild, study, locked, alice, bob, admin)


@pytest.fixture(autouse=True)
def no_problems(world: World) -> Iterator[None]:
    """Each test must leave no unexpected problems (those it provokes it takes itself)."""
    yield
    world.local.assert_no_problems()


async def test_login_and_sync_are_validated_against_the_spec(world: World) -> None:
    local = world.local
    assert world.client.user is not None and world.client.user.id == local.bot_user.id
    assert [g.id for g in world.client.guilds] == [world.guild.id]
    names = {c["name"]: c for c in local.synced_commands}
    assert {"log", "video", "counter", "setup", "today", "ping"} <= set(names)
    assert names["ping"]["guild_id"] == str(world.guild.id)
    assert names["setup"]["default_member_permissions"] == str(Permission.MANAGE_GUILD.value)
    puts = [r for r in local.requests if r.method == "PUT"]
    assert [r.status for r in puts] == [200, 200]
    fetched = await world.tree.fetch_commands()
    assert {c.name for c in fetched} == {
        c["name"] for c in local.synced_commands if "guild_id" not in c
    }


async def test_slash_with_typed_options_round_trips(world: World) -> None:
    reply = await world.local.slash(
        world.alice,
        "log",
        channel=world.study,
        video="micrograd",
        pass_=2,
        buddy=world.bob,
        where=world.study,
        hours=1.5,
        public=True,
    )
    assert reply.content == "alice logged micrograd pass 2 (1.5h) with bob in #study"
    assert reply.embeds[0]["title"] == "Session"
    assert not reply.ephemeral
    assert world.local.channel_messages(world.study)[-1].id == reply.message_id

    private = await world.local.slash(
        world.alice, "log", channel=world.study, video="makemore", pass_=1
    )
    assert private.ephemeral
    assert private.message_id not in [m.id for m in world.local.channel_messages(world.study)]


async def test_test_mistakes_raise_clear_errors(world: World) -> None:
    local = world.local
    with pytest.raises(EmulatorError, match="no slash command /nope"):
        await local.slash(world.alice, "nope", channel=world.study)
    with pytest.raises(EmulatorError, match="no option"):
        await local.slash(
            world.alice, "log", channel=world.study, video="micrograd", pass_=1, colour="red"
        )
    with pytest.raises(EmulatorError, match="must be one of"):
        await local.slash(world.alice, "log", channel=world.study, video="cnn", pass_=1)
    with pytest.raises(EmulatorError, match="outside"):
        await local.slash(world.alice, "log", channel=world.study, video="micrograd", pass_=3)
    with pytest.raises(EmulatorError, match="requires option 'pass'"):
        await local.slash(world.alice, "log", channel=world.study, video="micrograd")


async def test_subcommands_and_admin_only_groups(world: World) -> None:
    local = world.local
    shown = await local.slash(world.admin, "setup show", channel=world.study)
    assert shown.content == "settings: default" and shown.ephemeral
    nested = await local.slash(
        world.admin, "setup channel set", channel=world.study, target=world.study
    )
    assert nested.content == "posting in #study"
    with pytest.raises(EmulatorError, match="hidden from alice"):
        await local.slash(world.alice, "setup show", channel=world.study)
    with pytest.raises(EmulatorError, match="needs a subcommand"):
        await local.slash(world.admin, "setup", channel=world.study)


async def test_autocomplete_returns_the_bots_choices(world: World) -> None:
    choices = await world.local.autocomplete(
        world.alice, "video", focused="name", value="ma", channel=world.study
    )
    assert choices == [{"name": "Makemore", "value": "makemore"}]


async def test_button_click_edits_the_message(world: World) -> None:
    reply = await world.local.slash(world.alice, "counter", channel=world.study)
    assert [b["label"] for b in reply.buttons] == ["+1"]
    after = await world.local.click(world.bob, reply, custom_id="counter:add")
    assert after.message_id == reply.message_id
    assert after.content == reply.content == "count: 1"
    again = await world.local.click(world.bob, reply, label="+1")
    assert again.content == "count: 2"


async def test_select_menu_with_deferred_update_then_edit(world: World) -> None:
    local = world.local
    reply = await local.slash(world.alice, "pick", channel=world.study)
    after = await local.click(world.alice, reply, custom_id="picker:video", values=["nanogpt"])
    assert after.deferred and after.message_id == reply.message_id
    await local.wait_until(lambda: after.content == "picked nanogpt", what="the edit")
    assert after.components == []


async def test_deferred_reply_is_replaced_by_the_first_followup(world: World) -> None:
    reply = await world.local.slash(world.alice, "slow", channel=world.study)
    assert reply.deferred
    assert reply.content == "done thinking"
    assert reply.ephemeral
    assert reply.followups == []


async def test_channel_send_and_threads(world: World) -> None:
    local = world.local
    reply = await local.slash(
        world.alice, "announce", channel=world.study, text="hello all", where=world.study
    )
    assert reply.content == "posted"
    assert local.channel_messages(world.study)[-1].content == "hello all"

    made = await local.slash(world.alice, "discuss", channel=world.study, topic="backprop")
    _, from_message, side = made.content.split()
    starter = next(
        m for m in local.channel_messages(world.study) if m.content == "Discussion: backprop"
    )
    assert starter.thread is not None and starter.thread.id == int(from_message) == starter.id
    assert [m.content for m in local.channel_messages(starter.thread)] == ["Say hi here"]
    assert {t.name for t in world.study.threads} >= {"backprop", "backprop notes"}
    assert any(t.id == int(side) for t in world.study.threads)


async def test_missing_permission_is_403_in_the_bot(world: World) -> None:
    local = world.local
    reply = await local.slash(
        world.alice, "announce", channel=world.study, text="hi", where=world.locked
    )
    assert reply.content == "cannot post there (50013)"
    assert local.requests_to("POST", MESSAGES)[-1].status == 403
    assert local.channel_messages(world.locked) == []

    # The interaction tells the bot what it may do where it was invoked.
    await local.slash(world.alice, "today", channel=world.locked)
    sent = list(local.interactions.values())[-1].payload
    assert not int(sent["app_permissions"]) & Permission.SEND_MESSAGES
    assert int(sent["member"]["permissions"]) & Permission.SEND_MESSAGES


async def test_files_need_attach_files(world: World) -> None:
    local = world.local
    bare = world.guild.add_text_channel("no-files", bot_denied=Permission.ATTACH_FILES)
    await local.wait_until(lambda: world.client.get_channel(bare.id) is not None)
    channel = world.client.get_channel(bare.id)
    assert isinstance(channel, discord.TextChannel)
    chart = discord.File(io.BytesIO(b"png"), filename="chart.png")
    with pytest.raises(discord.Forbidden) as caught:
        await channel.send("the week", file=chart)
    assert caught.value.status == 403 and caught.value.code == 50013
    assert local.channel_messages(bare) == []
    await channel.send("the week, in words")  # text alone needs no Attach Files
    assert [m.content for m in local.channel_messages(bare)] == ["the week, in words"]


async def test_deleted_channel_is_unknown(world: World) -> None:
    gone = world.guild.add_text_channel("old")
    await world.local.wait_until(lambda: world.client.get_channel(gone.id) is not None)
    stale = world.client.get_channel(gone.id)
    assert isinstance(stale, discord.TextChannel)
    gone.delete(notify=False)
    with pytest.raises(discord.NotFound) as caught:
        await stale.send("anyone?")
    assert caught.value.code == 10003


async def test_user_messages_reach_the_bot(world: World) -> None:
    local = world.local
    for text, seen in [
        ("anyone studying?", ""),  # no message content intent: Discord blanks it
        (
            f"{local.bot_user.mention} anyone studying?",
            f"{local.bot_user.mention} anyone studying?",
        ),
    ]:
        waiting = asyncio.ensure_future(world.client.wait_for("message", timeout=2))
        await asyncio.sleep(0)
        local.post(world.bob, world.study, text)
        received = await waiting
        assert received.content == seen and received.author.id == world.bob.id


async def test_dm_context(world: World) -> None:
    reply = await world.local.slash(world.alice, "today", dm=True)
    assert reply.content == "This command only works in servers."
    with pytest.raises(EmulatorError, match="not available in DMs"):
        await world.local.slash(world.alice, "ping", dm=True)
    with pytest.raises(EmulatorError, match="not available in DMs"):
        await world.local.slash(world.admin, "setup show", dm=True)


async def test_resume_replays_events_missed_while_disconnected(world: World) -> None:
    local = world.local
    identified = local.gateway.identify_count
    await local.drop_connection()
    # Dispatched while the bot has no socket: only a RESUME replay can deliver it.
    reply = await local.slash(world.alice, "today", channel=world.study)
    assert reply.content == "plan: watch micrograd"
    assert local.gateway.resume_count == 1
    assert local.gateway.replayed_count >= 1
    assert local.gateway.identify_count == identified


async def test_route_and_global_429_are_waited_out(world: World) -> None:
    local = world.local
    local.rate_limit("POST", MESSAGES, retry_after=0.2)
    started = time.monotonic()
    reply = await local.slash(
        world.alice, "announce", channel=world.study, text="after 429", where=world.study
    )
    assert reply.content == "posted"
    assert time.monotonic() - started >= 0.2
    assert [r.status for r in local.requests_to("POST", MESSAGES)[-2:]] == [429, 200]

    local.global_rate_limit(retry_after=0.1, method="POST", template=MESSAGES)
    reply = await local.slash(
        world.alice, "announce", channel=world.study, text="after global", where=world.study
    )
    assert reply.content == "posted"
    assert [r.status for r in local.requests_to("POST", MESSAGES)[-2:]] == [429, 200]
    assert local.channel_messages(world.study)[-1].content == "after global"


async def test_server_error_is_retried(world: World) -> None:
    local = world.local
    local.server_error("POST", MESSAGES)
    channel = world.client.get_channel(world.study.id)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send("survived a 500")
    assert [r.status for r in local.requests_to("POST", MESSAGES)[-2:]] == [500, 200]
    assert local.channel_messages(world.study)[-1].id == message.id


async def test_enforce_nonce_deduplicates_a_repeated_send(world: World) -> None:
    channel = world.client.get_channel(world.study.id)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("only once", nonce=424242)
    second = await channel.send("only once", nonce=424242)
    assert first.id == second.id
    assert [m.content for m in world.local.channel_messages(world.study)].count("only once") == 1


async def test_oversized_embed_fails_validation(world: World) -> None:
    local = world.local
    with pytest.raises(EmulatorError, match=r"embeds\.0\.title"):
        await local.slash(world.alice, "big", channel=world.study)
    problems = local.take_problems()
    assert len(problems) == 1 and "data.embeds.0.title" in problems[0]
    assert "256 or fewer" in problems[0]

    channel = world.client.get_channel(world.study.id)
    assert isinstance(channel, discord.TextChannel)
    embed = discord.Embed(title="fields")
    for n in range(26):
        embed.add_field(name=str(n), value="v")
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(embed=embed)
    assert caught.value.status == 400 and caught.value.code == 50035
    problems = local.take_problems()
    assert len(problems) == 1 and "embeds.0.fields" in problems[0]


async def test_dm_with_an_attachment(world: World) -> None:
    user = await world.client.fetch_user(world.alice.id)
    note = discord.File(io.BytesIO(b"loss went down"), filename="notes.txt")
    sent = await user.send("your notes", file=note)
    assert sent.attachments[0].filename == "notes.txt"
    message = world.local.dm_messages(world.alice)[-1]
    assert message.content == "your notes" and message.attachments[0]["size"] == 14
    upload = world.local.requests_to("POST", MESSAGES)[-1]
    assert upload.body["attachments"] == [{"id": 0, "filename": "notes.txt"}]


async def test_spec_quirks_are_accepted_but_limits_still_bite() -> None:
    validator = spec_validator()
    overwrite = {"id": 1, "type": 0, "allow": "1024", "deny": "2048"}
    edit = {"name": "x", "permission_overwrites": [overwrite]}
    assert validator.validate("PATCH", "/channels/{channel_id}", edit) == []
    nonce = {"content": "hi", "nonce": str(2**64 - 1), "enforce_nonce": True}
    assert validator.validate("POST", MESSAGES, nonce) == []
    [error] = validator.validate("POST", MESSAGES, {"content": "x" * 2001})
    assert error.location == "content" and "2000" in error.message
    [error] = validator.validate("POST", MESSAGES, {"embeds": [{"title": "t"}] * 11})
    assert error.location == "embeds"


async def test_every_emulated_route_is_in_the_spec() -> None:
    validator = spec_validator()
    assert [(m, t) for m, t, _ in ROUTES if not validator.has_operation(m, t)] == []


async def test_unknown_route_is_reported(world: World) -> None:
    local = world.local
    with pytest.raises(discord.NotFound):
        await world.client.get_guild(world.guild.id).fetch_emojis()  # type: ignore[union-attr]
    problems = local.take_problems()
    assert len(problems) == 1 and "unknown route: GET /api/v10/guilds/" in problems[0]
    local.report("left behind")
    with pytest.raises(EmulatorProblems, match="left behind"):
        local.assert_no_problems()


async def test_enforced_limits_pace_the_client(world: World) -> None:
    local = world.local
    local.enforce_rate_limits(global_per_second=50, rules={("POST", MESSAGES): BucketRule(2, 0.2)})
    channel = world.client.get_channel(world.study.id)
    assert isinstance(channel, discord.TextChannel)
    hits = local.rate_limit_hits
    started = time.monotonic()
    sent = await asyncio.gather(*(channel.send(f"burst {n}") for n in range(6)))
    elapsed = time.monotonic() - started
    assert len({m.id for m in sent}) == 6
    assert elapsed >= 0.35  # three windows of two messages each
    assert local.rate_limit_hits == hits  # discord.py paced itself from the headers
    last = local.requests_to("POST", MESSAGES)[-1]
    assert last.status == 200
    local.enforce_rate_limits(enabled=False)


async def test_uploads_are_kept_and_held_to_discords_limit(world: World) -> None:
    user = await world.client.fetch_user(world.alice.id)
    await user.send(file=discord.File(io.BytesIO(b"loss went down"), filename="notes.txt"))
    (attachment,) = world.local.dm_messages(world.alice)[-1].attachments
    assert world.local.attachment_data(attachment) == b"loss went down"
    world.local.upload_limit = 10
    with pytest.raises(discord.HTTPException) as caught:
        await user.send(file=discord.File(io.BytesIO(b"x" * 11), filename="big.txt"))
    assert caught.value.status == 413 and caught.value.code == 40005
