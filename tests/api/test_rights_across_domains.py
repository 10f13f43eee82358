"""Export and erasure cover every domain that holds a member's words: check-in answers,
circle commitments and block lists, nudges and broadcast answers, beside the plan."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.broadcasts.models import Audience, Broadcast, BroadcastAnswer, BroadcastStatus
from services.checkins.models import CheckinAnswer, QuestionKind
from services.circles.models import CircleBlock, CircleMember, MetAnswer
from services.nudges.models import Nudge, NudgeFeedback
from tests.api.world import World, build_world
from tests.metrics.factories import checkin, circle, make_schedule, nudge

DAY = date(2025, 3, 3)
WORDS = "I felt out of my depth in the board meeting"


async def with_words_everywhere(session: AsyncSession, world: World) -> None:
    """The leader answers a check-in, commits in a circle, blocks someone, gets a nudge and
    answers a broadcast; the other leader writes too, and keeps their words."""
    schedule = await make_schedule(session, world.cohort)
    for who in (world.leader, world.other_leader):
        occurrence = await checkin(session, schedule, who, DAY, answered=True)
        session.add(CheckinAnswer(workspace_id=who.workspace_id, checkin_id=occurrence.id or 0,
                                  question_id="q1", kind=QuestionKind.text, text=WORDS))
        session.add(CheckinAnswer(workspace_id=who.workspace_id, checkin_id=occurrence.id or 0,
                                  question_id="q2", kind=QuestionKind.scale, number=4))
        await nudge(session, world.cohort, who, DAY, NudgeFeedback.helpful)
    group = await circle(session, world.cohort, DAY,
                         [(world.leader, MetAnswer.yes), (world.other_leader, MetAnswer.yes)])
    for row in (await session.exec(select(CircleMember).where(
            CircleMember.circle_id == group.id))).all():
        row.commitment = WORDS
        session.add(row)
    session.add(CircleBlock(workspace_id=world.leader.workspace_id,
                            blocker_id=world.leader.id or 0, blocked_id=world.other_leader.id or 0))
    sent = Broadcast(workspace_id=world.cohort.workspace_id, cohort_id=world.cohort.id or 0,
                     audience=Audience.leaders, text="How is it going?", question="One word?",
                     send_at=datetime(2025, 3, 3, 9, tzinfo=UTC), status=BroadcastStatus.sent)
    session.add(sent)
    await session.flush()
    for who in (world.leader, world.other_leader):
        session.add(BroadcastAnswer(broadcast_id=sent.id or 0, member_id=who.id or 0,
                                    answer=WORDS))
    await session.commit()


async def test_the_export_holds_my_words_from_every_domain_and_nobody_elses(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    await with_words_everywhere(session, world)
    export = (await client.get(f"/api/v1/members/{world.leader.id}/export",
                               headers=world.keys["leader"])).json()
    assert [a["text"] for a in export["checkin_answers"]] == [WORDS, None]
    assert len(export["checkins"]) == 1
    assert [n["member_id"] for n in export["nudges"]] == [world.leader.id]
    assert [a["answer"] for a in export["broadcast_answers"]] == [WORDS]
    assert [a["commitment"] for a in export["circle_answers"]] == [WORDS]
    assert [b["blocked_id"] for b in export["circle_blocks"]] == [world.other_leader.id]


async def test_erasure_blanks_my_words_everywhere_and_keeps_the_counts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    await with_words_everywhere(session, world)
    response = await client.delete(f"/api/v1/members/{world.leader.id}/data",
                                   headers=world.keys["admin"])
    assert response.status_code == 200, response.text
    assert response.json()["erased"] == {
        "goals": 2, "milestones": 2, "progress_updates": 2, "checkin_answers": 1,
        "review_replies": 0,
        "circle_commitments": 1, "circle_blocks": 1, "nudges": 1, "broadcast_answers": 1,
    }
    leader_id, other_id = world.leader.id, world.other_leader.id
    session.expire_all()
    answers = (await session.exec(select(CheckinAnswer).order_by(CheckinAnswer.id))).all()
    assert [(a.text, a.number) for a in answers] == [
        ("[erased]", None), (None, 4), (WORDS, None), (None, 4)]
    nudges = (await session.exec(select(Nudge).order_by(Nudge.id))).all()
    assert [(n.text, n.feedback) for n in nudges] == [
        ("[erased]", NudgeFeedback.helpful), ("Nudge", NudgeFeedback.helpful)]
    broadcast_answers = (await session.exec(
        select(BroadcastAnswer).order_by(BroadcastAnswer.id))).all()
    assert [a.answer for a in broadcast_answers] == ["[erased]", WORDS]
    commitments = {m.member_id: (m.met, m.commitment)
                   for m in (await session.exec(select(CircleMember))).all()}
    assert commitments == {leader_id: (MetAnswer.yes, "[erased]"),
                           other_id: (MetAnswer.yes, WORDS)}
    assert (await session.exec(select(CircleBlock))).all() == []
