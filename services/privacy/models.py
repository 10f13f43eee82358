"""The audit trail: every read of another person's content leaves a row here."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from services.db import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    actor_key_id: int | None = Field(default=None, foreign_key="api_key.id", ondelete="SET NULL")
    actor_member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    action: str = Field(max_length=50)
    subject_member_id: int | None = Field(
        default=None, foreign_key="member.id", index=True, ondelete="SET NULL"
    )
    object_type: str = Field(max_length=50)
    object_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class AuditEventPublic(SQLModel):
    id: int
    actor_member_id: int | None
    action: str
    subject_member_id: int | None
    object_type: str
    object_id: int | None
    created_at: datetime
