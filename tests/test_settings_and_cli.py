from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from tests.conftest import NOW
from tests.tables import Store

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.secret-part.do-not-leak"


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWOPASS_", "DISCORD_"))}
    env["TWOPASS_DATABASE"] = str(tmp_path / "db.sqlite3")
    env.update(extra)
    return env


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no .env there
        env=_clean_env(tmp_path, **env),
        check=False,
        timeout=60,
    )


def test_run_without_token_says_what_to_do(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "run")
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert ".env.example" in lines[0] and "DISCORD_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr


def test_blank_token_counts_as_missing(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "run", DISCORD_TOKEN="   ")
    assert result.returncode != 0 and "DISCORD_TOKEN is not set" in result.stderr


def test_token_read_from_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={TOKEN}\nTWOPASS_LOG_LEVEL=debug\n")
    settings = Settings()
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == TOKEN
    assert settings.log_level == "DEBUG"


def test_token_never_in_repr_str_or_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    settings = Settings()
    for text in (
        repr(settings),
        str(settings),
        str(settings.model_dump()),
        settings.model_dump_json(),
    ):
        assert TOKEN not in text
        assert "secret-part" not in text


def test_token_never_in_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("TWOPASS_DEFAULT_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("TWOPASS_DEV_GUILD_ID", TOKEN)  # pasted into the wrong setting
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)
    assert "Mars/Olympus" in str(caught.value) or "timezone" in str(caught.value)


def test_bad_setting_is_one_clear_line_without_the_token(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "run", DISCORD_TOKEN=TOKEN, TWOPASS_DEV_GUILD_ID=TOKEN)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "dev_guild_id" in result.stderr
    assert TOKEN not in result.stderr + result.stdout


def test_db_upgrade_then_backup(tmp_path: Path) -> None:
    first = run_cli(tmp_path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "schema version 0 ->" in first.stdout
    again = run_cli(tmp_path, "db", "upgrade")
    assert "already at schema version" in again.stdout
    backup = run_cli(tmp_path, "db", "backup", str(tmp_path / "copy.sqlite3"))
    assert backup.returncode == 0, backup.stderr
    assert (tmp_path / "copy.sqlite3").stat().st_size > 0
    refused = run_cli(tmp_path, "db", "backup", str(tmp_path / "copy.sqlite3"))
    assert refused.returncode == 2 and "already exists" in refused.stderr


@pytest.mark.parametrize("absolute", [True, False], ids=["sqlite:////abs", "sqlite:///rel"])
def test_db_backup_of_a_sqlite_url_copies_the_live_database(tmp_path: Path, absolute: bool) -> None:
    live = tmp_path / "live.sqlite3"
    url = f"sqlite:///{live}" if absolute else "sqlite:///live.sqlite3"

    async def one_member() -> None:
        async with await Store.open(live) as store:
            await store.join(100, 1_001, 5, "UTC", NOW)

    asyncio.run(one_member())
    copy = tmp_path / "copy.sqlite3"
    backup = run_cli(tmp_path, "db", "backup", str(copy), TWOPASS_DATABASE=url)
    assert backup.returncode == 0, backup.stderr
    opened = sqlite3.connect(copy)
    try:
        members = opened.execute("SELECT guild_id, user_id FROM members").fetchall()
    finally:
        opened.close()
    assert members == [(100, 1_001)]
    # Nothing was made from the URL's text taken as a path.
    assert not (tmp_path / "sqlite:").exists()
    named = live if absolute else Path("live.sqlite3")
    assert backup.stdout.strip() == f"backed up {named} to {copy}"
    missing = run_cli(
        tmp_path,
        "db",
        "backup",
        str(tmp_path / "other.sqlite3"),
        TWOPASS_DATABASE="sqlite:///gone.sqlite3",
    )
    assert missing.returncode == 2 and "no database at gone.sqlite3" in missing.stderr
    assert not (tmp_path / "other.sqlite3").exists()


def test_every_setting_is_documented_in_env_example() -> None:
    documented = {
        line.split("=", 1)[0]
        for line in Path(".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    fields = {
        (
            field.validation_alias
            if isinstance(field.validation_alias, str)
            else f"TWOPASS_{name.upper()}"
        )
        for name, field in Settings.model_fields.items()
    }
    assert documented == fields


def test_post_rate_stays_within_discords_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWOPASS_POST_RATE", "60")
    with pytest.raises(ValidationError, match="post_rate"):
        Settings()


def test_the_default_post_rate_is_the_throttles_and_leaves_room_for_follow_ups() -> None:
    from bot.posts.throttle import DEFAULT_RATE

    rate = Settings(_env_file=None).post_rate  # type: ignore[call-arg]
    assert rate == DEFAULT_RATE and rate < 50
