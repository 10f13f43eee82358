"""The owner's Home tab lists each circle series with its latest round's attendance, as
counts, and only for rounds at least the cohort's anonymity minimum took part in."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks.circle_series import owner_series_blocks
from services.circles.followups import record_followup
from services.circles.models import FollowupAnswer, MetAnswer, ParticipantStatus
from services.metrics.home import owner_home_extras
from tests.circles_flow.conftest import Sessions, Tick, leader_of, my_row
from tests.circles_flow.factories import FIRST_ROUND, Program, make_program, set_status


async def home_text(session: AsyncSession, program: Program, days: int) -> str:
    home = await owner_home_extras(session=session, member_id=program.owner.id or 0,
                                   now=FIRST_ROUND + timedelta(days=days))
    return str(owner_series_blocks(home))


async def answer(session: AsyncSession, sessions: Sessions, program: Program, index: int,
                 met: MetAnswer) -> None:
    row = await my_row(sessions, program.leaders[index], 1)
    await record_followup(session=session, actor=await leader_of(session, program.leaders[index]),
                          circle_id=row.circle_id, answer=FollowupAnswer(met=met),
                          now=FIRST_ROUND + timedelta(days=2))
    await session.commit()


async def test_a_series_shows_its_latest_visible_round_as_counts(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session, k_anonymity_min=4, miss_limit=10)
    assert "met" not in await home_text(session, program, 0)  # no round yet

    await tick(FIRST_ROUND)
    await answer(session, sessions, program, 0, MetAnswer.yes)
    await answer(session, sessions, program, 1, MetAnswer.yes)
    await answer(session, sessions, program, 2, MetAnswer.couldnt)
    text = await home_text(session, program, 3)
    assert "Round 1: 2 of 6 met, 3 not answered yet" in text
    assert program.leaders[0].name not in text

    for leader in program.leaders[3:]:
        await set_status(session, program, leader, ParticipantStatus.opted_out)
    await tick(FIRST_ROUND + timedelta(weeks=1))  # three people took part: below k = 4
    text = await home_text(session, program, 8)
    assert "Round 1: 2 of 6 met" in text and "Round 2" not in text


async def test_a_small_cohort_shows_no_attendance(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session, k_anonymity_min=10)
    await tick(FIRST_ROUND)
    await answer(session, sessions, program, 0, MetAnswer.yes)
    text = await home_text(session, program, 3)
    assert program.series.name in text and "Round 1" not in text
