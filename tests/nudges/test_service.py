"""From due leader to stored nudge: auto sends, coach_review queues, the coach decides."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor, actor_for
from services.db import transaction
from services.errors import Conflict, Invalid, NotFound
from services.nudges import service
from services.nudges.context import Audience
from services.nudges.models import Nudge, NudgeFeedback, NudgeStatus
from services.nudges.sources import load_context
from services.people.models import Enrollment, EnrollmentStatus, Member, NudgeMode
from services.privacy.models import AuditEvent
from tests.factories.people import assign, make_member
from tests.nudges.conftest import Tick, deliveries, nudges_of
from tests.nudges.factories import NOW, TODAY, Program, make_checkin, make_program

Sessions = async_sessionmaker[AsyncSession]


async def actor(session: AsyncSession, member: Member, role: Role) -> Actor:
    return await actor_for(
        session=session, workspace_id=member.workspace_id, role=role, member_id=member.id
    )


async def program_with(session: AsyncSession, mode: NudgeMode, **options: object) -> Program:
    program = await make_program(session, mode=mode, **options)  # type: ignore[arg-type]
    await session.commit()
    return program


async def test_auto_mode_sends_with_its_records(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await program_with(session, NudgeMode.auto)
    assert await tick() == 2  # Maya and Omar
    [nudge] = await nudges_of(sessions, program.leader.id or 0)
    assert nudge.status == NudgeStatus.sent and nudge.sent_at == NOW
    assert nudge.source == "offline" and nudge.model == "offline"
    assert nudge.prompt_version and nudge.prompt_version.startswith("nudges/offline_overdue")
    assert nudge.goal_id == program.goal.id and nudge.milestone_id == program.milestone.id
    assert nudge.attempts == 1 and nudge.latency_ms is not None
    assert nudge.local_date == TODAY and nudge.cohort_id == program.cohort.id
    assert "Maya" in nudge.text and nudge.suggested_action and nudge.rationale
    sent = [d for d in await deliveries(sessions) if d.member_id == program.leader.id]
    assert [(d.kind, d.intent) for d in sent] == [
        ("nudge", {"kind": "nudge", "nudge_id": nudge.id})
    ]
    # The same minute again, or the next one: nothing new.
    assert await tick() == 0
    assert await tick(now=NOW + timedelta(minutes=1)) == 0
    assert len(await deliveries(sessions)) == 2


async def test_review_mode_queues_the_draft_for_the_coach(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await program_with(session, NudgeMode.coach_review)
    await tick()
    [nudge] = await nudges_of(sessions, program.leader.id or 0)
    assert nudge.status == NudgeStatus.draft and nudge.sent_at is None
    [review] = [d for d in await deliveries(sessions) if d.kind == "nudge_review"]
    assert review.member_id == program.coach.id
    assert review.intent == {"kind": "nudge_review", "nudge_id": nudge.id}
    assert not [d for d in await deliveries(sessions) if d.member_id == program.leader.id]
    async with sessions() as check:
        audit = (await check.exec(select(AuditEvent))).all()
    assert [(a.actor_member_id, a.subject_member_id, a.object_type) for a in audit] == [
        (program.coach.id, program.leader.id, "nudge")
    ]


async def test_review_mode_without_a_coach_holds_the_draft(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await program_with(session, NudgeMode.coach_review, with_coach=False)
    await tick()
    [nudge] = await nudges_of(sessions, program.leader.id or 0)
    assert nudge.status == NudgeStatus.draft
    assert not [d for d in await deliveries(sessions) if d.member_id == program.leader.id]
    assert not [d for d in await deliveries(sessions) if d.kind == "nudge_review"]
    # A coach assigned later can find and approve it.
    async with transaction(sessions) as work:
        await assign(work, program.cohort, program.coach, program.leader)
    async with transaction(sessions) as work:
        coach = await actor(work, program.coach, Role.coach)
        approved = await service.approve_nudge(
            session=work, actor=coach, nudge_id=nudge.id or 0, now=NOW
        )
    assert approved.status == NudgeStatus.sent


async def drafted(session: AsyncSession, sessions: Sessions, tick: Tick) -> tuple[Program, Nudge]:
    program = await program_with(session, NudgeMode.coach_review)
    await tick()
    [nudge] = await nudges_of(sessions, program.leader.id or 0)
    return program, nudge


async def test_the_coach_approves(session: AsyncSession, sessions: Sessions, tick: Tick) -> None:
    program, nudge = await drafted(session, sessions, tick)
    later = NOW + timedelta(hours=2)
    async with transaction(sessions) as work:
        coach = await actor(work, program.coach, Role.coach)
        await service.approve_nudge(session=work, actor=coach, nudge_id=nudge.id or 0, now=later)
    [stored] = await nudges_of(sessions, program.leader.id or 0)
    assert stored.status == NudgeStatus.sent
    assert (stored.reviewer_id, stored.decided_at) == (program.coach.id, later)
    assert stored.sent_at == later
    assert stored.original_text is None
    sent = [d for d in await deliveries(sessions) if d.member_id == program.leader.id]
    assert [d.intent for d in sent] == [{"kind": "nudge", "nudge_id": nudge.id}]
    async with transaction(sessions) as work:
        coach = await actor(work, program.coach, Role.coach)
        with pytest.raises(Conflict):
            await service.approve_nudge(
                session=work, actor=coach, nudge_id=nudge.id or 0, now=later
            )


async def test_the_coach_edits_and_the_edit_is_stored_with_who_made_it(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program, nudge = await drafted(session, sessions, tick)
    new_text = "Maya, the hand-over notes: shall we look at a first page together on Thursday?"
    async with transaction(sessions) as work:
        coach = await actor(work, program.coach, Role.coach)
        await service.edit_nudge(
            session=work, actor=coach, nudge_id=nudge.id or 0, text=f"  {new_text} ", now=NOW
        )
    [stored] = await nudges_of(sessions, program.leader.id or 0)
    assert stored.text == new_text
    assert stored.original_text == nudge.text
    assert stored.reviewer_id == program.coach.id and stored.status == NudgeStatus.sent


@pytest.mark.parametrize(
    "text",
    [
        "Too short",
        "Maya, ask <!here> for help with the hand-over notes this week.",
        "Maya, @channel can help with the hand-over notes this week.",
        "Maya, read https://example.com/handover before Thursday please.",
        "x" * 601,
    ],
)
async def test_an_edit_with_mentions_links_or_a_bad_length_is_refused(
    session: AsyncSession, sessions: Sessions, tick: Tick, text: str
) -> None:
    program, nudge = await drafted(session, sessions, tick)
    async with transaction(sessions) as work:
        coach = await actor(work, program.coach, Role.coach)
        with pytest.raises(Invalid) as raised:
            await service.edit_nudge(
                session=work, actor=coach, nudge_id=nudge.id or 0, text=text, now=NOW
            )
    assert raised.value.field == "text"
    [stored] = await nudges_of(sessions, program.leader.id or 0)
    assert stored.status == NudgeStatus.draft and stored.text == nudge.text


async def test_the_coach_rejects(session: AsyncSession, sessions: Sessions, tick: Tick) -> None:
    program, nudge = await drafted(session, sessions, tick)
    async with transaction(sessions) as work:
        coach = await actor(work, program.coach, Role.coach)
        await service.reject_nudge(session=work, actor=coach, nudge_id=nudge.id or 0, now=NOW)
    [stored] = await nudges_of(sessions, program.leader.id or 0)
    assert stored.status == NudgeStatus.rejected and stored.reviewer_id == program.coach.id
    assert not [d for d in await deliveries(sessions) if d.member_id == program.leader.id]
    # A rejection stands for the week: no new draft tomorrow.
    assert await tick(now=NOW + timedelta(days=1)) == 0


async def test_only_the_leaders_coach_may_review(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program, nudge = await drafted(session, sessions, tick)
    async with transaction(sessions) as work:
        stranger = await make_member(work, program.workspace, name="Sam Stranger")
    async with transaction(sessions) as work:
        for who in (
            await actor(work, stranger, Role.coach),
            await actor(work, program.leader, Role.leader),
            await actor(work, program.other, Role.leader),
        ):
            with pytest.raises(NotFound):
                await service.approve_nudge(session=work, actor=who, nudge_id=nudge.id or 0,
                                            now=NOW)


async def test_a_paused_leader_gets_no_approved_draft(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program, nudge = await drafted(session, sessions, tick)
    async with transaction(sessions) as work:
        enrollment = (await work.exec(
            select(Enrollment).where(Enrollment.member_id == program.leader.id)
        )).one()
        enrollment.status = EnrollmentStatus.paused
        work.add(enrollment)
    async with transaction(sessions) as work:
        coach = await actor(work, program.coach, Role.coach)
        with pytest.raises(Conflict):
            await service.approve_nudge(session=work, actor=coach, nudge_id=nudge.id or 0, now=NOW)


async def test_feedback_and_a_single_snooze(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await program_with(session, NudgeMode.auto)
    await tick()
    [nudge] = await nudges_of(sessions, program.leader.id or 0)
    for feedback in (NudgeFeedback.snoozed, NudgeFeedback.snoozed, NudgeFeedback.helpful):
        async with transaction(sessions) as work:
            leader = await actor(work, program.leader, Role.leader)
            await service.record_feedback(
                session=work, actor=leader, nudge_id=nudge.id or 0, feedback=feedback, now=NOW
            )
    [stored] = await nudges_of(sessions, program.leader.id or 0)
    assert stored.feedback == NudgeFeedback.helpful and stored.feedback_at == NOW
    sent = [d for d in await deliveries(sessions) if d.member_id == program.leader.id]
    assert [d.delivery_key for d in sent] == [f"nudge:{nudge.id}", f"nudge:{nudge.id}:snoozed"]
    assert sent[1].next_attempt_at == NOW + timedelta(hours=24)
    async with transaction(sessions) as work:
        other = await actor(work, program.other, Role.leader)
        with pytest.raises(NotFound):
            await service.record_feedback(session=work, actor=other, nudge_id=nudge.id or 0,
                                          feedback=NudgeFeedback.helpful, now=NOW)


async def test_context_holds_only_the_leaders_own_rows(session: AsyncSession) -> None:
    program = await make_program(session)
    await make_checkin(session, program.leader, program.cohort, answers={
        "q1": "Hand-over slipped again", "q2": ""}, answered_at=NOW - timedelta(days=1))
    await make_checkin(session, program.leader, program.cohort, local_date=TODAY.replace(day=9),
                       answers={"q1": "Private worry"}, visibility="private",
                       answered_at=NOW - timedelta(days=2))
    await make_checkin(session, program.other, program.cohort, answers={"q1": "Omar's answer"},
                       answered_at=NOW - timedelta(days=1))
    leader = await session.get(Member, program.leader.id)
    assert leader is not None
    context = await load_context(session=session, member=leader, local_date=TODAY, now=NOW,
                                 audience=Audience.leader)
    assert {g.id for g in context.goals} == {program.goal.id, program.private_goal.id}
    assert {m.goal_id for m in context.milestones} == {program.goal.id}
    assert [n.text for n in context.notes] == ["Hand-over slipped again", "Private worry"]
    assert context.notes[0].question == "Question q1?"
    assert context.leader_first_name == "Maya"
    assert {"Omar Haddad", "Omar", "Carmen"} <= context.other_people
    assert "Maya Patel" not in context.other_people
    reviewed = await load_context(session=session, member=leader, local_date=TODAY, now=NOW,
                                  audience=Audience.coach_review)
    assert {g.id for g in reviewed.goals} == {program.goal.id}
    assert [n.text for n in reviewed.notes] == ["Hand-over slipped again"]


async def test_a_nudge_made_twice_with_one_key_is_stored_once(
    session: AsyncSession, sessions: Sessions
) -> None:
    from services.llm import OfflineDrafter
    from services.nudges.jobs import nudge_leader
    from services.nudges.timing import leader_target

    program = await program_with(session, NudgeMode.auto)
    async with sessions() as read:
        target, _ = await leader_target(session=read, member_id=program.leader.id or 0, now=NOW)
    assert target is not None
    made = [
        await nudge_leader(sessions=sessions, target=target, now=NOW, drafter=None,
                           fallback=OfflineDrafter(), dedupe_key="nudge:once")
        for _ in range(2)
    ]
    assert made[0] is not None and made[1] is None
    assert len(await nudges_of(sessions, program.leader.id or 0)) == 1


async def test_every_due_leader_gets_their_own_goal(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await program_with(session, NudgeMode.auto)
    await tick()
    async with sessions() as read:
        rows = (await read.exec(select(Nudge).where(Nudge.member_id == program.other.id))).all()
    assert [n.goal_id for n in rows] == [program.other_goal.id]


async def test_contexts_read_together_keep_each_leader_to_their_own(
    session: AsyncSession,
) -> None:
    from services.nudges.sources import Request, load_contexts
    from tests.factories.plans import make_progress

    program = await make_program(session)
    await make_progress(session, program.goal, note="Maya's note", created_at=NOW)
    await make_progress(session, program.other_goal, note="Omar's note", created_at=NOW)
    checkin = await make_checkin(session, program.other, program.cohort, answers={
        "q1": "Omar about Maya's milestone"}, answered_at=NOW - timedelta(hours=1))
    from services.checkins.models import CheckinAnswer

    answer = (await session.exec(
        select(CheckinAnswer).where(CheckinAnswer.checkin_id == checkin.id)
    )).one()
    answer.milestone_id = program.milestone.id  # a stray link to someone else's milestone
    session.add(answer)
    await session.flush()
    contexts = await load_contexts(session=session, now=NOW, requests=[
        Request(program.leader, TODAY, Audience.leader),
        Request(program.other, TODAY, Audience.coach_review),
    ])
    maya, omar = contexts[program.leader.id or 0], contexts[program.other.id or 0]
    assert {g.id for g in maya.goals} == {program.goal.id, program.private_goal.id}
    assert [n.text for n in maya.notes] == ["Maya's note"]
    assert {g.id for g in omar.goals} == {program.other_goal.id}
    assert {m.id for m in omar.milestones} == {program.other_milestone.id}
    assert [(n.text, n.goal_id) for n in omar.notes] == [
        ("Omar's note", program.other_goal.id), ("Omar about Maya's milestone", None)
    ]
    assert "Maya Patel" in omar.other_people and "Omar Haddad" not in omar.other_people


async def test_a_batch_that_cannot_be_recorded_is_recorded_one_by_one(
    session: AsyncSession, sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    from services.llm import OfflineDrafter
    from services.nudges.jobs import _Recorder, draft_for
    from services.nudges.recording import NewNudge
    from services.nudges.timing import leader_target

    program = await program_with(session, NudgeMode.auto)
    news = []
    for member in (program.leader, program.other):
        async with sessions() as read:
            target, _ = await leader_target(session=read, member_id=member.id or 0, now=NOW)
        assert target is not None
        drafted = await draft_for(sessions=sessions, target=target, now=NOW, drafter=None,
                                  fallback=OfflineDrafter())
        assert drafted is not None
        news.append(NewNudge(target, drafted, f"batch:{member.id}"))
    # Omar's goal is deleted while his nudge was being drafted: its insert must fail alone.
    broken = news[1].drafted.model_copy(update={
        "draft": news[1].drafted.draft.model_copy(update={"cited_goal_id": 999_999})})
    news[1] = NewNudge(news[1].target, broken, news[1].dedupe_key)
    recorder = _Recorder(sessions=sessions, now=NOW)
    for new in news:
        recorder.queue.put_nowait(new)
    recorder.queue.put_nowait(None)
    await recorder.run()
    assert recorder.recorded == 1
    assert len(await nudges_of(sessions, program.leader.id or 0)) == 1
    assert await nudges_of(sessions, program.other.id or 0) == []
    assert f"recording the nudge for member {program.other.id} failed" in caplog.text
