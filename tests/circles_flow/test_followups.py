"""After a round: follow-ups N days later, commitments as progress, misses and pauses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import actor_for
from services.circles.followups import FOLLOWUP_KIND, PAUSED_KIND, record_followup
from services.circles.mine import current_circle_for, my_circles, my_current_circle
from services.circles.models import FollowupAnswer, MetAnswer, ParticipantStatus, RoundStatus
from services.errors import Invalid, NotFound, NotPermitted
from services.plans.models import ProgressSource, ProgressUpdate
from tests.circles_flow.conftest import (
    Sessions,
    Tick,
    circles_in,
    deliveries,
    leader_of,
    my_row,
    participant,
    rounds,
)
from tests.circles_flow.factories import FIRST_ROUND, make_program
from tests.factories.plans import make_goal

WEEK = timedelta(weeks=1)
FOLLOWUP = FIRST_ROUND + timedelta(days=3)


async def test_each_member_is_asked_once_when_the_followup_is_due(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session)
    await tick(FIRST_ROUND)
    await tick(FOLLOWUP - timedelta(minutes=1))
    assert await deliveries(sessions, FOLLOWUP_KIND) == []
    await tick(FOLLOWUP)
    asked = await deliveries(sessions, FOLLOWUP_KIND)
    assert sorted(d.member_id or 0 for d in asked) == sorted(m.id or 0 for m in program.leaders)
    assert all(set(d.intent) == {"kind", "circle_member_id"} for d in asked)
    [formed] = await rounds(sessions)
    assert formed.status == RoundStatus.followed_up and formed.followup_sent_at == FOLLOWUP
    await tick(FOLLOWUP + timedelta(minutes=1))
    assert len(await deliveries(sessions, FOLLOWUP_KIND)) == len(program.leaders)


async def test_a_commitment_becomes_a_progress_update_on_the_goal_picked(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session)
    leader = program.leaders[0]
    goal = await make_goal(session, leader, title="Delegate the weekly report")
    other = await make_goal(session, leader, title="Speak up in reviews")
    await session.commit()
    await tick(FIRST_ROUND)
    row = await my_row(sessions, leader, 1)
    actor = await leader_of(session, leader)
    await record_followup(session=session, actor=actor, circle_id=row.circle_id, now=FOLLOWUP,
                          answer=FollowupAnswer(met=MetAnswer.yes, commitment="Hand over the "
                                                "report to Sam", goal_id=goal.id))
    await session.commit()
    row = await my_row(sessions, leader, 1)
    assert (row.met, row.commitment) == (MetAnswer.yes, "Hand over the report to Sam")
    update = await session.get(ProgressUpdate, row.progress_update_id)
    assert update is not None
    assert (update.goal_id, update.source) == (goal.id, ProgressSource.circle)
    assert "Hand over the report to Sam" in update.note

    # Answering again moves the commitment to the other goal; it is never logged twice.
    await record_followup(session=session, actor=actor, circle_id=row.circle_id, now=FOLLOWUP,
                          answer=FollowupAnswer(commitment="Ask one question", goal_id=other.id))
    await session.commit()
    updates = (await session.exec(select(ProgressUpdate))).all()
    assert [(u.goal_id, u.note) for u in updates] == [(other.id,
                                                       "Circle commitment: Ask one question")]


async def test_only_the_member_answers_and_only_on_their_own_goals(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session)
    await tick(FIRST_ROUND)
    first, second = program.leaders[0], program.leaders[1]
    row = await my_row(sessions, first, 1)
    theirs = await make_goal(session, second)
    await session.commit()
    [mine] = [c for c in await circles_in(sessions, 1) if first.id in c]
    outsider = next(m for m in program.leaders if m.id not in mine)
    with pytest.raises(NotFound):
        await record_followup(session=session, actor=await leader_of(session, outsider),
                              circle_id=row.circle_id, now=FOLLOWUP,
                              answer=FollowupAnswer(met=MetAnswer.yes))
    with pytest.raises(NotFound):
        await record_followup(session=session, actor=await leader_of(session, first),
                              circle_id=row.circle_id, now=FOLLOWUP,
                              answer=FollowupAnswer(commitment="x", goal_id=theirs.id))
    with pytest.raises(Invalid):
        await record_followup(session=session, actor=await leader_of(session, first),
                              circle_id=row.circle_id, now=FOLLOWUP, answer=FollowupAnswer())
    owner = await actor_for(session=session, workspace_id=program.workspace.id or 0,
                            role=Role.owner, member_id=program.owner.id)
    with pytest.raises(NotPermitted):
        await my_current_circle(session=session, actor=owner)


async def test_k_missed_rounds_in_a_row_pause_and_say_how_to_come_back(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session, miss_limit=2)
    attender, misser = program.leaders[0], program.leaders[1]
    for week in range(3):
        start = FIRST_ROUND + week * WEEK
        await tick(start)
        await tick(start + timedelta(days=3))
        for member in (m for m in program.leaders if m is not misser):
            row = await my_row(sessions, member, week + 1)
            await record_followup(session=session, actor=await leader_of(session, member),
                                  circle_id=row.circle_id, now=start,
                                  answer=FollowupAnswer(met=MetAnswer.yes))
            await session.commit()
        await tick(start + timedelta(days=6))  # the answer window closes
        if week == 0:
            assert (await participant(sessions, misser)).consecutive_misses == 1  # type: ignore[union-attr]
    paused = await participant(sessions, misser)
    assert paused is not None and paused.status == ParticipantStatus.paused
    assert (await participant(sessions, attender)).status == ParticipantStatus.active  # type: ignore[union-attr]
    notes = await deliveries(sessions, PAUSED_KIND)
    assert misser.id in {n.member_id for n in notes}
    assert attender.id not in {n.member_id for n in notes}
    assert all(n.intent["series_id"] == program.series.id for n in notes)
    # Paused at the end of round 2, so round 3 went on without them.
    assert misser.id not in set().union(*await circles_in(sessions, 3))


async def test_a_yes_resets_the_count_of_misses(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session, miss_limit=2)
    member = program.leaders[0]
    await tick(FIRST_ROUND)
    await tick(FOLLOWUP)
    await tick(FIRST_ROUND + timedelta(days=6))
    assert (await participant(sessions, member)).consecutive_misses == 1  # type: ignore[union-attr]
    await tick(FIRST_ROUND + WEEK)
    row = await my_row(sessions, member, 2)
    await record_followup(session=session, actor=await leader_of(session, member),
                          circle_id=row.circle_id, now=FIRST_ROUND + WEEK,
                          answer=FollowupAnswer(met=MetAnswer.yes))
    await session.commit()
    await tick(FOLLOWUP + WEEK)
    await tick(FIRST_ROUND + WEEK + timedelta(days=6))
    found = await participant(sessions, member)
    assert found is not None
    assert (found.status, found.consecutive_misses) == (ParticipantStatus.active, 0)


async def test_the_member_sees_their_current_circle_history_and_home_line(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session, miss_limit=10)
    member = program.leaders[0]
    assert await current_circle_for(session=session, member_id=member.id or 0) is None
    await tick(FIRST_ROUND)
    await tick(FIRST_ROUND + WEEK)
    actor = await leader_of(session, member)
    current = await my_current_circle(session=session, actor=actor)
    assert current.round_number == 2 and current.series_name == "Leadership Lab circles"
    assert member.id in {peer.member_id for peer in current.members}
    assert current.reflection
    history = await my_circles(session=session, actor=actor, cursor=None, limit=1)
    assert [c.round_number for c in history.items] == [2]
    older = await my_circles(session=session, actor=actor, cursor=history.next_cursor, limit=1)
    assert [c.round_number for c in older.items] == [1] and older.next_cursor is None
    line = await current_circle_for(session=session, member_id=member.id or 0)
    others = sorted(p.name for p in current.members if p.member_id != member.id)
    assert line == f"{others[0]} and {others[1]} (Leadership Lab circles, round 2)"
