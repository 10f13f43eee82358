"""Coachbot settings: one class, read from the environment, validated at start-up."""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "secret",
        "placeholder",
        "xoxb-your-token",
        "your-secret",
        "sk-your-key",
        "test",
        "dummy",
        "xxx",
    }
)


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    """Every knob Coachbot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    env: Environment = Field(Environment.development, alias="COACHBOT_ENV")
    database_url: str = Field("sqlite+aiosqlite:///./coachbot.db", alias="COACHBOT_DATABASE_URL")
    database_pool_size: int = Field(10, alias="COACHBOT_DATABASE_POOL_SIZE", ge=1, le=200)
    max_body_bytes: int = Field(1_000_000, alias="COACHBOT_MAX_BODY_BYTES", ge=1024)

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, alias="SLACK_CLIENT_SECRET")
    slack_api_url: str = Field("https://slack.com/api/", alias="COACHBOT_SLACK_API_URL")

    slack_rate_per_second: float = Field(5.0, alias="COACHBOT_SLACK_RATE_PER_SECOND", gt=0)
    slack_burst: int = Field(10, alias="COACHBOT_SLACK_BURST", ge=1)
    slack_channel_interval: float = Field(1.0, alias="COACHBOT_SLACK_CHANNEL_INTERVAL", ge=0)
    slack_timeout_seconds: float = Field(10.0, alias="COACHBOT_SLACK_TIMEOUT_SECONDS", gt=0)
    delivery_concurrency: int = Field(50, alias="COACHBOT_DELIVERY_CONCURRENCY", ge=1)
    # None: run the scheduler and delivery inside `serve` only on SQLite (one process).
    in_process_worker: bool | None = Field(None, alias="COACHBOT_IN_PROCESS_WORKER")

    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY")
    llm_model: str = Field("gpt-4o-mini", alias="COACHBOT_LLM_MODEL")
    # Model requests in flight at once (the nudge sweep's drafter); what the server allows.
    llm_concurrency: int = Field(4, alias="COACHBOT_LLM_CONCURRENCY", ge=1, le=256)

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if not self.slack_api_url.endswith("/"):
            # slack_sdk joins method names onto this URL; without the slash it drops a segment.
            self.slack_api_url += "/"
        if self.env is Environment.development:
            return self
        named = {
            "SLACK_BOT_TOKEN": self.slack_bot_token,
            "SLACK_SIGNING_SECRET": self.slack_signing_secret,
            "SLACK_APP_TOKEN": self.slack_app_token,
            "SLACK_CLIENT_SECRET": self.slack_client_secret,
            "OPENAI_API_KEY": self.openai_api_key,
        }
        bad = [
            name
            for name, value in named.items()
            if value is not None and value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
        ]
        if bad:
            raise ValueError(
                f"placeholder secrets are refused outside development: {', '.join(bad)}"
            )
        return self

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def runs_worker_in_process(self) -> bool:
        return self.is_sqlite if self.in_process_worker is None else self.in_process_worker

    @property
    def llm_configured(self) -> bool:
        return self.openai_base_url is not None or self.openai_api_key is not None
