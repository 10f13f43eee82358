"""Changing when a running series meets: rounds are numbered by date from the series' start,
so a new weekday or cadence must not land the next round on a number already formed (which
would skip rounds, silently, for weeks). The next round comes on the first new weekday after
both the change and the last round; nothing is formed twice."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import actor_for
from services.circles.models import CircleSeriesUpdate
from services.circles.service import series_public, update_series
from services.errors import Invalid
from tests.circles_flow.conftest import Sessions, Tick, rounds
from tests.circles_flow.factories import FIRST_ROUND, Program, make_program

CHANGED = FIRST_ROUND + timedelta(weeks=2, days=1)  # Wednesday, the day after round 3


async def reschedule(session: AsyncSession, program: Program, now: datetime,
                     **changes: object) -> datetime | None:
    actor = await actor_for(session=session, workspace_id=program.owner.workspace_id,
                            role=Role.owner, member_id=program.owner.id)
    series, cohort = await update_series(session=session, actor=actor,
                                         series_id=program.series.id or 0,
                                         data=CircleSeriesUpdate.model_validate(changes), now=now)
    await session.commit()
    return series_public(series, cohort, now=now).next_round_at


async def numbers_and_days(sessions: Sessions) -> list[tuple[int, date]]:
    return [(r.number, r.scheduled_for.date()) for r in await rounds(sessions)]


async def test_a_new_weekday_and_cadence_carry_on_from_the_last_round(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session)  # weekly on Tuesdays at 10:00, UTC
    for week in range(3):
        assert await tick(FIRST_ROUND + timedelta(weeks=week)) >= 1
    thursday = await reschedule(session, program, CHANGED, weekday=3, cadence_weeks=2)
    assert thursday == datetime.combine(date(2025, 3, 20), time(10), FIRST_ROUND.tzinfo)

    for day in range(1, 30):  # the scheduler's ticks, day by day, for four weeks
        await tick(CHANGED + timedelta(days=day, hours=1))
    assert await numbers_and_days(sessions) == [
        (1, date(2025, 3, 4)), (2, date(2025, 3, 11)), (3, date(2025, 3, 18)),
        (4, date(2025, 3, 20)), (5, date(2025, 4, 3)), (6, date(2025, 4, 17)),
    ]


async def test_a_series_that_has_met_keeps_its_start_date(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session)
    for week in range(3):
        await tick(FIRST_ROUND + timedelta(weeks=week))
    with pytest.raises(Invalid, match="has met already") as refused:
        await reschedule(session, program, CHANGED, start_date="2025-04-01")
    assert refused.value.field == "start_date"
    await session.rollback()
    await session.refresh(program.series)
    assert program.series.start_date == date(2025, 3, 3)


async def test_a_series_that_has_not_met_yet_keeps_the_start_it_is_given(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session)
    before = FIRST_ROUND - timedelta(days=3)
    assert await reschedule(session, program, before, weekday=3) == datetime.combine(
        date(2025, 3, 6), time(10), FIRST_ROUND.tzinfo)
    await session.refresh(program.series)
    assert program.series.start_date == date(2025, 3, 3)
