"""Peer circles: series per cohort, participants, private block lists, rounds and circles."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from pydantic import model_validator
from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.db import InputModel, IsoDate, LocalTime, RowId, UTCDateTime, utcnow


class ParticipantStatus(StrEnum):
    active = "active"
    opted_out = "opted_out"
    paused = "paused"


class RoundStatus(StrEnum):
    pending = "pending"
    formed = "formed"
    followed_up = "followed_up"
    closed = "closed"


class MetAnswer(StrEnum):
    yes = "yes"
    not_yet = "not_yet"
    couldnt = "couldnt"


class CircleSeries(SQLModel, table=True):
    __tablename__ = "circle_series"
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    group_size: int = 4
    cadence_weeks: int = 2
    weekday: int = 1  # 0 = Monday
    local_time: time = time(10, 0)
    start_date: date
    history_window_rounds: int | None = None  # None: the whole program
    max_utc_spread_minutes: int = 6 * 60
    mix_team: bool = True
    mix_level: bool = True
    affinity: bool = False
    followup_after_days: int = 7
    miss_limit: int = 2
    seed: int = 0
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CircleParticipant(SQLModel, table=True):
    __tablename__ = "circle_participant"
    __table_args__ = (UniqueConstraint("series_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(foreign_key="circle_series.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    status: ParticipantStatus = Field(default=ParticipantStatus.active, sa_type=String(20))
    paused_until: date | None = None
    consecutive_misses: int = 0


class CircleBlock(SQLModel, table=True):
    """A member's private "don't match me with": shown to nobody else, ever."""

    __tablename__ = "circle_block"
    __table_args__ = (UniqueConstraint("blocker_id", "blocked_id"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    blocker_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    blocked_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CircleRound(SQLModel, table=True):
    __tablename__ = "circle_round"
    __table_args__ = (UniqueConstraint("series_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(foreign_key="circle_series.id", index=True, ondelete="CASCADE")
    number: int
    scheduled_for: datetime = Field(sa_type=UTCDateTime)
    status: RoundStatus = Field(default=RoundStatus.pending, sa_type=String(20))
    formed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    followup_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    followup_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # For a series planned whole: the circles this round's plan holds for the rounds after
    # it (member ids as strings), the next round's starting point. Never shown to anyone.
    plan_ahead: list[list[list[str]]] | None = Field(default=None, sa_type=JSON)


class Circle(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    round_id: int = Field(foreign_key="circle_round.id", index=True, ondelete="CASCADE")
    explanation: str = Field(default="", sa_type=Text)
    prompt_id: str | None = Field(default=None, max_length=100)
    slack_channel: str | None = Field(default=None, max_length=50)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CircleMember(SQLModel, table=True):
    __tablename__ = "circle_member"
    __table_args__ = (UniqueConstraint("circle_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circle.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    met: MetAnswer | None = Field(default=None, sa_type=String(20))
    commitment: str | None = Field(default=None, sa_type=Text)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    progress_update_id: int | None = Field(
        default=None, foreign_key="progress_update.id", ondelete="SET NULL"
    )


# --- API shapes (not tables) -------------------------------------------------------------

MIN_GROUP = 2
MAX_GROUP = 6
DEFAULT_CADENCE_WEEKS = 2
MIN_CADENCE_WEEKS, MAX_CADENCE_WEEKS = 1, 12


class CircleSeriesCreate(InputModel):
    """A new series of circle rounds for one cohort; the time is in the cohort's timezone."""

    cohort_id: RowId
    name: str = Field(max_length=200, min_length=1)
    group_size: int = Field(default=4, ge=MIN_GROUP, le=MAX_GROUP)
    cadence_weeks: int = Field(
        default=DEFAULT_CADENCE_WEEKS, ge=MIN_CADENCE_WEEKS, le=MAX_CADENCE_WEEKS
    )
    weekday: int = Field(default=1, ge=0, le=6)
    local_time: LocalTime = time(10, 0)
    start_date: IsoDate
    history_window_rounds: int | None = Field(default=None, ge=1, le=100)
    max_utc_spread_minutes: int = Field(default=6 * 60, ge=0, le=24 * 60)
    mix_team: bool = True
    mix_level: bool = True
    affinity: bool = False
    followup_after_days: int = Field(default=7, ge=1, le=84)
    miss_limit: int = Field(default=2, ge=1, le=10)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)

    @model_validator(mode="after")
    def _followup_within_cadence(self) -> CircleSeriesCreate:
        if self.followup_after_days > 7 * self.cadence_weeks:
            raise ValueError("followup_after_days must fall before the next round")
        return self


class CircleSeriesUpdate(InputModel):
    name: str | None = Field(default=None, max_length=200, min_length=1)
    group_size: int | None = Field(default=None, ge=MIN_GROUP, le=MAX_GROUP)
    cadence_weeks: int | None = Field(default=None, ge=MIN_CADENCE_WEEKS, le=MAX_CADENCE_WEEKS)
    weekday: int | None = Field(default=None, ge=0, le=6)
    local_time: LocalTime | None = None
    start_date: IsoDate | None = None
    history_window_rounds: int | None = Field(default=None, ge=1, le=100)
    max_utc_spread_minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    mix_team: bool | None = None
    mix_level: bool | None = None
    affinity: bool | None = None
    followup_after_days: int | None = Field(default=None, ge=1, le=84)
    miss_limit: int | None = Field(default=None, ge=1, le=10)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    active: bool | None = None


class CircleSeriesPublic(SQLModel):
    id: int
    cohort_id: int
    name: str
    group_size: int
    cadence_weeks: int
    weekday: int
    local_time: LocalTime
    start_date: date
    history_window_rounds: int | None
    max_utc_spread_minutes: int
    mix_team: bool
    mix_level: bool
    affinity: bool
    followup_after_days: int
    miss_limit: int
    seed: int
    active: bool
    next_round_at: datetime | None = None
    created_at: datetime


class ParticipationUpdate(InputModel):
    """Opt in (active), opt out, or pause until a date (or until you opt in again)."""

    status: ParticipantStatus
    paused_until: IsoDate | None = None


class ParticipationPublic(SQLModel):
    series_id: int
    series_name: str
    cohort_id: int
    status: ParticipantStatus
    paused_until: date | None
    consecutive_misses: int


class CircleBlockCreate(InputModel):
    """Who you would rather not be matched with: a member id or their Slack user id."""

    member_id: RowId | None = None
    slack_user_id: str | None = Field(default=None, max_length=32, regex=r"^[A-Z0-9]+$")

    @model_validator(mode="after")
    def _exactly_one(self) -> CircleBlockCreate:
        if (self.member_id is None) == (self.slack_user_id is None):
            raise ValueError("give exactly one of member_id or slack_user_id")
        return self


class CircleBlockPublic(SQLModel):
    id: int
    member_id: int
    name: str
    created_at: datetime


class CirclePeer(SQLModel):
    member_id: int
    name: str
    slack_user_id: str


class MyCirclePublic(SQLModel):
    """A circle as one of its members sees it, with their own follow-up answers."""

    circle_id: int
    series_id: int
    series_name: str
    round_number: int
    scheduled_for: datetime
    followup_at: datetime | None
    explanation: str
    reflection: str | None
    members: list[CirclePeer]
    met: MetAnswer | None
    commitment: str | None
    progress_update_id: int | None


class FollowupAnswer(InputModel):
    """Did you meet, and what did you commit to (logged on the goal you pick)?"""

    met: MetAnswer | None = None
    commitment: str | None = Field(default=None, min_length=1, max_length=2000)
    goal_id: RowId | None = None


class RoundAttendance(SQLModel):
    """One round's counts; all None when fewer than k people took part."""

    round_number: int
    scheduled_for: datetime
    suppressed: bool
    circles: int | None = None
    placed: int | None = None
    met: int | None = None
    not_yet: int | None = None
    couldnt: int | None = None
    no_answer: int | None = None


class AttendanceTotals(SQLModel):
    """The shown rounds added up."""

    rounds: int
    circles: int
    placed: int
    met: int
    not_yet: int
    couldnt: int
    no_answer: int


class AttendancePublic(SQLModel):
    """Attendance for owners: counts only, each round shown only when at least k took part;
    totals cover the shown rounds only, so a hidden round cannot be found by subtraction."""

    series_id: int
    k_anonymity_min: int
    rounds: list[RoundAttendance]
    totals: AttendanceTotals | None
    participants: dict[str, int] | None
