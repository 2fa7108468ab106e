"""The scheduled check-in end to end: the real bot starts against the local Discord, catches up
the check-in that fell due while it was down, and every request is checked against Discord's spec."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from emulator import LocalDiscord

from bot.app import TwopassBot
from bot.settings import Settings
from bot.store import GuildSettings, Store

DUE = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # a Monday, 18:00 UTC


async def test_missed_check_in_appears_in_the_channel_once(tmp_path: Path) -> None:
    async with LocalDiscord() as local, await Store.open(tmp_path / "bot.sqlite3") as store:
        guild = local.add_guild("Study Hall")
        channel = guild.add_text_channel("study")
        await store.save_guild_settings(
            GuildSettings(
                guild_id=guild.id,
                study_channel_id=channel.id,
                timezone="UTC",
                checkin_weekday=0,
                checkin_time=time(18, 0),
                daily_time=time(9, 0),
                daily_enabled=False,
                checkin_enabled=True,
                curriculum_id="ml-engineer",
                cohort_start=DUE.date(),
                default_pace=5.0,
            ),
            DUE,
        )
        for _ in range(2):  # a restart must not post it again
            bot = TwopassBot(
                settings=Settings(_env_file=None),  # type: ignore[call-arg]
                store=store,
                clock=lambda: DUE + timedelta(hours=1),
                guild_ready_timeout=0.05,
            )
            async with local.running(bot):
                await bot.posts.wait_idle()
        heads = [m for m in local.channel_messages(channel) if "Weekly check-in" in str(m.embeds)]
        assert len(heads) == 1
        record = await store.post_record(guild.id, "checkin", "2026-W10")
        assert record is not None and record.done and record.message_id == heads[0].id
