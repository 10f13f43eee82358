"""Plain factory functions for check-in schedules, templates, occurrences and their world."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import (
    Checkin,
    CheckinKind,
    CheckinSchedule,
    CheckinStatus,
    CheckinTemplate,
)
from services.people.models import Cohort, Enrollment, EnrollmentRole, Member, Workspace
from tests.factories.people import make_cohort, make_member, make_workspace

# Long before any simulated clock, so every enrolment predates the occurrences it sees.
EARLY = datetime(1980, 1, 1, tzinfo=UTC)
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]


async def make_schedule(
    session: AsyncSession,
    cohort: Cohort,
    *,
    at: time = time(9, 0),
    weekdays: list[int] | None = None,
    start: date = date(1980, 1, 1),
    expire_after_minutes: int = 24 * 60,
    reminder_after_minutes: int | None = None,
    max_reminders: int = 1,
    kind: CheckinKind = CheckinKind.checkin,
    template: CheckinTemplate | None = None,
    **fields: Any,
) -> CheckinSchedule:
    schedule = CheckinSchedule(
        workspace_id=cohort.workspace_id,
        cohort_id=cohort.id or 0,
        name=fields.pop("name", "Daily check-in"),
        kind=kind,
        weekdays=weekdays if weekdays is not None else EVERY_DAY,
        local_time=at,
        start_date=start,
        expire_after_minutes=expire_after_minutes,
        reminder_after_minutes=reminder_after_minutes,
        max_reminders=max_reminders,
        template_id=template.id if template else None,
        **fields,
    )
    session.add(schedule)
    await session.flush()
    return schedule


async def make_leader(
    session: AsyncSession,
    workspace: Workspace,
    cohort: Cohort,
    *,
    timezone: str,
    enrolled_at: datetime = EARLY,
    role: EnrollmentRole = EnrollmentRole.leader,
    **fields: Any,
) -> Member:
    member = await make_member(session, workspace, timezone=timezone, **fields)
    session.add(Enrollment(workspace_id=workspace.id or 0, cohort_id=cohort.id or 0,
                           member_id=member.id or 0, role=role, created_at=enrolled_at))
    await session.flush()
    return member


async def make_checkin(
    session: AsyncSession,
    schedule: CheckinSchedule,
    member: Member,
    *,
    due_at: datetime,
    expires_at: datetime,
    status: CheckinStatus = CheckinStatus.sent,
    questions: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Checkin:
    from services.checkins.templates import default_weekly_questions

    checkin = Checkin(
        workspace_id=member.workspace_id,
        member_id=member.id or 0,
        schedule_id=schedule.id or 0,
        local_date=fields.pop("local_date", due_at.date()),
        due_at=due_at,
        expires_at=expires_at,
        status=status,
        questions=questions if questions is not None else default_weekly_questions(),
        **fields,
    )
    session.add(checkin)
    await session.flush()
    return checkin


@dataclass
class Program:
    """A workspace with one cohort, for arranging sweep scenarios."""

    workspace: Workspace
    cohort: Cohort
    leaders: dict[str, Member] = field(default_factory=dict)


async def make_program(session: AsyncSession, *, team_id: str | None = None,
                       timezone: str = "UTC") -> Program:
    workspace = await make_workspace(session, team_id=team_id)
    cohort = await make_cohort(session, workspace, timezone=timezone)
    return Program(workspace=workspace, cohort=cohort)
