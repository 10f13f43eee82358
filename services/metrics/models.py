"""Business KPIs imported per cohort or member, shown beside engagement metrics."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from services.db import UTCDateTime, utcnow


class KpiValue(SQLModel, table=True):
    __tablename__ = "kpi_value"
    __table_args__ = (UniqueConstraint("cohort_id", "member_id", "metric", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", index=True,
                                  ondelete="CASCADE")
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True,
                                  ondelete="CASCADE")
    metric: str = Field(max_length=100)
    unit: str | None = Field(default=None, max_length=30)
    day: date
    value: float
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
