"""Play a multi-week story through the local Discord and write what the bot says, as text.

    python -m tools.transcript docs/transcript.txt            # 3 weeks, 4 people + 30 members
    python -m tools.transcript - --weeks 1 --members 6        # a short one, to stdout

The real bot (every cog, the real database in a temporary folder) answers slash commands from
the local Discord; a stepped clock and a fixed seed make the text the same on every run. Each
entry shows who typed what, and what they saw: "(only ana sees)" marks a private answer.
Scheduled posts are published at their times in the story (the scheduler's own timer is paused:
it runs on the wall clock), so the daily video and the Monday check-ins are in it too.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import TwopassBot
from bot.db import Database
from bot.learners import plan
from bot.posts.messages import visible
from bot.posts.schedule import PostKind
from bot.settings import Settings
from localdiscord import Channel, LocalDiscord, Member
from localdiscord.interactions import Reply

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # a Monday
MENTION = re.compile(r"<@!?(\d+)>")
CHANNEL = re.compile(r"<#(\d+)>")
STAMP = re.compile(r"<t:(\d+):[a-zA-Z]>")
JUMP = re.compile(r"https://discord\.com/channels/[\d/@me]+")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Story:
    def __init__(self, local: LocalDiscord, bot: TwopassBot, clock: Clock, channel: Channel):
        self.local = local
        self.bot = bot
        self.clock = clock
        self.channel = channel
        self.names: dict[int, str] = {}
        self.lines: list[str] = []
        self.seen_messages: set[int] = set()

    # --- writing -------------------------------------------------------------------------

    def readable(self, text: str) -> str:
        text = visible(text)  # the posts' invisible marks
        text = MENTION.sub(lambda m: "@" + self.names.get(int(m[1]), "someone"), text)
        text = CHANNEL.sub("#study", text)
        text = JUMP.sub("[link to the message]", text)
        return STAMP.sub(
            lambda m: datetime.fromtimestamp(int(m[1]), UTC).strftime("%d %b %H:%M UTC"), text
        )

    def body(self, content: str, embeds: list[dict[str, Any]]) -> list[str]:
        out = [content] if content else []
        for embed in embeds:
            out += [f"**{embed['title']}**"] if embed.get("title") else []
            out += [embed["description"]] if embed.get("description") else []
            out += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
            footer = visible((embed.get("footer") or {}).get("text", ""))
            out += [f"({footer})"] if footer else []
        return [line for part in out for line in self.readable(part).split("\n")]

    def write(self, header: str, lines: list[str]) -> None:
        self.lines.append(header)
        self.lines += [f"      {line}" if line else "" for line in lines]

    def day(self) -> None:
        self.lines += ["", f"=== {self.clock.now:%A %-d %B %Y} ===", ""]

    # --- acting --------------------------------------------------------------------------

    async def slash(self, who: Member, command: str, **options: Any) -> Reply:
        shown = " ".join(
            f"{k.rstrip('_')}:{self.readable(str(getattr(v, 'mention', v)))}"
            for k, v in options.items()
        )
        reply = await self.local.slash(who, command, channel=self.channel, **options)
        private = f"(only {who.name} sees)" if reply.ephemeral else "(in #study)"
        self.write(
            f"{self.clock.now:%H:%M} {who.name} › /{command} {shown}".rstrip(),
            [private, *self.body(reply.content, reply.embeds)],
        )
        if reply.message is not None:
            self.seen_messages.add(reply.message.id)
        return reply

    async def publish(self, kind: PostKind) -> None:
        await self.bot.posts.publisher.post_now(self.channel.guild.id, kind)  # type: ignore[union-attr]
        self.posts()

    def posts(self) -> None:
        """Messages the bot posted on its own since the last look, with their threads."""
        for channel in (self.channel, *self.channel.threads):
            for message in channel.visible_messages():
                if message.id in self.seen_messages or message.interaction_metadata:
                    continue
                self.seen_messages.add(message.id)
                where = "#study" if channel is self.channel else f"thread '{channel.name}'"
                self.write(
                    f"{self.clock.now:%H:%M} twopass posts in {where}",
                    self.body(message.content, message.embeds),
                )

    def at(self, day: int, hour: int, minute: int = 0) -> None:
        self.clock.now = (START + timedelta(days=day)).replace(hour=hour, minute=minute)


async def next_step(bot: TwopassBot, guild_id: int, user_id: int) -> plan.Step | None:
    done = await bot.learners.done_passes(guild_id, user_id)
    return plan.next_step(bot.curriculum, done)


async def play(*, weeks: int = 3, members: int = 30, seed: int = 7) -> str:
    """The whole story as text."""
    rng = random.Random(seed)
    clock = Clock(START)
    with tempfile.TemporaryDirectory() as folder:
        async with LocalDiscord() as local, await Database.open(Path(folder) / "t.db") as db:
            guild = local.add_guild("Study Hall")
            channel = guild.add_text_channel("study")
            admin = guild.add_member("admin", admin=True)
            ana, ben, chloe, dev = (guild.add_member(n) for n in ("ana", "ben", "chloe", "dev"))
            crowd = [guild.add_member(f"member{n:02}") for n in range(1, members + 1)]
            bot = TwopassBot(
                settings=Settings(_env_file=None),  # type: ignore[call-arg]
                db=db,
                clock=clock,
                guild_ready_timeout=0.05,
            )
            async with local.running(bot):
                bot.posts.scheduler.pause()  # posts are published at the story's own times
                story = Story(local, bot, clock, channel)
                story.names = {m.id: m.name for m in (admin, ana, ben, chloe, dev, *crowd)}
                await tell(story, rng, weeks, admin, ana, ben, chloe, dev, crowd)
            return "\n".join(story.lines).strip() + "\n"


async def tell(
    s: Story,
    rng: random.Random,
    weeks: int,
    admin: Member,
    ana: Member,
    ben: Member,
    chloe: Member,
    dev: Member,
    crowd: list[Member],
) -> None:
    guild_id = s.channel.guild.id  # type: ignore[union-attr]
    s.at(0, 8)
    s.day()
    await s.slash(admin, "setup channel", channel_=s.channel, timezone="Berlin")
    await s.slash(ana, "join", hours_per_week=6.0, timezone="berlin")
    await s.slash(ben, "join", timezone="EST")
    await s.slash(ben, "join", hours_per_week=3.0, timezone="New York")
    await s.slash(chloe, "join", timezone="Tokyo", reminders=True)
    for member in crowd:
        await s.bot.learners.join(guild_id, member.id, s.clock.now, pace_hours=5.0)
    s.write(f"08:00 ({len(crowd)} more members join quietly)", [])
    await s.slash(ana, "today")

    async def study(member: Member, **extra: Any) -> None:
        step = await next_step(s.bot, guild_id, member.id)
        if step is not None:
            await s.slash(member, "done", video=step.video.id, pass_=step.which.label, **extra)

    moments: list[tuple[int, Callable[[], Any]]] = [
        (1, lambda: study(ana, note="The cost function is just an average. **Nice**.")),
        (1, lambda: study(chloe, note="[free nitro](https://evil.example) @everyone")),
        (2, lambda: s.slash(ben, "done", video="`gpt`", pass_="first")),
        (2, lambda: study(ben, link="https://a b")),
        (2, lambda: study(ben)),
        (3, lambda: s.slash(ana, "progress")),
        (4, lambda: s.slash(ben, "join", hours_per_week=5.0)),
        (
            5,
            lambda: s.slash(ana, "done", video="neural-network", pass_="second", date="2026-03-01"),
        ),
        (8, lambda: s.slash(dev, "join")),
        (8, lambda: s.slash(admin, "done", video="neural-network", pass_="first", member=dev)),
        (9, lambda: s.slash(ana, "undo", video="gradient-descent", pass_="second")),
        (10, lambda: s.slash(ana, "progress", share=True)),
        (11, lambda: s.slash(chloe, "leaderboard")),
        (12, lambda: s.slash(ben, "cohort")),
        (13, lambda: s.slash(dev, "leave")),
        (13, lambda: s.slash(dev, "leave")),
        (15, lambda: s.slash(chloe, "today")),
        (16, lambda: s.slash(ana, "roadmap")),
    ]
    for day in range(weeks * 7):
        if day:
            s.at(day, 8)
            s.day()
        s.at(day, 8)  # 09:00 in Berlin
        await s.publish(PostKind.DAILY)
        s.at(day, 10)
        for when, act in moments:
            if when == day:
                await act()
        # Ana studies nearly every day, reporting her second passes' minutes; Ben on weekdays.
        s.at(day, 18)
        if rng.random() < 0.9:
            step = await next_step(s.bot, guild_id, ana.id)
            minutes = (
                round(step.video.minutes * rng.uniform(2.4, 3.4))
                if step and step.which.value == 2
                else None
            )
            await study(ana, **({"minutes": minutes} if minutes else {}))
        if day % 7 < 5 and rng.random() < 0.6:
            await study(ben)
        if day % 7 in (5, 6):
            await study(chloe)
        for index, member in enumerate(crowd):
            if rng.random() < 0.35:
                s.at(day, 19, index % 60)
                await study(member)
        if day % 7 == 0 and day:
            s.at(day, 17)  # Monday 18:00 in Berlin
            await s.slash(admin, "checkin now")
            s.posts()
    s.at(weeks * 7, 17)
    s.day()
    await s.slash(admin, "checkin now")
    s.posts()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a story's transcript as text.")
    parser.add_argument("out", help="file to write, or - for stdout")
    parser.add_argument("--weeks", type=int, default=3)
    parser.add_argument("--members", type=int, default=30, help="members besides the four")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    text = asyncio.run(play(weeks=args.weeks, members=args.members, seed=args.seed))
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
