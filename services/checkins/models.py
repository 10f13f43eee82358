"""Check-ins: templates, schedules in each member's own timezone, occurrences and answers."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.db import UTCDateTime, utcnow


class QuestionKind(StrEnum):
    text = "text"
    scale = "scale"
    choice = "choice"
    goal_progress = "goal_progress"


class CheckinKind(StrEnum):
    checkin = "checkin"
    reflection = "reflection"


class CheckinStatus(StrEnum):
    pending = "pending"  # created, its invite not yet delivered
    sent = "sent"
    answered = "answered"
    skipped = "skipped"
    expired = "expired"
    dropped = "dropped"  # found stale after downtime: never sent


class CheckinTemplate(SQLModel, table=True):
    __tablename__ = "checkin_template"
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    cohort_id: int | None = Field(
        default=None, foreign_key="cohort.id", index=True, ondelete="CASCADE"
    )
    name: str = Field(max_length=200)
    # [{"id": "q1", "kind": "scale", "text": "...", "choices": [...], "required": true}]
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CheckinSchedule(SQLModel, table=True):
    __tablename__ = "checkin_schedule"
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    template_id: int | None = Field(
        default=None, foreign_key="checkin_template.id", ondelete="SET NULL"
    )
    kind: CheckinKind = Field(default=CheckinKind.checkin, sa_type=String(20))
    name: str = Field(max_length=200)
    weekdays: list[int] = Field(default_factory=list, sa_type=JSON)  # 0 = Monday
    local_time: time
    start_date: date
    end_date: date | None = None
    reminder_after_minutes: int | None = None
    max_reminders: int = 1
    expire_after_minutes: int = 24 * 60
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CohortHoliday(SQLModel, table=True):
    __tablename__ = "cohort_holiday"
    __table_args__ = (UniqueConstraint("cohort_id", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    day: date
    name: str | None = Field(default=None, max_length=200)


class Checkin(SQLModel, table=True):
    """One occurrence: a member × schedule × local date, created exactly once."""

    __table_args__ = (
        UniqueConstraint("member_id", "schedule_id", "local_date"),
        Index("ix_checkin_status_reminder", "status", "next_reminder_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    schedule_id: int = Field(foreign_key="checkin_schedule.id", index=True, ondelete="CASCADE")
    local_date: date
    due_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    status: CheckinStatus = Field(default=CheckinStatus.pending, sa_type=String(20))
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    prompt_id: str | None = Field(default=None, max_length=100)
    reminders_sent: int = 0
    next_reminder_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    snoozed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    late: bool = False
    slack_channel: str | None = Field(default=None, max_length=50)
    slack_ts: str | None = Field(default=None, max_length=50)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CheckinAnswer(SQLModel, table=True):
    __tablename__ = "checkin_answer"
    __table_args__ = (UniqueConstraint("checkin_id", "question_id"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    checkin_id: int = Field(foreign_key="checkin.id", index=True, ondelete="CASCADE")
    question_id: str = Field(max_length=100)
    kind: QuestionKind = Field(sa_type=String(20))
    text: str | None = Field(default=None, sa_type=Text)
    number: int | None = None
    milestone_id: int | None = Field(default=None, foreign_key="milestone.id", ondelete="SET NULL")
    visibility: str = Field(default="coach", max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReviewThread(SQLModel, table=True):
    """One thread per coach × leader where answered check-ins and replies are relayed."""

    __tablename__ = "review_thread"
    __table_args__ = (UniqueConstraint("coach_id", "leader_id"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    coach_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    leader_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    coach_channel: str | None = Field(default=None, max_length=50)
    coach_thread_ts: str | None = Field(default=None, max_length=50, index=True)
    leader_channel: str | None = Field(default=None, max_length=50)
    leader_thread_ts: str | None = Field(default=None, max_length=50, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
