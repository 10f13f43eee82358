"""What a program owner's Home tab adds: each cohort's headline figures (under the same
k-anonymity rules as the API), the latest broadcasts with their live status, and the
cohorts' circle series and check-in schedules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import actor_for
from services.broadcasts.models import BroadcastPublic
from services.broadcasts.service import latest_broadcasts
from services.checkins.models import SchedulePublic
from services.checkins.schedule import zone_or_none
from services.checkins.schedules import list_schedules
from services.checkins.templates import list_templates
from services.circles.attendance import series_attendance
from services.circles.models import CircleSeriesPublic, RoundAttendance
from services.circles.service import list_series
from services.db import utcnow
from services.metrics.service import cohort_metrics
from services.pagination import MAX_LIMIT
from services.people.models import Cohort, Member

LATEST_BROADCASTS = 5
LISTED_SERIES = 8  # the Home tab gives each two blocks; the API lists them all
LISTED_SCHEDULES = 8  # likewise


@dataclass(frozen=True)
class CohortHeadline:
    """A cohort's headline figures; None where suppressed or not yet measured."""

    cohort_id: int
    name: str
    enrolled: int
    suppressed: bool
    last_week: date | None = None
    response_rate: float | None = None
    milestones_completed: int | None = None
    attendance_rate: float | None = None
    helpful_rate: float | None = None
    completion_rate: float | None = None


@dataclass
class OwnerHome:
    headlines: list[CohortHeadline] = field(default_factory=list)
    broadcasts: list[BroadcastPublic] = field(default_factory=list)
    circle_series: list[CircleSeriesPublic] = field(default_factory=list)
    # Each listed series' latest round that its cohort's anonymity minimum lets owners see.
    last_rounds: dict[int, RoundAttendance] = field(default_factory=dict)
    cohort_names: dict[int, str] = field(default_factory=dict)
    cohort_zones: dict[int, str] = field(default_factory=dict)
    checkin_schedules: list[SchedulePublic] = field(default_factory=list)
    template_names: dict[int, str] = field(default_factory=dict)
    today: date | None = None  # on the owner's clock


async def owner_home_extras(
    *, session: AsyncSession, member_id: int, now: datetime | None = None
) -> OwnerHome:
    """Headline figures of the cohorts the member owns, their latest broadcasts, and their
    circle series and check-in schedules."""
    member = await session.get(Member, member_id)
    if member is None:
        return OwnerHome()
    actor = await actor_for(session=session, workspace_id=member.workspace_id, role=Role.owner,
                            member_id=member_id)
    zone = zone_or_none(member.timezone) or UTC
    home = OwnerHome(today=(now or utcnow()).astimezone(zone).date())
    for cohort_id in sorted(actor.cohort_ids):
        cohort = await session.get(Cohort, cohort_id)
        if cohort is None:
            continue
        home.cohort_names[cohort_id] = cohort.name
        home.cohort_zones[cohort_id] = cohort.timezone
        metrics = await cohort_metrics(session=session, actor=actor, cohort_id=cohort_id,
                                       weeks=1, now=now or utcnow())
        last = metrics.weeks[-1] if metrics.weeks else None
        home.headlines.append(CohortHeadline(
            cohort_id=cohort_id, name=cohort.name, enrolled=metrics.enrolled,
            suppressed=metrics.suppressed, last_week=last.week_start if last else None,
            response_rate=last.checkins.response_rate if last else None,
            milestones_completed=last.milestones.completed if last else None,
            attendance_rate=metrics.totals.circles.attendance_rate,
            helpful_rate=metrics.totals.nudges.helpful_rate,
            completion_rate=metrics.plans.completion_rate,
        ))
    for cohort_id in sorted(home.cohort_names):
        page = await list_schedules(session=session, actor=actor, cohort_id=cohort_id,
                                    cursor=None, limit=MAX_LIMIT)
        home.checkin_schedules += page.items
    # Running schedules first, then stopped ones (which the owner may restart), newest first.
    home.checkin_schedules.sort(key=lambda item: (not item.active, -(item.id or 0)))
    if any(item.template_id for item in home.checkin_schedules):
        templates = await list_templates(session=session, actor=actor, cursor=None,
                                         limit=MAX_LIMIT)
        home.template_names = {t.id or 0: t.name for t in templates.items}
    home.broadcasts = await latest_broadcasts(session=session, cohort_ids=sorted(actor.cohort_ids),
                                              limit=LATEST_BROADCASTS)
    series = await list_series(session=session, actor=actor, cohort_id=None, cursor=None,
                               limit=MAX_LIMIT, now=now or utcnow())
    # Running series first, then stopped ones (which the owner may restart), newest first.
    home.circle_series = sorted(series.items, key=lambda item: (not item.active, -item.id))
    for item in home.circle_series[:LISTED_SERIES]:
        attendance = await series_attendance(session=session, actor=actor, series_id=item.id)
        shown = [r for r in attendance.rounds if not r.suppressed]
        if shown:
            home.last_rounds[item.id] = max(shown, key=lambda r: r.round_number)
    return home
