"""Broadcasts from program owners to a cohort, and the answers to broadcast questions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.db import UTCDateTime, utcnow


class Audience(StrEnum):
    leaders = "leaders"
    coaches = "coaches"
    everyone = "everyone"


class BroadcastStatus(StrEnum):
    scheduled = "scheduled"
    sending = "sending"
    sent = "sent"
    cancelled = "cancelled"


class Broadcast(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    audience: Audience = Field(sa_type=String(20))
    text: str = Field(sa_type=Text)
    question: str | None = Field(default=None, sa_type=Text)
    send_at: datetime = Field(sa_type=UTCDateTime)
    status: BroadcastStatus = Field(default=BroadcastStatus.scheduled, sa_type=String(20))
    recipients: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    fanned_out_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BroadcastAnswer(SQLModel, table=True):
    __tablename__ = "broadcast_answer"
    __table_args__ = (UniqueConstraint("broadcast_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    answer: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
