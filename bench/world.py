"""The local Discord of the test suite, wrapped for measuring (localdiscord/ is not changed).

* Guilds, channels and members get the ids of the generated database, so an interaction from
  the emulator lands on a member with a year of history.
* Each INTERACTION_CREATE is time-stamped when the emulator hands its frame to the socket
  writer, and each interaction callback when its request reaches the emulator (the
  `RequestRecord.at` the emulator takes itself), both on `time.monotonic()`.
* Waiting for an answer is a future per interaction instead of the suite's polling, so 100
  interactions in flight do not cost the shared event loop 100 wake-ups per event.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from bench.config import IDENTIFY_INTERVAL
from localdiscord import Channel, Guild, LocalDiscord, Member, RequestRecord
from localdiscord.interactions import InteractionRecord

CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"


class ChosenIds:
    """Stands in for the world's snowflake source: hands out queued ids first."""

    def __init__(self, fallback: Any) -> None:
        self.fallback = fallback
        self.queue: deque[int] = deque()

    def next(self) -> int:
        return self.queue.popleft() if self.queue else int(self.fallback.next())

    def next_guild(self) -> int:
        return self.queue.popleft() if self.queue else int(self.fallback.next_guild())


class _RequestLog(list[RequestRecord]):
    """The emulator's request log, telling us when an interaction callback arrives."""

    def __init__(self, on_callback: Callable[[RequestRecord], None]) -> None:
        super().__init__()
        self._on_callback = on_callback

    def append(self, record: RequestRecord) -> None:
        super().append(record)
        if record.template == CALLBACK:
            self._on_callback(record)


class BenchDiscord(LocalDiscord):
    def __init__(self, **options: Any) -> None:
        options.setdefault("identify_interval", IDENTIFY_INTERVAL)
        super().__init__(**options)
        self.ids = ChosenIds(self.world.ids)
        self.world.ids = self.ids  # type: ignore[assignment]
        self.requests = _RequestLog(self._callback_arrived)
        self.dispatched_at: dict[int, float] = {}
        self.callback_at: dict[int, float] = {}
        self._waiters: dict[int, tuple[InteractionRecord, asyncio.Future[None]]] = {}
        self._arrived: set[int] = set()
        self.identify_seconds: list[float] = []
        dispatch = self.gateway.dispatch

        def timed_dispatch(event: str, data: Any) -> None:
            dispatch(event, data)
            if event == "INTERACTION_CREATE":
                self.dispatched_at[int(data["id"])] = time.monotonic()

        self.gateway.dispatch = timed_dispatch  # type: ignore[method-assign]
        identify = self.gateway._identify

        async def timed_identify(conn: Any, data: Any) -> None:
            started = time.perf_counter()
            await identify(conn, data)
            self.identify_seconds.append(time.perf_counter() - started)

        self.gateway._identify = timed_identify  # type: ignore[method-assign]

    # ---- world with chosen ids ---------------------------------------------------------

    def add_study_server(self, guild_id: int, channel_id: int, name: str) -> tuple[Guild, Channel]:
        self.ids.queue.append(guild_id)
        guild = self.add_guild(name)
        self.ids.queue.append(channel_id)
        channel = guild.add_text_channel("study")
        assert (guild.id, channel.id) == (guild_id, channel_id)
        return guild, channel

    def add_member_with_id(self, guild: Guild, user_id: int) -> Member:
        self.ids.queue.append(user_id)
        member = guild.add_member(f"m{user_id % 1_000_000}")
        assert member.id == user_id
        return member

    # ---- timing --------------------------------------------------------------------------

    def _callback_arrived(self, record: RequestRecord) -> None:
        interaction_id = int(record.path.split("/interactions/")[1].split("/")[0])
        self.callback_at.setdefault(interaction_id, record.at)
        if interaction_id in self._waiters:
            self._arrived.add(interaction_id)

    def notify(self) -> None:
        super().notify()
        # The emulator notifies once it has handled a request: answered interactions settle.
        for interaction_id in list(self._arrived):
            record, waiter = self._waiters[interaction_id]
            if record.settled:
                self._arrived.discard(interaction_id)
                del self._waiters[interaction_id]
                if not waiter.done():
                    waiter.set_result(None)

    async def _settle(self, record: InteractionRecord, what: str) -> None:
        if record.settled:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters[record.id] = (record, waiter)
        if record.id in self.callback_at:
            self._arrived.add(record.id)
        try:
            await asyncio.wait_for(waiter, self.timeout)
        except TimeoutError:
            self._waiters.pop(record.id, None)
            self._arrived.discard(record.id)
            await super()._settle(record, what)  # raises, naming the problems

    def latency(self, interaction_id: int) -> float | None:
        sent = self.dispatched_at.get(interaction_id)
        answered = self.callback_at.get(interaction_id)
        if sent is None or answered is None:
            return None
        return answered - sent
