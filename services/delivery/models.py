"""The delivery outbox: every proactive Slack message is a row here before it is sent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlmodel import Field, SQLModel

from services.db import UTCDateTime, utcnow


class DeliveryState(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"  # a retryable failure; it goes back to pending at next_attempt_at
    dead = "dead"  # gave up: out of attempts, or Slack said it can never succeed
    cancelled = "cancelled"


class Delivery(SQLModel, table=True):
    """One intent to send (e.g. `{"kind": "checkin_invite", "checkin_id": 42}`) to one place."""

    __table_args__ = (Index("ix_delivery_due", "state", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    delivery_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=50)
    intent: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    member_id: int | None = Field(
        default=None, foreign_key="member.id", index=True, ondelete="CASCADE"
    )
    channel: str | None = Field(default=None, max_length=50)
    # The delivery_key of the message this one replies to: it is posted in that message's
    # thread, and only once that message has been sent.
    thread_key: str | None = Field(default=None, max_length=200)
    state: DeliveryState = Field(default=DeliveryState.pending, sa_type=String(20))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=100)
    last_error: str | None = Field(default=None, sa_type=Text)
    slack_channel: str | None = Field(default=None, max_length=50)
    slack_ts: str | None = Field(default=None, max_length=50)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
