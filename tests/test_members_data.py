"""Members' data: /export and /setup export (files, privately), /forget and /setup forget (after
a confirm only the asker can press, which expires), and the operators' `twopass db export` and
`twopass db erase`. After an erase, no table holds a row with the user's id."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import secrets
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bot.db import Database
from bot.db.copy import tables
from bot.learners.export import UPLOAD_LIMIT, Export, ExportTooLarge, package
from bot.learners.records import LoggedPass
from bot.learners.repo import LOG_SQL, log_params
from bot.learners.service import Actor
from bot.pictures import CheckinChart, MemberHours, render_checkin_chart
from bot.posts.messages import Composed, Outgoing, Upload
from curriculum import Pass, default_curriculum
from tests.conftest import NOW, Server
from tests.tables import Store, Study
from tests.test_journeys import text
from tests.test_settings_and_cli import run_cli

GUILD, OTHER_GUILD, ALICE, BOB, ADMIN = 100, 200, 1_001, 1_002, 1_003


# Tables that hold nothing about a member. Every other table must hold a row naming someone
# in the scenario of `test_forget_erases_every_row_after_the_members_confirm` before the erase,
# so a table added later is either shown to be erased or listed here with the reason.
NO_MEMBER_DATA = {
    "app_state": "the bot's own bookkeeping: command sync, roadmap digests, last seen",
    "posts": "a post's reservation and delivery state; what it says is in post_parts",
    "post_notes": "what admins are told about posts: channels and permissions, never members",
    "board_sizes": "how many members are on each of a server's boards: a count, no member",
}


async def all_tables(db: Database) -> set[str]:
    """Every table of the schema, on either engine (as `twopass db copy` finds them)."""
    return set(await tables(db))


async def rows_naming(db: Database, some_id: int) -> list[tuple[str, tuple[Any, ...]]]:
    """Every row, in every table, with a column holding `some_id` (a user's or a server's):
    as a number, or anywhere in a text, such as a mention in a stored post."""
    inside = re.compile(rf"(?<!\d){some_id}(?!\d)")  # the whole number, not part of another
    found = []
    for table in sorted(await all_tables(db)):
        for row in await db.rows(f"SELECT * FROM {table}"):
            if any(value == some_id or inside.search(str(value)) for value in row):
                found.append((table, tuple(row)))
    return found


async def tables_naming(db: Database, *ids: int) -> set[str]:
    return {table for some_id in ids for table, _ in await rows_naming(db, some_id)}


def export_files(server: Server, reply: Any) -> dict[str, bytes]:
    attachments = reply.message.attachments
    return {a["filename"]: server.discord.attachment_data(a) for a in attachments}


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# --- /export ---------------------------------------------------------------------------------


async def test_export_is_the_members_own_data_as_csv_and_json(server: Server) -> None:
    nothing = await server.slash(server.alice, "export")
    assert nothing.ephemeral and "Nothing is stored about you" in nothing.content
    await server.slash(server.alice, "join", timezone="Europe/Paris")
    await server.slash(server.alice, "done", video="gpt", pass_="first", note="attention")
    # /done again with a note corrects it; the export keeps both.
    await server.slash(server.alice, "done", video="gpt", pass_="first", note="=attention is all")
    await server.slash(server.alice, "done", video="micrograd", pass_="first", minutes=150)
    await server.slash(server.alice, "undo", video="micrograd", pass_="first")
    await server.slash(server.bob, "join")
    await server.slash(server.bob, "done", video="gpt", pass_="first", note="bob's secret")

    reply = await server.slash(server.alice, "export")
    assert reply.ephemeral and "1 pass held now and 3 history entries" in reply.content
    files = export_files(server, reply)
    assert sorted(files) == [
        f"twopass-{server.guild.id}-member-{server.alice.id}-20260302.csv",
        f"twopass-{server.guild.id}-member-{server.alice.id}-20260302.json",
    ]
    csv_file = next(body for name, body in files.items() if name.endswith(".csv"))
    json_file = next(body for name, body in files.items() if name.endswith(".json"))
    rows = read_csv(csv_file)
    assert {row["user_id"] for row in rows} == {str(server.alice.id)}
    assert [(r["record"], r["video_id"], r["action"]) for r in rows] == [
        ("pass", "gpt", ""),
        ("history", "gpt", "log"),
        ("history", "micrograd", "log"),
        ("history", "micrograd", "undo"),
        ("edit", "gpt", "edit"),
    ]
    # A note a spreadsheet would run as a formula is shown as text.
    assert rows[0]["note"] == "'=attention is all"
    # The name the bot keeps for them (pictures draw it) is theirs too.
    assert {row["display_name"] for row in rows} == {"alice"}
    assert [r["spent_minutes"] for r in rows[2:4]] == ["150", "150"]
    body = json.loads(json_file)
    assert body["user_id"] == str(server.alice.id) and "settings" not in body
    assert body["members"][0]["timezone"] == "Europe/Paris"
    assert body["members"][0]["display_name"] == "alice"
    assert body["passes"][0]["note"] == "=attention is all"
    (edit,) = body["edits"]
    assert (edit["note_before"], edit["note"]) == ("attention", "=attention is all")
    assert "bob's secret" not in json_file.decode()

    whole = await server.slash(server.admin, "setup export")
    assert whole.ephemeral and "2 members, 2 passes held now" in whole.content
    server_json = next(
        body for name, body in export_files(server, whole).items() if name.endswith(".json")
    )
    assert json.loads(server_json)["settings"]["timezone"] == "UTC"
    assert "bob's secret" in server_json.decode()


def test_an_export_too_big_for_one_upload_is_zipped_or_refused() -> None:
    roadmap = default_curriculum()
    passes = [
        LoggedPass(user, video.id, 1, NOW, NOW.date(), "a note", None, video.minutes, None)
        for user in range(100)
        for _, video in roadmap.videos()
    ]
    data = Export(GUILD, None, NOW, roadmap, [], passes, [])
    assert [name for name, _ in package(data)] == [
        f"twopass-{GUILD}-server-20260302.csv",
        f"twopass-{GUILD}-server-20260302.json",
    ]
    size = sum(len(body) for _, body in package(data))
    (zipped,) = package(data, limit=size + 64 * 1024 - 1)
    assert zipped[0].endswith(".zip")
    assert sorted(zipfile.ZipFile(io.BytesIO(zipped[1])).namelist()) == [
        f"twopass-{GUILD}-server-20260302.csv",
        f"twopass-{GUILD}-server-20260302.json",
    ]
    with pytest.raises(ExportTooLarge, match=f"twopass db export --guild {GUILD}"):
        package(data, limit=64 * 1024 + 10)


# --- /forget ---------------------------------------------------------------------------------


async def test_forget_erases_every_row_after_the_members_confirm(server: Server) -> None:
    alice, bob, admin = server.alice.id, server.bob.id, server.admin.id
    # The admin set the server up: the settings name them as who to tell about trouble.
    await server.slash(server.admin, "setup channel", channel_=server.study)
    for who in (server.alice, server.bob, server.admin):
        await server.slash(who, "join")
    await server.slash(
        server.alice, "done", video="gpt", pass_="first", note="mine", date="yesterday"
    )
    await server.slash(server.alice, "done", video="gpt", pass_="second", minutes=240)
    await server.slash(server.alice, "done", video="gpt", pass_="first", note="mine, fixed")
    # Alice is no admin; the admin corrects Bob's log and note: those entries name the admin.
    await server.slash(server.admin, "done", video="gpt", pass_="first", member=server.bob)
    await server.slash(
        server.admin, "done", video="gpt", pass_="first", member=server.bob, note="by the admin"
    )
    # The check-in, stored with its parts, mentions the members who studied.
    await server.slash(server.admin, "checkin now")
    db = server.store.db
    # Every table holds a row naming one of them, unless it holds nothing about members.
    assert await tables_naming(db, alice, bob, admin) | NO_MEMBER_DATA.keys() == (
        await all_tables(db)
    )

    prompt = await server.slash(server.alice, "forget")
    assert prompt.ephemeral and "cannot be undone" in text(prompt)
    assert [b["label"] for b in prompt.buttons] == ["Erase", "Cancel"]
    not_yours = await server.discord.click(server.bob, prompt, label="Erase")
    assert not_yours.ephemeral and "belongs to whoever asked" in not_yours.content
    cancelled = await server.discord.click(server.alice, prompt, label="Cancel")
    assert "nothing was erased" in cancelled.content and not prompt.buttons
    assert await rows_naming(db, alice)  # still there

    prompt = await server.slash(server.alice, "forget")
    erased = await server.discord.click(server.alice, prompt, label="Erase")
    assert "Erased" in erased.content and "2 passes and 3 history entries" in erased.content
    assert await rows_naming(db, alice) == []
    study = Study(server.store, server.bot.roadmaps)
    assert await study.check_totals() == []  # `twopass db check` agrees
    board = text(await server.slash(server.bob, "leaderboard", period="all time"))
    assert f"<@{alice}>" not in board and f"<@{bob}>" in board
    # The check-in already in the channel is the server's message and stays as it was.
    assert any(f"<@{alice}>" in text(m) for m in server.discord.channel_messages(server.study))

    again = await server.slash(server.alice, "join")
    assert "Welcome to the roadmap" in text(again)
    assert "0/38 passes" in text(await server.slash(server.alice, "progress"))

    # An admin erases a member; the admin's own corrections in Bob's history lose the name
    # only when the admin erases themselves.
    prompt = await server.slash(server.admin, "setup forget", member=server.bob)
    assert f"<@{bob}>" in text(prompt)
    done = await server.discord.click(server.admin, prompt, label="Erase")
    assert f"<@{bob}>'s data in this server is gone" in done.content
    assert await rows_naming(db, bob) == []
    assert await study.check_totals() == []

    prompt = await server.slash(server.admin, "forget")
    await server.discord.click(server.admin, prompt, label="Erase")
    assert await rows_naming(db, admin) == []
    # Nobody is left to DM about trouble until an admin channel is set or /setup runs again.
    assert "nowhere yet" in text(await server.slash(server.admin, "setup show"))


SEND = "/channels/{channel_id}/messages"


async def stored_parts(db: Database) -> list[tuple[str, str, bytes | None]]:
    rows = await db.rows("SELECT state, body, file FROM post_parts ORDER BY period_key, part")
    return [(str(state), str(body), file) for state, body, file in rows]


def check_ins(server: Server) -> list[Any]:
    """The check-ins' first messages in the study channel."""
    return [
        m
        for m in server.discord.channel_messages(server.study)
        if m.embeds and "check-in" in m.embeds[0].get("title", "").lower()
    ]


async def forget(server: Server, asker: Any, **member: Any) -> None:
    command = "setup forget" if member else "forget"
    prompt = await server.slash(asker, command, **member)
    assert "Erase" in [b["label"] for b in prompt.buttons]
    assert "gone" in (await server.discord.click(asker, prompt, label="Erase")).content


async def test_forget_leaves_no_stored_check_in_naming_the_member(server: Server) -> None:
    """A check-in's chart draws members by name. Once one is erased, the stored parts say
    "someone" in its alt text too and keep no picture of them; a part still to be sent goes
    without its picture."""
    await server.slash(server.admin, "setup channel", channel_=server.study)
    for who in (server.alice, server.bob):
        await server.slash(who, "join")
        await server.slash(who, "done", video="gpt", pass_="first")
    # Discord refuses the check-in's first message: the post waits, its chart stored with it.
    server.discord.server_error("POST", SEND, times=1, status=503)
    waiting = await server.slash(server.admin, "checkin now")
    assert "I will keep trying" in waiting.content
    ((state, body, picture),) = [p for p in await stored_parts(server.store.db) if p[2]]
    assert state == "pending" and "Hours: alice" in body and picture

    await forget(server, server.alice)
    for _, body, picture in await stored_parts(server.store.db):
        assert "alice" not in body and picture is None
    # Sent now, the check-in shows its numbers in words and no picture naming anyone.
    await server.bot.posts.publisher.resume_unsent(server.guild.id)
    (posted,) = check_ins(server)
    assert posted.attachments == [] and "image" not in posted.embeds[0]
    assert "**2 passes** logged" in text(posted) and "alice" not in text(posted)

    # A check-in already out: its stored copy keeps its alt text, naming "someone".
    server.clock.advance(days=1)
    await server.slash(server.bob, "done", video="gpt", pass_="second")
    server.clock.advance(days=1)
    await server.slash(server.admin, "checkin now")
    sent = [p for p in await stored_parts(server.store.db) if p[2]]
    assert [(state, "Hours: bob" in body) for state, body, _ in sent] == [("sent", True)]
    await forget(server, server.admin, member=server.bob)
    parts = await stored_parts(server.store.db)
    assert all("bob" not in body and picture is None for _, body, picture in parts)
    assert sum("Hours: someone" in body for _, body, _ in parts) == 1
    # The messages in the channel are the server's and stay as they were.
    assert [len(m.attachments) for m in check_ins(server)] == [0, 1]


async def test_an_unconfirmed_forget_expires_and_erases_nothing(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The module the bot loaded as an extension (discord.py loads a fresh copy of it).
    monkeypatch.setattr(sys.modules["cogs.data"], "CONFIRM_TIMEOUT", 0.3)
    await server.slash(server.alice, "join")
    prompt = await server.slash(server.alice, "forget")
    await server.discord.wait_until(
        lambda: "expired" in prompt.content, within=3, what="the prompt to expire"
    )
    assert not prompt.buttons
    assert await server.store.member(server.guild.id, server.alice.id) is not None


async def test_setup_forget_needs_one_member(server: Server) -> None:
    for options, words in [
        ({}, "Name one member"),
        ({"user_id": "alice"}, "is not a user id"),
        ({"user_id": "²"}, "is not a user id"),  # a digit to str.isdigit, not to int()
    ]:
        reply = await server.slash(server.admin, "setup forget", **options)
        assert reply.ephemeral and words in reply.content
    by_id = await server.slash(server.admin, "setup forget", user_id=str(server.alice.id))
    assert by_id.buttons


# --- the operators' commands -----------------------------------------------------------------


def _two_servers(path: Path) -> None:
    """Alice in two servers; in the first, she corrected Bob's log as an admin."""

    async def make() -> None:
        async with await Store.open(path) as store:
            study = Study(store, default_curriculum())
            for guild in (GUILD, OTHER_GUILD):
                for user in (ALICE, BOB):
                    await study.join(guild, user, NOW)
                await study.log(guild, ALICE, "gpt", Pass.FIRST, NOW, note="hello, world")
            await study.log(GUILD, BOB, "gpt", Pass.FIRST, NOW, actor=Actor(ALICE, True))

    asyncio.run(make())


def test_db_export_writes_a_servers_files(tmp_path: Path) -> None:
    _two_servers(tmp_path / "db.sqlite3")
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli(tmp_path, "db", "export", "--guild", str(GUILD), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"server {GUILD}: 2 members, 2 passes, 2 history entries" in result.stdout
    (json_file,) = out.glob("*.json")
    body = json.loads(json_file.read_text())
    assert {p["user_id"] for p in body["passes"]} == {str(ALICE), str(BOB)}
    assert json_file.stat().st_mode & 0o777 == 0o600
    missing = run_cli(tmp_path, "db", "export", "--guild", "999", "--out", str(out))
    assert missing.returncode == 2 and "nothing is stored about server 999" in missing.stderr


def test_db_export_writes_a_server_too_large_for_one_discord_upload(tmp_path: Path) -> None:
    """Files on disk have no upload limit: the command writes them, whatever their size."""
    path = tmp_path / "db.sqlite3"
    roadmap = default_curriculum()
    members = range(1, 131)

    async def make() -> None:
        # Notes and links that do not compress, every pass of the roadmap by 130 members.
        async with await Store.open(path) as store:
            for user in members:
                await store.join(GUILD, user, 5, "UTC", NOW)
            rows = [
                log_params(
                    GUILD,
                    user,
                    video.id,
                    pass_no,
                    now=NOW,
                    study_date=NOW.date(),
                    note=secrets.token_urlsafe(225),
                    link="https://example.com/" + secrets.token_urlsafe(360),
                    actor_id=user,
                    minutes=video.minutes * pass_no,
                    week=NOW.date(),
                )
                for user in members
                for _, video in roadmap.videos()
                for pass_no in (1, 2)
            ]
            async with store.db.transaction() as db:
                await db.executemany(LOG_SQL, rows)

    asyncio.run(make())
    result = run_cli(tmp_path, "db", "export", "--guild", str(GUILD), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    passes = len(members) * roadmap.video_count * 2
    assert f"server {GUILD}: {len(members)} members, {passes} passes" in result.stdout
    (csv_file,) = tmp_path.glob("*.csv")
    (json_file,) = tmp_path.glob("*.json")
    assert len(read_csv(csv_file.read_bytes())) == 2 * passes  # each pass, and its history
    assert len(json.loads(json_file.read_text())["passes"]) == passes
    # Even zipped, more than Discord takes in one upload: /setup export would send none.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in (csv_file, json_file):
            archive.writestr(file.name, file.read_bytes())
    assert len(buffer.getvalue()) > UPLOAD_LIMIT


def test_db_erase_in_one_server_then_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    _two_servers(path)
    one = run_cli(tmp_path, "db", "erase", "--user", str(ALICE), "--guild", str(GUILD))
    assert one.returncode == 0, one.stderr
    assert f"erased user {ALICE} in server {GUILD}: 1 membership, 1 pass" in one.stdout
    assert "1 correction they made" in one.stdout

    async def naming() -> list[tuple[str, tuple[Any, ...]]]:
        async with await Store.open(path) as store:
            return await rows_naming(store.db, ALICE)

    left = asyncio.run(naming())
    assert left and all(OTHER_GUILD in row and GUILD not in row for _, row in left)
    everywhere = run_cli(tmp_path, "db", "erase", "--user", str(ALICE))
    assert everywhere.returncode == 0 and "in every server" in everywhere.stdout
    assert asyncio.run(naming()) == []
    assert run_cli(tmp_path, "db", "check").returncode == 0
    again = run_cli(tmp_path, "db", "erase", "--user", str(ALICE))
    assert again.returncode == 0 and "nothing is stored about user" in again.stdout


def test_db_erase_takes_the_name_out_of_each_servers_stored_check_ins(tmp_path: Path) -> None:
    """The name kept for Alice differs by server; each server's check-in loses the one it drew:
    in words, and the picture (a sent one's stored copy, or one still to be sent)."""
    path = tmp_path / "db.sqlite3"
    names = {GUILD: "Alice", OTHER_GUILD: "Ally"}

    async def make() -> None:
        async with await Store.open(path) as store:
            study = Study(store, default_curriculum())
            for guild, name in names.items():
                await study.join(guild, ALICE, NOW, name=name)
                await study.join(guild, BOB, NOW, name="Bob")
                members = (MemberHours(name, 1.0), MemberHours("Bob", 0.5))
                chart = render_checkin_chart(CheckinChart("Check-in", (), members))
                head = Outgoing(
                    embeds=({"title": "Check-in", "image": {"url": "attachment://checkin.png"}},),
                    file=Upload("checkin.png", chart.png, chart.alt),
                )
                key = (guild, "checkin", "2026-03-01")
                await store.posts.reserve(
                    key, Composed(head), nonce=f"n{guild}", due_at=NOW, now=NOW, next_try_at=NOW
                )
            # The first server's went out; the other's waits.
            await store.posts.part_sent((GUILD, "checkin", "2026-03-01"), 1, 7, 8, NOW)

    async def stored() -> dict[int, tuple[str, dict[str, Any], bytes | None]]:
        async with await Store.open(path) as store:
            rows = await store.db.rows("SELECT guild_id, state, body, file FROM post_parts")
        return {guild: (state, json.loads(body), file) for guild, state, body, file in rows}

    asyncio.run(make())
    before = asyncio.run(stored())
    assert all(f"Hours: {names[guild]} 1 h" in str(part[1]) for guild, part in before.items())
    erased = run_cli(tmp_path, "db", "erase", "--user", str(ALICE))
    assert erased.returncode == 0, erased.stderr
    after = asyncio.run(stored())
    assert not any(name in str(after) for name in names.values())
    state, sent, picture = after[GUILD]
    assert state == "sent" and picture is None
    assert sent["file"]["description"].endswith("Hours: someone 1 h, Bob 0.5 h.")
    state, waiting, picture = after[OTHER_GUILD]
    assert state == "pending" and picture is None
    assert "file" not in waiting and waiting["embeds"] == [{"title": "Check-in"}]
