"""Check-ins: templates, schedules in each member's own timezone, occurrences and answers."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, Literal

from pydantic import field_validator, model_validator
from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.db import InputModel, IsoDate, LocalTime, RowId, UTCDateTime, utcnow
from services.plans.models import MilestoneStatus


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
    # No index of its own: the unique (member_id, schedule_id, local_date) serves lookups by
    # member, and one index entry fewer per occurrence makes the sweep's inserts cheaper.
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
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
    """One thread per coach × leader where answered check-ins and replies are relayed.

    Its messages are deliveries: the parent in each person's DM is the delivery keyed
    `review:<id>:coach` or `review:<id>:leader` (services.checkins.reviews.thread_key),
    and its Slack channel and ts are recorded there when it is sent."""

    __tablename__ = "review_thread"
    __table_args__ = (UniqueConstraint("coach_id", "leader_id"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    coach_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    leader_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- API and service shapes (not tables) ---------------------------------------------------

MAX_QUESTIONS = 20
MAX_CHOICES = 10
CHOICE_TEXT = 75
WEEK_MINUTES = 7 * 24 * 60
QUESTION_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")


class Question(InputModel):
    """One question of a template. A goal_progress question asks about each open milestone."""

    id: str = Field(min_length=1, max_length=40)
    kind: QuestionKind
    text: str = Field(min_length=1, max_length=300)
    choices: list[str] = Field(default_factory=list, max_length=MAX_CHOICES)
    required: bool = True

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not QUESTION_ID.fullmatch(value):
            raise ValueError("a question id is lowercase letters, digits and _, "
                             "starting with a letter")
        return value

    @model_validator(mode="after")
    def _choices(self) -> Question:
        if self.kind is QuestionKind.choice:
            cleaned = [c.strip() for c in self.choices]
            if len(cleaned) < 2 or any(not c or len(c) > CHOICE_TEXT for c in cleaned):
                raise ValueError(f"a choice question needs 2-{MAX_CHOICES} choices "
                                 f"of 1-{CHOICE_TEXT} characters")
            if len(set(cleaned)) != len(cleaned):
                raise ValueError("choices must differ")
            self.choices = cleaned
        elif self.choices:
            raise ValueError(f"only choice questions have choices, not {self.kind.value}")
        return self


def _check_questions(questions: list[Question]) -> list[Question]:
    if not 1 <= len(questions) <= MAX_QUESTIONS:
        raise ValueError(f"a template has 1-{MAX_QUESTIONS} questions")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ValueError("question ids must be unique")
    if sum(q.kind is QuestionKind.goal_progress for q in questions) > 1:
        raise ValueError("a template has at most one goal_progress question")
    return questions


class TemplateCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    cohort_id: RowId | None = None
    questions: list[Question]

    @field_validator("questions")
    @classmethod
    def _questions(cls, value: list[Question]) -> list[Question]:
        return _check_questions(value)


class TemplateUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    questions: list[Question] | None = None

    @field_validator("questions")
    @classmethod
    def _questions(cls, value: list[Question] | None) -> list[Question] | None:
        return None if value is None else _check_questions(value)


class TemplatePublic(SQLModel):
    id: int | None
    name: str
    cohort_id: int | None
    questions: list[dict[str, Any]]
    created_at: datetime | None = None


class ScheduleFields(InputModel):
    template_id: RowId | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    weekdays: list[int] | None = None
    local_time: LocalTime | None = None
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    reminder_after_minutes: int | None = Field(default=None, ge=5, le=WEEK_MINUTES)
    max_reminders: int | None = Field(default=None, ge=0, le=5)
    expire_after_minutes: int | None = Field(default=None, ge=15, le=WEEK_MINUTES)
    active: bool | None = None

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("a schedule needs at least one weekday (0 = Monday … 6 = Sunday)")
        if any(not 0 <= day <= 6 for day in value):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return sorted(set(value))


class ScheduleCreate(ScheduleFields):
    kind: CheckinKind = CheckinKind.checkin
    name: str = Field(min_length=1, max_length=200)
    weekdays: list[int]
    local_time: LocalTime
    start_date: IsoDate
    max_reminders: int = Field(default=1, ge=0, le=5)
    expire_after_minutes: int = Field(default=24 * 60, ge=15, le=WEEK_MINUTES)
    active: bool = True


class ScheduleUpdate(ScheduleFields):
    pass


class SchedulePublic(SQLModel):
    id: int | None
    cohort_id: int
    template_id: int | None
    kind: CheckinKind
    name: str
    weekdays: list[int]
    local_time: LocalTime
    start_date: date
    end_date: date | None
    reminder_after_minutes: int | None
    max_reminders: int
    expire_after_minutes: int
    active: bool
    created_at: datetime | None = None


class HolidayCreate(InputModel):
    day: IsoDate
    name: str | None = Field(default=None, max_length=200)


class HolidayPublic(SQLModel):
    id: int | None
    cohort_id: int
    day: date
    name: str | None


class CheckinPublic(SQLModel):
    id: int | None
    member_id: int
    schedule_id: int
    local_date: date
    due_at: datetime
    expires_at: datetime
    status: CheckinStatus
    questions: list[dict[str, Any]]
    prompt_id: str | None
    reminders_sent: int
    snoozed_until: datetime | None
    answered_at: datetime | None
    late: bool


class AnswerIn(InputModel):
    """One answer. Goal-progress answers name the milestone and may change its status."""

    question_id: str = Field(min_length=1, max_length=100)
    text: str | None = Field(default=None, max_length=4000)
    number: int | None = None
    milestone_id: RowId | None = None
    status: MilestoneStatus | None = None


class AnswersSubmit(InputModel):
    answers: list[AnswerIn] = Field(max_length=200)
    private: bool = False


class AnswerPublic(SQLModel):
    question_id: str
    kind: QuestionKind
    text: str | None
    number: int | None
    milestone_id: int | None
    visibility: str
    created_at: datetime


class SnoozeRequest(InputModel):
    until: Literal["hour", "tomorrow"]


class WeeklyRate(SQLModel):
    """One week of a cohort's check-ins; counts are None when the group is too small."""

    week_start: date
    leaders: int | None
    sent: int | None
    answered: int | None
    response_rate: float | None
    suppressed: bool


class ResponseRates(SQLModel):
    cohort_id: int
    k_anonymity_min: int
    weeks: list[WeeklyRate]
