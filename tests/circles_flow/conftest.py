"""Fixtures for the circle round flow: a clock-driven tick and readers for what it stored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor, actor_for
from services.circles.jobs import circles_tick
from services.circles.models import Circle, CircleMember, CircleParticipant, CircleRound
from services.delivery.models import Delivery
from services.people.models import Member

Sessions = async_sessionmaker[AsyncSession]
Tick = Callable[[datetime], Awaitable[int]]


@pytest.fixture
def tick(sessions: Sessions) -> Tick:
    """Run the circles tick as the scheduler would at `now`."""

    async def run(now: datetime) -> int:
        return await circles_tick(sessions=sessions, now=now)

    return run


async def circles_in(sessions: Sessions, number: int) -> list[frozenset[int]]:
    """Member ids of each circle in round `number` (of the only series)."""
    async with sessions() as session:
        rows = (
            await session.exec(
                select(CircleMember.circle_id, CircleMember.member_id)
                .join(Circle, col(Circle.id) == CircleMember.circle_id)
                .join(CircleRound, col(CircleRound.id) == Circle.round_id)
                .where(CircleRound.number == number)
            )
        ).all()
    grouped: dict[int, set[int]] = {}
    for circle_id, member_id in rows:
        grouped.setdefault(circle_id, set()).add(member_id)
    return sorted((frozenset(g) for g in grouped.values()), key=sorted)


async def deliveries(sessions: Sessions, kind: str | None = None) -> list[Delivery]:
    async with sessions() as session:
        statement = select(Delivery).order_by(col(Delivery.id))
        if kind is not None:
            statement = statement.where(Delivery.kind == kind)
        return list((await session.exec(statement)).all())


async def rounds(sessions: Sessions) -> list[CircleRound]:
    async with sessions() as session:
        return list(
            (await session.exec(select(CircleRound).order_by(col(CircleRound.number)))).all()
        )


async def participant(sessions: Sessions, member: Member) -> CircleParticipant | None:
    async with sessions() as session:
        return (
            await session.exec(
                select(CircleParticipant).where(CircleParticipant.member_id == member.id)
            )
        ).first()


async def my_row(sessions: Sessions, member: Member, number: int) -> CircleMember:
    async with sessions() as session:
        return (
            await session.exec(
                select(CircleMember)
                .join(Circle, col(Circle.id) == CircleMember.circle_id)
                .join(CircleRound, col(CircleRound.id) == Circle.round_id)
                .where(CircleMember.member_id == member.id, CircleRound.number == number)
            )
        ).one()


async def leader_of(session: AsyncSession, member: Member) -> Actor:
    return await actor_for(session=session, workspace_id=member.workspace_id, role=Role.leader,
                           member_id=member.id)
