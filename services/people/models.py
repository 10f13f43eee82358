"""People: workspaces, members, cohorts, enrolments and coach assignments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import EmailStr, field_validator, model_validator
from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.db import InputModel, IsoDate, RowId, UTCDateTime, utcnow


class NudgeMode(StrEnum):
    auto = "auto"
    coach_review = "coach_review"
    off = "off"


class EnrollmentRole(StrEnum):
    leader = "leader"
    coach = "coach"
    owner = "owner"


class EnrollmentStatus(StrEnum):
    active = "active"
    paused = "paused"
    left = "left"


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA timezone {value!r}") from exc
    return value


class Workspace(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slack_team_id: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- members ---------------------------------------------------------------------------


class MemberBase(SQLModel):
    slack_user_id: str = Field(max_length=32, min_length=1, regex=r"^[A-Z0-9]+$")
    email: EmailStr | None = Field(default=None, max_length=320, sa_type=String(320))
    name: str = Field(max_length=200, min_length=1)
    title: str | None = Field(default=None, max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    team: str | None = Field(default=None, max_length=100)
    level: str | None = Field(default=None, max_length=50)
    region: str | None = Field(default=None, max_length=50)


class Member(MemberBase, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "slack_user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MemberCreate(MemberBase, InputModel):
    pass

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return check_timezone(value)


class MemberUpdate(InputModel):
    email: EmailStr | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=200, min_length=1)
    title: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    team: str | None = Field(default=None, max_length=100)
    level: str | None = Field(default=None, max_length=50)
    region: str | None = Field(default=None, max_length=50)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


class MemberPublic(MemberBase):
    id: int
    erased: bool = False
    created_at: datetime
    updated_at: datetime


# --- cohorts ---------------------------------------------------------------------------


class CohortBase(SQLModel):
    name: str = Field(max_length=200, min_length=1)
    program: str | None = Field(default=None, max_length=200)
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    timezone: str = Field(default="UTC", max_length=64)
    nudge_mode: NudgeMode = Field(default=NudgeMode.coach_review, sa_type=String(20))
    k_anonymity_min: int = Field(default=5, ge=2, le=100)


class Cohort(CohortBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CohortCreate(CohortBase, InputModel):
    pass

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return check_timezone(value)

    @model_validator(mode="after")
    def _dates(self) -> CohortCreate:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class CohortUpdate(InputModel):
    name: str | None = Field(default=None, max_length=200, min_length=1)
    program: str | None = Field(default=None, max_length=200)
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    timezone: str | None = Field(default=None, max_length=64)
    nudge_mode: NudgeMode | None = None
    k_anonymity_min: int | None = Field(default=None, ge=2, le=100)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


class CohortPublic(CohortBase):
    id: int
    created_at: datetime


# --- enrolments ------------------------------------------------------------------------


class EnrollmentBase(SQLModel):
    cohort_id: RowId
    member_id: RowId
    role: EnrollmentRole = Field(default=EnrollmentRole.leader, sa_type=String(10))
    status: EnrollmentStatus = Field(default=EnrollmentStatus.active, sa_type=String(10))
    paused_until: IsoDate | None = None


class Enrollment(EnrollmentBase, table=True):
    __table_args__ = (UniqueConstraint("cohort_id", "member_id", "role"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EnrollmentCreate(EnrollmentBase, InputModel):
    pass


class EnrollmentUpdate(InputModel):
    status: EnrollmentStatus | None = None
    paused_until: IsoDate | None = None


class EnrollmentPublic(EnrollmentBase):
    id: int
    created_at: datetime


# --- coach assignments -----------------------------------------------------------------


class CoachAssignmentBase(SQLModel):
    cohort_id: RowId
    coach_id: RowId
    leader_id: RowId


class CoachAssignment(CoachAssignmentBase, table=True):
    __tablename__ = "coach_assignment"
    __table_args__ = (UniqueConstraint("cohort_id", "coach_id", "leader_id"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    coach_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    leader_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CoachAssignmentCreate(CoachAssignmentBase, InputModel):
    pass


class CoachAssignmentPublic(CoachAssignmentBase):
    id: int
    created_at: datetime
