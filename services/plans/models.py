"""Plans: goals, milestones and progress updates, each carrying its goal's visibility."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text
from sqlmodel import Field, SQLModel

from services.db import InputModel, IsoDate, RowId, UTCDateTime, utcnow


class GoalStatus(StrEnum):
    on_track = "on_track"
    at_risk = "at_risk"
    off_track = "off_track"
    done = "done"
    dropped = "dropped"


class Visibility(StrEnum):
    """Who may read a goal: the leader only, their coaches too, or nobody (counts only)."""

    private = "private"
    coach = "coach"
    aggregate = "aggregate"


class MilestoneStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    skipped = "skipped"


class ProgressSource(StrEnum):
    slack = "slack"
    api = "api"
    checkin = "checkin"
    circle = "circle"


OPEN_GOAL_STATUSES = (GoalStatus.on_track, GoalStatus.at_risk, GoalStatus.off_track)

# --- goals -----------------------------------------------------------------------------


class GoalBase(SQLModel):
    title: str = Field(max_length=200, min_length=1)
    why: str | None = Field(default=None, max_length=2000, sa_type=Text)
    competency: str | None = Field(default=None, max_length=100)
    status: GoalStatus = Field(default=GoalStatus.on_track, sa_type=String(20))
    visibility: Visibility = Field(default=Visibility.coach, sa_type=String(20))
    cohort_id: RowId | None = None


class Goal(GoalBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    cohort_id: int | None = Field(
        default=None, foreign_key="cohort.id", index=True, ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class GoalCreate(GoalBase, InputModel):
    pass


class GoalUpdate(InputModel):
    title: str | None = Field(default=None, max_length=200, min_length=1)
    why: str | None = Field(default=None, max_length=2000)
    competency: str | None = Field(default=None, max_length=100)
    status: GoalStatus | None = None
    visibility: Visibility | None = None


class GoalPublic(GoalBase):
    id: int
    member_id: int
    created_at: datetime
    updated_at: datetime


# --- milestones ------------------------------------------------------------------------


class MilestoneBase(SQLModel):
    title: str = Field(max_length=200, min_length=1)
    due_date: IsoDate | None = None
    status: MilestoneStatus = Field(default=MilestoneStatus.open, sa_type=String(20))


class Milestone(MilestoneBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    goal_id: int = Field(foreign_key="goal.id", index=True, ondelete="CASCADE")
    position: int = 0
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MilestoneCreate(MilestoneBase, InputModel):
    pass


class MilestoneUpdate(InputModel):
    title: str | None = Field(default=None, max_length=200, min_length=1)
    due_date: IsoDate | None = None
    status: MilestoneStatus | None = None


class MilestoneOrder(InputModel):
    """The goal's milestone ids in their new order; it must name every milestone once."""

    milestone_ids: list[RowId] = Field(max_length=500)


class MilestonePublic(MilestoneBase):
    id: int
    goal_id: int
    position: int
    done_at: datetime | None
    overdue: bool = False
    created_at: datetime
    updated_at: datetime


# --- progress updates ------------------------------------------------------------------


class ProgressUpdateBase(SQLModel):
    note: str = Field(max_length=4000, min_length=1, sa_type=Text)
    confidence: int | None = Field(default=None, ge=1, le=5)
    milestone_id: RowId | None = None


class ProgressUpdate(ProgressUpdateBase, table=True):
    __tablename__ = "progress_update"
    # A goal's progress is read newest first (the plan's recent progress, keyset pages):
    # (goal_id, id) serves both without walking the primary key past other goals' rows.
    __table_args__ = (Index("ix_progress_update_goal_id_id", "goal_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    goal_id: int = Field(foreign_key="goal.id", ondelete="CASCADE")
    milestone_id: int | None = Field(
        default=None, foreign_key="milestone.id", index=True, ondelete="SET NULL"
    )
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    source: ProgressSource = Field(default=ProgressSource.api, sa_type=String(20))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProgressUpdateCreate(ProgressUpdateBase, InputModel):
    pass


class ProgressUpdateUpdate(InputModel):
    note: str | None = Field(default=None, max_length=4000, min_length=1)
    confidence: int | None = Field(default=None, ge=1, le=5)


class ProgressUpdatePublic(ProgressUpdateBase):
    id: int
    goal_id: int
    member_id: int
    source: ProgressSource
    created_at: datetime


# --- the whole plan --------------------------------------------------------------------


class GoalInPlan(GoalPublic):
    milestones: list[MilestonePublic]
    recent_progress: list[ProgressUpdatePublic]


class PlanPublic(SQLModel):
    member_id: int
    goals: list[GoalInPlan]
