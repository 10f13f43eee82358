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


# --- API shapes (not tables) -------------------------------------------------------------


class Figures(SQLModel):
    """Figures over one population of leaders; all None when suppressed (too few leaders)."""

    suppressed: bool = False
    leaders: int | None = None


class CheckinFigures(Figures):
    sent: int | None = None
    answered: int | None = None
    response_rate: float | None = None


class MilestoneFigures(Figures):
    completed: int | None = None


class CircleFigures(Figures):
    invited: int | None = None
    answered: int | None = None
    met: int | None = None
    attendance_rate: float | None = None  # met / answered the follow-up


class NudgeFigures(Figures):
    sent: int | None = None
    rated: int | None = None
    helpful: int | None = None
    helpful_rate: float | None = None  # helpful / rated


class Engagement(SQLModel):
    """One week's (or a total's) engagement figures, each suppressed on its own."""

    checkins: CheckinFigures
    milestones: MilestoneFigures
    circles: CircleFigures
    nudges: NudgeFigures


class WeekMetrics(Engagement):
    week_start: date
    enrolled: int | None


class PlanSnapshot(Figures):
    """Plans as they stand now: goals by status, milestone completion, time to the first."""

    goals_by_status: dict[str, int] | None = None
    milestones_planned: int | None = None
    milestones_done: int | None = None
    completion_rate: float | None = None
    first_milestone_leaders: int | None = None
    median_days_to_first_milestone: float | None = None


class GroupMetrics(Engagement):
    """One group of a breakdown (a team, a level or a region) over the program to date."""

    value: str | None
    enrolled: int | None
    plans: PlanSnapshot


class KpiSide(SQLModel):
    """A KPI before or after the program start: mean of the data points, or suppressed."""

    suppressed: bool = False
    points: int = 0
    members: int | None = None
    mean: float | None = None


class KpiComparison(SQLModel):
    metric: str
    unit: str | None
    level: str  # "cohort" (imported for the cohort) or "members" (averaged over leaders)
    before: KpiSide
    after: KpiSide
    change: float | None


class CohortMetrics(SQLModel):
    """A cohort's engagement by complete week, totals of the weeks shown, plans, KPIs."""

    cohort_id: int
    k_anonymity_min: int
    suppressed: bool
    enrolled: int
    program_start: date
    last_complete_week: date | None
    weeks: list[WeekMetrics]
    totals: Engagement
    weeks_hidden: dict[str, int]
    plans: PlanSnapshot
    by: str | None = None
    groups: list[GroupMetrics] = []
    kpis: list[KpiComparison] = []


class MemberWeek(SQLModel):
    week_start: date
    checkins_sent: int
    checkins_answered: int
    milestones_completed: int
    circle_invited: int
    circle_met: int
    nudges_sent: int
    nudges_helpful: int


class MemberMetrics(SQLModel):
    """One leader's own figures, as they or their coach see them; nothing suppressed."""

    member_id: int
    weeks: list[MemberWeek]
    goals_by_status: dict[str, int]
    milestones_planned: int
    milestones_done: int
    days_to_first_milestone: float | None


class KpiRowError(SQLModel):
    line: int
    field: str | None
    message: str


class KpiImportReport(SQLModel):
    """What an import did: rows read, written (replacing same-day values), skipped."""

    rows: int
    written: int
    skipped: int
    errors: list[KpiRowError]
