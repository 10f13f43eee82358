"""A cohort with an owner, a coach and leaders, another cohort, and a foreign workspace;
API keys for each role; and helpers to read the outbox back."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.app import API_PREFIX
from services.api.deps import forbid_unknown_query
from services.auth.models import Role
from services.broadcasts.routes import router
from services.delivery.models import Delivery
from services.people.models import Cohort, EnrollmentRole, EnrollmentStatus, Member
from tests.factories.people import (
    assign,
    enrol,
    make_cohort,
    make_key,
    make_member,
    make_workspace,
)


def with_broadcast_routes(app: FastAPI) -> FastAPI:
    """Include the broadcast router the way create_api does, unless it already has."""
    if not any(getattr(route, "original_router", None) is router for route in app.routes):
        app.include_router(router, prefix=API_PREFIX,
                           dependencies=[Depends(forbid_unknown_query)])
    return app


@dataclass
class Program:
    cohort: Cohort
    other_cohort: Cohort
    empty_cohort: Cohort
    foreign_cohort: Cohort
    owner: Member
    coach: Member
    leaders: list[Member]
    paused: Member
    other_leader: Member
    keys: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def leader(self) -> Member:
        return self.leaders[0]


async def build_program(session: AsyncSession, *, leaders: int = 6,
                        team_id: str | None = None) -> Program:
    """Cohort A (owner, coach, `leaders` active leaders and one paused), cohort B (one
    leader), an empty cohort the owner runs, and a cohort in another workspace."""
    home = await make_workspace(session, team_id=team_id)
    away = await make_workspace(session)
    cohort = await make_cohort(session, home, timezone="Europe/London")
    cohort.name = "Leadership Lab"
    other = await make_cohort(session, home)
    empty = await make_cohort(session, home)
    empty.name = "Empty cohort"
    foreign = await make_cohort(session, away)
    owner = await make_member(session, home, name="Olivia Owner")
    coach = await make_member(session, home, name="Carmen Coach")
    await enrol(session, cohort, owner, EnrollmentRole.owner)
    await enrol(session, empty, owner, EnrollmentRole.owner)
    await enrol(session, cohort, coach, EnrollmentRole.coach)
    people = []
    for n in range(leaders):
        member = await make_member(session, home, name=f"Leader {n}")
        await enrol(session, cohort, member, EnrollmentRole.leader)
        people.append(member)
    await assign(session, cohort, coach, people[0])
    paused = await make_member(session, home, name="Pat Paused")
    enrollment = await enrol(session, cohort, paused, EnrollmentRole.leader)
    enrollment.status = EnrollmentStatus.paused
    other_leader = await make_member(session, home, name="Omar Other")
    await enrol(session, other, other_leader, EnrollmentRole.leader)
    foreign_leader = await make_member(session, away, name="Fay Foreign")
    await enrol(session, foreign, foreign_leader, EnrollmentRole.leader)
    program = Program(cohort=cohort, other_cohort=other, empty_cohort=empty,
                      foreign_cohort=foreign, owner=owner, coach=coach, leaders=people,
                      paused=paused, other_leader=other_leader)
    program.keys = {
        "admin": await make_key(session, home, Role.admin),
        "owner": await make_key(session, home, Role.owner, member=owner),
        "coach": await make_key(session, home, Role.coach, member=coach),
        "leader": await make_key(session, home, Role.leader, member=people[0]),
        "other_leader": await make_key(session, home, Role.leader, member=other_leader),
        "foreign_admin": await make_key(session, away, Role.admin),
    }
    await session.commit()
    return program


async def outbox(sessions: async_sessionmaker[AsyncSession],
                 broadcast_id: int | None = None) -> list[Delivery]:
    """Outbox rows, optionally only one broadcast's, in insertion order."""
    async with sessions() as session:
        statement = select(Delivery).order_by(col(Delivery.id))
        if broadcast_id is not None:
            statement = statement.where(
                col(Delivery.delivery_key).like(f"broadcast:{broadcast_id}:%"))
        return list((await session.exec(statement)).all())


def recipients(rows: list[Delivery]) -> Counter[int]:
    """How many outbox rows each member has."""
    return Counter(row.member_id for row in rows if row.member_id is not None)
