"""Settings from the environment and a `.env` file (see .env.example for every one).

The environment wins over the file. The file is `.env` in the current folder unless the command
line names one (`twopass --env-file PATH`); relative paths in it (`TWOPASS_DATABASE`) are
relative to the current folder too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot import urls, zones
from bot.sharding import check_shards, parse_shard_ids

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


def _redis_reads(url: str) -> bool:
    """Whether the Redis client reads `url` as the bot will hand it over (without connecting)."""
    from redis.asyncio import ConnectionPool  # only when a Redis is set

    try:
        ConnectionPool.from_url(url)
    except (ValueError, TypeError):
        return False
    return True


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_prefix="TWOPASS_",
        extra="ignore",
        # Never echo what was typed into a validation error: the token lives in the same file.
        hide_input_in_errors=True,
    )

    # The bot token is a secret: SecretStr keeps it out of reprs, logs and errors.
    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    # An SQLite file (a path, or sqlite:///path), or a postgresql:// URL (see bot/db/target.py).
    database: str = "data/twopass.sqlite3"
    log_level: LogLevel = "INFO"
    # A server to sync slash commands to instantly while developing (global sync can take a while).
    dev_guild_id: int | None = Field(default=None, gt=0)
    # Timezone for servers and members that have not chosen one.
    default_timezone: str = "UTC"
    # Requests per second the scheduled posts may make (Discord allows a bot 50 in all; the rest
    # is headroom for commands' follow-ups). Lower it if the bot shares its token with other
    # processes.
    post_rate: float = Field(default=48.0, gt=0, le=50)  # as bot.posts.throttle.DEFAULT_RATE
    # Redis shared by every process of the bot ("redis://host:6379/0"), so that together they
    # keep to `post_rate`; empty: each process posts at its shards' share of it. A URL may
    # carry a password, hence secret.
    redis_url: SecretStr | None = None
    # Another roadmap file of the same shape (`twopass curriculum check` it first); empty means
    # the bundled one. Video ids already logged must stay in it.
    curriculum: Path | None = None
    # Shards: unset, the bot runs as many as Discord recommends (one per 1,000 servers; Discord
    # refuses more than 2,500 servers on one). Set the count to fix it, and the ids ("0-3" or
    # "0,2") to run only some shards in this process (the others elsewhere, same count).
    shard_count: int | None = Field(default=None, gt=0)
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None

    # A folder of more roadmap files (`*.toml`, each with its own `id`) that admins can choose
    # from with `/setup roadmap`; the bundled ones are always offered.
    roadmaps: Path | None = None

    @field_validator("discord_token", mode="before")
    @classmethod
    def _blank_is_missing(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database", mode="before")
    @classmethod
    def _path_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, Path) else value

    @field_validator(
        "dev_guild_id", "curriculum", "roadmaps", "shard_count", "redis_url", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_shard_ids(value) if value.strip() else None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        # The messages never quote the URL: it may carry a password.
        if value is None:
            return value
        url = value.get_secret_value()
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix:// (or be empty)")
        if not urls.port_readable(url) or not _redis_reads(url):
            raise ValueError(
                "cannot be read as a Redis URL: write it as redis://:password@host:6379/0 (a "
                "port from 0 to 65535, query values Redis takes), with any / ? # @ : % in the "
                "password percent-encoded (/ as %2F)"
            )
        return value

    @model_validator(mode="after")
    def _shards_fit(self) -> Self:
        check_shards(self.shard_ids, self.shard_count)
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        # The same rules as a member's /join: `Berlin` becomes Europe/Berlin; folders such as
        # `America`, host keys such as `localtime` and fixed offsets such as `EST` are refused
        # with the sentence saying why (ValueError: pydantic reports it, with no traceback).
        try:
            return zones.resolve_timezone(value)
        except zones.BadTimezone as refused:
            raise ValueError(refused.message.replace("`", "'")) from None
