"""A member's circle data: exported to them alone, erased on request."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.circles.followups import record_followup
from services.circles.models import CircleBlock, FollowupAnswer, MetAnswer
from services.circles.privacy import ERASED, erase_circle_data, export_circle_data
from tests.circles_flow.conftest import Sessions, Tick, leader_of, my_row
from tests.circles_flow.factories import FIRST_ROUND, block, make_program


async def test_export_holds_my_answers_and_my_blocks_but_not_blocks_naming_me(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session)
    me, other, third = program.leaders[0], program.leaders[1], program.leaders[2]
    await block(session, me, third)
    await block(session, other, me)
    await tick(FIRST_ROUND)
    row = await my_row(sessions, me, 1)
    await record_followup(session=session, actor=await leader_of(session, me),
                          circle_id=row.circle_id, now=FIRST_ROUND,
                          answer=FollowupAnswer(met=MetAnswer.yes, commitment="Say no more"))
    await session.commit()
    exported = await export_circle_data(session=session, member_id=me.id or 0)
    assert [b["blocked_id"] for b in exported["circle_blocks"]] == [third.id]
    assert [a["commitment"] for a in exported["circle_answers"]] == ["Say no more"]
    assert exported["circle_participation"][0]["status"] == "active"

    erased = await erase_circle_data(session=session, member_id=me.id or 0)
    await session.commit()
    assert erased == {"circle_commitments": 1, "circle_blocks": 1}
    after = await my_row(sessions, me, 1)
    assert (after.met, after.commitment) == (MetAnswer.yes, ERASED)
    remaining = (await session.exec(select(CircleBlock))).all()
    assert [(b.blocker_id, b.blocked_id) for b in remaining] == [(other.id, me.id)]
