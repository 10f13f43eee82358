"""Broadcasts from program owners to a cohort, and the answers to broadcast questions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.db import InputModel, RowId, UTCDateTime, utcnow


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


# --- API shapes (not tables) -------------------------------------------------------------

# Slack's plain-text input holds at most 3,000 characters, and so does one section block:
# a broadcast composed in the API can always be composed in the modal too, and vice versa.
MAX_TEXT_CHARS = 3000
MAX_QUESTION_CHARS = 300
MAX_ANSWER_CHARS = 1000


class BroadcastCreate(InputModel):
    """A broadcast to one cohort: now, or at `send_at` (an aware time; the modal uses the
    cohort's timezone)."""

    cohort_id: RowId
    audience: Audience
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    question: str | None = Field(default=None, min_length=1, max_length=MAX_QUESTION_CHARS)
    send_at: datetime | None = None

    @field_validator("text", "question")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value.strip() if value is not None else None

    @field_validator("send_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("send_at needs a timezone offset, e.g. 2030-01-31T09:00:00+01:00")
        return value


class DeliveryCounts(SQLModel):
    """Where the broadcast's messages are: waiting or retrying, in Slack, given up, cancelled."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    cancelled: int = 0


class BroadcastPublic(SQLModel):
    """A broadcast with its live status: lifecycle, message counts and answers."""

    id: int
    cohort_id: int
    author_id: int | None
    audience: Audience
    text: str
    question: str | None
    send_at: datetime
    status: BroadcastStatus
    recipients: int
    deliveries: DeliveryCounts
    answered: int
    created_at: datetime
    fanned_out_at: datetime | None
    cancelled_at: datetime | None


class AnswerCreate(InputModel):
    """A recipient's answer to a broadcast question."""

    answer: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)

    @field_validator("answer")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class AnswerBucket(SQLModel):
    """One answer given, word for word after normalising, by at least k recipients."""

    answer: str
    count: int


class AnswerSummary(SQLModel):
    """Answers as counts only: no answer text unless at least k people gave the same one."""

    broadcast_id: int
    question: str | None
    k_anonymity_min: int
    recipients: int
    answered: int
    response_rate: float | None
    common_answers: list[AnswerBucket]
    other_answers: int | None
