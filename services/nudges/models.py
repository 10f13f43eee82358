"""Nudges: drafted from a leader's own goals, sent or reviewed, with their records."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlmodel import Field, SQLModel

from services.db import InputModel, UTCDateTime, utcnow


class NudgeStatus(StrEnum):
    draft = "draft"  # waiting for the coach (coach_review mode)
    approved = "approved"
    rejected = "rejected"
    sent = "sent"


class NudgeFeedback(StrEnum):
    helpful = "helpful"
    not_helpful = "not_helpful"
    snoozed = "snoozed"


class NudgeOutcome(StrEnum):
    """How a nudge's text came about: the model's answer, or the offline drafter and why."""

    ok = "ok"  # the model's first answer
    ok_after_retry = "ok_after_retry"  # the model's second answer, after a failed first
    offline = "offline"  # no model configured: the offline drafter
    # The model was tried and failed each time; the offline drafter wrote the nudge. The
    # reason is how the last model attempt ended (services.llm.DraftOutcome).
    fallback_timeout = "fallback_timeout"
    fallback_rate_limited = "fallback_rate_limited"
    fallback_server_error = "fallback_server_error"
    fallback_connection_error = "fallback_connection_error"
    fallback_rejected = "fallback_rejected"
    fallback_error = "fallback_error"
    fallback_refusal = "fallback_refusal"
    fallback_malformed = "fallback_malformed"
    fallback_truncated = "fallback_truncated"
    fallback_ungrounded = "fallback_ungrounded"
    fallback_names_other_person = "fallback_names_other_person"
    fallback_unsafe = "fallback_unsafe"
    fallback_too_long = "fallback_too_long"
    fallback_too_short = "fallback_too_short"
    fallback = "fallback"  # a fallback whose reason was not recorded (before migration 0006)


def assumed_outcome(context: DefaultExecutionContext) -> str:
    """The outcome of a nudge stored without one, as migration 0006 fills them in: the
    model's answer for an `llm` nudge, the offline drafter's otherwise."""
    source = context.get_current_parameters().get("source")
    return (NudgeOutcome.ok if source == "llm" else NudgeOutcome.offline).value


class Nudge(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", ondelete="SET NULL")
    dedupe_key: str = Field(max_length=200, unique=True)
    goal_id: int | None = Field(default=None, foreign_key="goal.id", ondelete="SET NULL")
    milestone_id: int | None = Field(default=None, foreign_key="milestone.id",
                                     ondelete="SET NULL")
    text: str = Field(sa_type=Text)
    original_text: str | None = Field(default=None, sa_type=Text)
    rationale: str | None = Field(default=None, sa_type=Text)
    suggested_action: str | None = Field(default=None, sa_type=Text)
    source: str = Field(max_length=20)  # llm | offline
    model: str | None = Field(default=None, max_length=100)  # what wrote the text
    prompt_version: str | None = Field(default=None, max_length=100)
    # What drafting cost and how it went: every attempt, failed model attempts included.
    outcome: NudgeOutcome = Field(sa_type=String(40),
                                  sa_column_kwargs={"default": assumed_outcome})
    llm_model: str | None = Field(default=None, max_length=100)  # the model tried, if any
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_ms: int | None = None
    attempts: int = 1
    attempt_log: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    status: NudgeStatus = Field(default=NudgeStatus.draft, sa_type=String(20))
    reviewer_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    feedback: NudgeFeedback | None = Field(default=None, sa_type=String(20))
    feedback_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    local_date: date
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NudgePolicy(SQLModel, table=True):
    """When a cohort's nudges go out, in each leader's own local time."""

    __tablename__ = "nudge_policy"
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", unique=True, ondelete="CASCADE")
    weekday: int = 1  # 0 = Monday
    local_time: time = time(9, 30)
    per_week_cap: int = 1
    quiet_start: time = time(19, 0)
    quiet_end: time = time(8, 0)


# --- API shapes (not tables) ----------------------------------------------------------


class NudgeAttempt(SQLModel):
    """One drafting attempt of a nudge: which model, how it ended, what it cost."""

    model: str
    mode: str | None  # json_schema | json_object | offline
    outcome: str  # services.llm.DraftOutcome
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_ms: int = 0


class NudgePublic(SQLModel):
    """A nudge as its leader or reviewing coach may read it, with its records."""

    id: int
    member_id: int
    cohort_id: int | None
    goal_id: int | None
    milestone_id: int | None
    text: str
    original_text: str | None
    rationale: str | None
    suggested_action: str | None
    source: str
    model: str | None
    prompt_version: str | None
    outcome: NudgeOutcome
    llm_model: str | None
    tokens_in: int | None
    tokens_out: int | None
    latency_ms: int | None
    attempts: int
    attempt_log: list[NudgeAttempt] | None  # None for nudges from before it was kept
    status: NudgeStatus
    reviewer_id: int | None
    decided_at: datetime | None
    feedback: NudgeFeedback | None
    feedback_at: datetime | None
    local_date: date
    created_at: datetime
    sent_at: datetime | None


class NudgeEdit(InputModel):
    """A coach's rewrite of a draft; it is sent as written."""

    text: str = Field(min_length=1, max_length=2000)


class NudgeFeedbackCreate(InputModel):
    feedback: NudgeFeedback


class NudgeMetrics(SQLModel):
    """A cohort's nudge aggregates; all None (suppressed) below the k-anonymity minimum."""

    cohort_id: int
    leaders: int
    k_anonymity_min: int
    suppressed: bool
    nudges: int | None = None
    by_status: dict[str, int] | None = None
    by_source: dict[str, int] | None = None
    by_outcome: dict[str, int] | None = None
    by_feedback: dict[str, int] | None = None
    helpful_rate: float | None = None
    reviewed: int | None = None
    edited: int | None = None
    tokens_in_per_nudge: float | None = None
    tokens_out_per_nudge: float | None = None
    latency_ms_p50: float | None = None
