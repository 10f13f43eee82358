"""Fixtures for the nudge tests: the LLM stand-in (shared with tests/llm) and a tick runner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.delivery.models import Delivery
from services.llm import NudgeDrafter, OfflineDrafter
from services.nudges.jobs import nudge_tick
from services.nudges.models import Nudge
from tests.llm.conftest import make_drafter, offline, stand_in
from tests.nudges.factories import NOW

__all__ = ["make_drafter", "offline", "stand_in"]

Tick = Callable[..., Awaitable[int]]


@pytest.fixture
def tick(sessions: async_sessionmaker[AsyncSession]) -> Tick:
    """Run the nudge sweep at a fixed time (NOW unless told), offline unless given a drafter."""

    async def run(*, now: datetime = NOW, drafter: NudgeDrafter | None = None) -> int:
        return await nudge_tick(sessions=sessions, now=now, drafter=drafter,
                                fallback=OfflineDrafter())

    return run


async def nudges_of(sessions: async_sessionmaker[AsyncSession], member_id: int) -> list[Nudge]:
    async with sessions() as session:
        rows = await session.exec(
            select(Nudge).where(Nudge.member_id == member_id).order_by(Nudge.id)  # type: ignore[arg-type]
        )
        return list(rows.all())


async def deliveries(sessions: async_sessionmaker[AsyncSession]) -> list[Delivery]:
    async with sessions() as session:
        rows = await session.exec(select(Delivery).order_by(Delivery.id))  # type: ignore[arg-type]
        return list(rows.all())
