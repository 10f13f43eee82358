"""Settings validation and the database layer's guarantees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from services.config import Settings
from tests.factories.people import make_workspace


def test_defaults_run_on_sqlite_offline() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite+aiosqlite:///./coachbot.db"
    assert settings.is_sqlite and not settings.llm_configured


@pytest.mark.parametrize("secret", ["changeme", "xoxb-your-token", " secret "])
def test_placeholder_secrets_are_refused_outside_development(secret: str) -> None:
    with pytest.raises(ValidationError, match="SLACK_SIGNING_SECRET"):
        Settings(COACHBOT_ENV="production", SLACK_SIGNING_SECRET=secret)  # type: ignore[call-arg]
    # Development accepts them, so a first run needs no real secrets.
    Settings(COACHBOT_ENV="development", SLACK_SIGNING_SECRET=secret)  # type: ignore[call-arg]


def test_secrets_never_print() -> None:
    settings = Settings(SLACK_BOT_TOKEN="xoxb-123-real")  # type: ignore[call-arg]
    assert "xoxb-123-real" not in repr(settings)


def test_slack_api_url_gets_its_trailing_slash() -> None:
    settings = Settings(COACHBOT_SLACK_API_URL="http://127.0.0.1:9/api")  # type: ignore[call-arg]
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"


async def test_times_keep_their_zone_through_the_database(session: AsyncSession) -> None:
    kathmandu = timezone(timedelta(hours=5, minutes=45))
    workspace = await make_workspace(session)
    workspace.created_at = datetime(2026, 3, 29, 6, 45, tzinfo=kathmandu)
    await session.commit()
    session.expire_all()
    await session.refresh(workspace)
    assert workspace.created_at == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert workspace.created_at.tzinfo is not None


async def test_naive_times_are_refused(session: AsyncSession) -> None:
    workspace = await make_workspace(session)
    workspace.created_at = datetime(2026, 1, 1, 12, 0)
    with pytest.raises(Exception, match="naive datetime"):
        await session.flush()
    await session.rollback()


async def test_connection_settings_per_backend(engine: AsyncEngine) -> None:
    """SQLite: WAL, foreign keys, busy timeout. PostgreSQL: timestamps stored with their zone."""
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            kind = await connection.execute(
                text(
                    "SELECT data_type FROM information_schema.columns "
                    "WHERE table_name = 'goal' AND column_name = 'created_at'"
                )
            )
            assert kind.scalar() == "timestamp with time zone"
            return
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
