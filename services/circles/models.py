"""Peer circles: series per cohort, participants, private block lists, rounds and circles."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.db import UTCDateTime, utcnow


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
