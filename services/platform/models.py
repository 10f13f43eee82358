"""Slack platform state: event de-duplication and the OAuth installation and state stores."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlmodel import Field, SQLModel

from services.db import UTCDateTime, utcnow


class SlackEvent(SQLModel, table=True):
    """An event or interaction already handled, so Slack's retries are handled once."""

    __tablename__ = "slack_event"
    event_id: str = Field(primary_key=True, max_length=200)
    team_id: str | None = Field(default=None, max_length=32)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


# slack_sdk's own table shapes, on our metadata so Alembic creates and checks them.
slack_bots = SQLAlchemyInstallationStore.build_bots_table(SQLModel.metadata, "slack_bots")
slack_installations = SQLAlchemyInstallationStore.build_installations_table(
    SQLModel.metadata, "slack_installations"
)
slack_oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    SQLModel.metadata, "slack_oauth_states"
)
