"""Plain factories for circle programs: a cohort of leaders with a series of rounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.circles.models import CircleBlock, CircleParticipant, CircleSeries, ParticipantStatus
from services.people.models import Cohort, EnrollmentRole, Member, Workspace
from tests.factories.people import enrol, make_cohort, make_member, make_workspace

# The first round: Tuesday 4 March 2025, 10:00 in London (which is UTC until 30 March).
START = date(2025, 3, 3)
FIRST_ROUND = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)

# (timezone, team, level) for each leader: three teams, two levels, all within 6 hours.
ROSTER = (
    ("Europe/London", "Sales", "L1"),
    ("Europe/Berlin", "Finance", "L2"),
    ("Europe/Paris", "Engineering", "L1"),
    ("Europe/London", "Finance", "L2"),
    ("Europe/Madrid", "Engineering", "L2"),
    ("Europe/Rome", "Sales", "L1"),
)


@dataclass
class Program:
    workspace: Workspace
    cohort: Cohort
    owner: Member
    leaders: list[Member]
    series: CircleSeries


async def make_program(
    session: AsyncSession,
    *,
    roster: tuple[tuple[str, str | None, str | None], ...] = ROSTER,
    team_id: str | None = None,
    slack_ids: list[str] | None = None,
    k_anonymity_min: int = 3,
    **series_fields: object,
) -> Program:
    """A committed cohort with an owner, leaders and a weekly series of circles of 3."""
    workspace = await make_workspace(session, team_id=team_id)
    cohort = await make_cohort(session, workspace, timezone="Europe/London",
                               k_anonymity_min=k_anonymity_min)
    owner = await make_member(session, workspace, name="Olga Owner")
    await enrol(session, cohort, owner, EnrollmentRole.owner)
    leaders = []
    for index, (zone, team, level) in enumerate(roster):
        leader = await make_member(session, workspace, name=f"Leader {index + 1:02d}",
                                   timezone=zone, team=team, level=level)
        if slack_ids:
            leader.slack_user_id = slack_ids[index]
            session.add(leader)
            await session.flush()
        await enrol(session, cohort, leader, EnrollmentRole.leader)
        leaders.append(leader)
    fields: dict[str, object] = {
        "group_size": 3, "cadence_weeks": 1, "weekday": 1, "local_time": time(10, 0),
        "start_date": START, "followup_after_days": 3, "miss_limit": 2, **series_fields,
    }
    series = CircleSeries.model_validate({
        "workspace_id": workspace.id, "cohort_id": cohort.id, "name": "Leadership Lab circles",
        **fields,
    })
    session.add(series)
    await session.commit()
    return Program(workspace=workspace, cohort=cohort, owner=owner, leaders=leaders,
                   series=series)


async def set_status(
    session: AsyncSession, program: Program, member: Member, status: ParticipantStatus,
    *, paused_until: date | None = None,
) -> None:
    found = (
        await session.exec(
            select(CircleParticipant).where(
                CircleParticipant.series_id == program.series.id,
                CircleParticipant.member_id == member.id,
            )
        )
    ).first()
    participant = found or CircleParticipant(series_id=program.series.id or 0,
                                             member_id=member.id or 0)
    participant.status = status
    participant.paused_until = paused_until
    session.add(participant)
    await session.commit()


async def block(session: AsyncSession, blocker: Member, blocked: Member) -> None:
    session.add(CircleBlock(workspace_id=blocker.workspace_id, blocker_id=blocker.id or 0,
                            blocked_id=blocked.id or 0))
    await session.commit()
