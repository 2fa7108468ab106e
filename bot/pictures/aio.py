"""Rendering off the event loop: a picture takes tens of milliseconds of CPU."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# Two workers for two cores: a burst of renders queues here instead of taking the default
# executor that the loop's DNS lookups and other to_thread calls share.
WORKERS = 2

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="pictures")
        return _executor


async def render_in_thread(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run `fn(*args, **kwargs)` (a render function) in the pictures' thread pool and await it.

    `await render_in_thread(render_progress_card, card)` returns the Picture without blocking
    the event loop.
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool(), lambda: fn(*args, **kwargs))


def shutdown() -> None:
    """Stop the pool's threads (at the bot's close; a later render starts a new pool)."""
    global _executor
    with _lock:
        pool, _executor = _executor, None
    if pool is not None:
        pool.shutdown(wait=True)
