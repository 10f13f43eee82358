"""API keys: stored hashed, each bound to a workspace and a role (and maybe a member or cohort)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from services.db import UTCDateTime, utcnow


class Role(StrEnum):
    admin = "admin"
    owner = "owner"
    coach = "coach"
    leader = "leader"


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    prefix: str = Field(max_length=16, unique=True)
    key_hash: str = Field(max_length=64)
    role: Role = Field(sa_type=String(10))
    member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="CASCADE")
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", ondelete="CASCADE")
    label: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
