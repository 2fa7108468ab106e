"""Check-in windows tile time: the rule on its own, then months of a simulated server through the
real bot and the local Discord, with random manual check-ins, pace and timezone changes."""

from __future__ import annotations

import random
import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserError
from bot.learners import plan
from bot.posts.checkin import next_window
from bot.posts.publisher import Outcome, Status
from bot.posts.schedule import PostKind, last_due
from bot.server.rules import SetupChange
from curriculum import default_curriculum
from localdiscord import LocalDiscord
from localdiscord.model import Message
from tests.conftest import SteppedClock, make_bot
from tests.tables import Store, Study

ROADMAP = default_curriculum()
D = date


def test_a_window_runs_from_the_day_after_the_last_one_to_yesterday() -> None:
    assert next_window(D(2026, 3, 1), D(2026, 1, 5), D(2026, 3, 8)) == (
        D(2026, 3, 2),
        D(2026, 3, 7),
    )
    # The first one covers from the cohort's start; on its first day, that day.
    assert next_window(None, D(2026, 3, 2), D(2026, 3, 4)) == (D(2026, 3, 2), D(2026, 3, 3))
    assert next_window(None, D(2026, 3, 4), D(2026, 3, 4)) == (D(2026, 3, 4), D(2026, 3, 4))
    # Nothing new to cover: already covered to yesterday, or the cohort has not started.
    assert next_window(D(2026, 3, 7), D(2026, 1, 5), D(2026, 3, 8)) is None
    assert next_window(D(2026, 3, 4), D(2026, 3, 4), D(2026, 3, 5)) is None
    assert next_window(None, D(2026, 3, 9), D(2026, 3, 4)) is None


ZONES = ("Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo", "UTC", "Pacific/Auckland")
NUMBERS = re.compile(
    r"\*\*(\d+) pass(?:es)?\*\* logged, \*\*([\d.]+) h\*\* of study, "
    r"\*\*(\d+) of (\d+) members?\*\* active"
)
MEMBER_LINE = re.compile(r"^<@(\d+)> - (\d+) pass(?:es)?, ", re.MULTILINE)


def parse(head: Message, rest: list[Message]) -> tuple[int, float, int, dict[int, int]]:
    found = NUMBERS.search(head.embeds[0]["description"])
    assert found is not None, head.embeds[0]["description"]
    lines = " ".join(
        str(e.get("description", "")) for m in rest for e in m.embeds if "Member by" in e["title"]
    )
    per_member = {int(u): int(n) for u, n in MEMBER_LINE.findall(lines.replace(" <@", "\n<@"))}
    return int(found[1]), float(found[2]), int(found[3]), per_member


async def recomputed(
    store: Store, guild_id: int, first: date, last: date
) -> tuple[int, float, int, dict[int, int]]:
    rows = await store.db.rows(
        "SELECT p.user_id, count(*), sum(p.minutes) FROM passes AS p JOIN members AS m"
        " ON m.guild_id = p.guild_id AND m.user_id = p.user_id AND m.active = 1"
        " WHERE p.guild_id = ? AND p.study_date BETWEEN ? AND ? GROUP BY p.user_id",
        (guild_id, first.isoformat(), last.isoformat()),
    )
    minutes = sum(r[2] for r in rows)
    return sum(r[1] for r in rows), round(minutes / 60, 1), len(rows), {r[0]: r[1] for r in rows}


@pytest.mark.parametrize("seed", [1])
async def test_months_of_check_ins_tile_the_days_and_match_the_passes_table(
    database_url: str, seed: int
) -> None:
    rng = random.Random(seed)
    start = D(2026, 1, 5)
    async with LocalDiscord() as local, await Store.open(database_url) as store:
        guild = local.add_guild("Study Hall")
        channel = guild.add_text_channel("study")
        clock = SteppedClock(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
        bot = make_bot(store, clock)
        study = Study(store, ROADMAP, "UTC")
        async with local.running(bot):
            bot.posts.scheduler.pause()
            servers, publisher = bot.servers, bot.posts.publisher
            await servers.setup(
                guild.id,
                SetupChange(channel_id=channel.id, timezone="Europe/Berlin", daily_enabled=False),
                clock(),
            )
            steps = plan.steps(ROADMAP)
            progress: dict[int, int] = defaultdict(int)
            members = list(range(1, 6))
            for user in members:
                await study.join(guild.id, user, clock(), timezone=rng.choice(ZONES))
            checked: list[tuple[date, date]] = []

            async def verify(outcome: Outcome) -> None:
                record = outcome.record
                assert record is not None and record.window_start and record.window_end
                assert record.state == "posted"
                messages = local.channel_messages(channel)
                head = next(m for m in messages if m.id == record.message_id)
                thread = local.world.channels.get(head.id)
                rest = local.channel_messages(thread) if thread is not None else []
                assert parse(head, rest) == await recomputed(
                    store, guild.id, record.window_start, record.window_end
                )
                checked.append((record.window_start, record.window_end))

            for day in range(100):
                today = start + timedelta(days=day)
                if rng.random() < 0.03:  # the server moves to another timezone
                    clock.now = datetime.combine(today, time(0), UTC)
                    change = SetupChange(timezone=rng.choice(ZONES))
                    await servers.setup(guild.id, change, clock())
                settings = await servers.stored(guild.id)
                assert settings is not None
                zone = ZoneInfo(settings.timezone)
                events: list[tuple[datetime, str, int]] = []
                for user in members:
                    if rng.random() < 0.35:
                        at = datetime.combine(today, time(rng.randrange(24), rng.randrange(60)))
                        events.append((at.replace(tzinfo=UTC), "log", user))
                    if rng.random() < 0.04:
                        events.append((datetime.combine(today, time(7), UTC), "move", user))
                    if rng.random() < 0.04:
                        events.append((datetime.combine(today, time(7), UTC), "pace", user))
                if rng.random() < 0.1:
                    at = datetime.combine(today, time(rng.randrange(24)), zone)
                    events.append((at.astimezone(UTC), "manual", 0))
                scheduled = last_due(
                    settings,
                    PostKind.CHECKIN,
                    datetime.combine(today + timedelta(days=1), time(), zone),
                )
                if scheduled.date() == today:
                    events.append((scheduled.astimezone(UTC), "scheduled", 0))
                for at, what, user in sorted(events):
                    clock.now = at
                    if what == "log" and progress[user] < len(steps):
                        step = steps[progress[user]]
                        await study.log(guild.id, user, step.video.id, step.which, at)
                        progress[user] += 1
                    elif what == "move":
                        await study.join(guild.id, user, at, timezone=rng.choice(ZONES))
                    elif what == "pace":
                        await study.join(guild.id, user, at, pace_hours=rng.choice((2.0, 5.0, 9.0)))
                    elif what == "manual":
                        try:
                            outcome = await publisher.post_now(guild.id, PostKind.CHECKIN)
                        except UserError:
                            continue
                        if outcome.status is Status.POSTED:
                            await verify(outcome)
                    elif what == "scheduled":
                        outcome = await publisher.fire(guild.id, PostKind.CHECKIN)
                        assert outcome.status in (Status.POSTED, Status.ALREADY_POSTED)
                        if outcome.status is Status.POSTED:
                            await verify(outcome)
            await bot.posts.wait_idle()

    assert len(checked) >= 14
    # Disjoint, and together every day from the cohort's start to the last check-in's end.
    days = [
        first + timedelta(days=n) for first, last in checked for n in range((last - first).days + 1)
    ]
    assert len(days) == len(set(days))
    assert sorted(days) == [start + timedelta(days=n) for n in range(len(days))]
