"""OAuth install for several workspaces: slack_sdk's SQLAlchemy stores in our database."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from logging import Logger, getLogger
from uuid import uuid4

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import and_, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.config import Settings
from services.platform.models import slack_oauth_states

SCOPES = (
    "chat:write",
    "commands",
    "files:write",
    "im:write",
    "im:history",
    "mpim:write",
    "mpim:history",
    "users:read",
    "users:read.email",
)
STATE_EXPIRATION_SECONDS = 600


class DatabaseOAuthStateStore(AsyncOAuthStateStore):
    """slack_sdk's oauth-state table, used through our async engine (one-time states)."""

    def __init__(self, *, engine: AsyncEngine, expiration_seconds: int = STATE_EXPIRATION_SECONDS):
        self.engine = engine
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> Logger:
        return getLogger("coachbot.oauth")

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        state = uuid4().hex
        expire_at = time.time() + self.expiration_seconds
        async with self.engine.begin() as connection:
            await connection.execute(
                insert(slack_oauth_states).values(state=state, expire_at=_as_datetime(expire_at))
            )
        return state

    async def async_consume(self, state: str) -> bool:
        now = _as_datetime(time.time())
        async with self.engine.begin() as connection:
            row = (
                await connection.execute(
                    select(slack_oauth_states.c.id).where(
                        and_(
                            slack_oauth_states.c.state == state,
                            slack_oauth_states.c.expire_at > now,
                        )
                    )
                )
            ).first()
            await connection.execute(
                delete(slack_oauth_states).where(slack_oauth_states.c.state == state)
            )
        return row is not None


def _as_datetime(seconds: float) -> datetime:
    # slack_sdk's table stores naive UTC.
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def oauth_settings(settings: Settings, engine: AsyncEngine) -> AsyncOAuthSettings:
    """OAuth settings for multi-workspace installs, storing everything in our database."""
    assert settings.slack_client_id and settings.slack_client_secret
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(SCOPES),
        installation_store=AsyncSQLAlchemyInstallationStore(
            client_id=settings.slack_client_id, engine=engine
        ),
        state_store=DatabaseOAuthStateStore(engine=engine),
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
    )
