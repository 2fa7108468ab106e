from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from bot.store import Store

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "twopass.sqlite3"


@pytest_asyncio.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    """A real SQLite database in a temporary folder, migrated to the latest schema."""
    async with await Store.open(db_path) as opened:
        yield opened
