"""Coach review threads: one thread per coach × leader holding the leader's answered
check-ins (coach-visible answers only), and the relay of replies between the coach's
thread and the leader's DM."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import (
    Checkin,
    CheckinAnswer,
    CheckinSchedule,
    QuestionKind,
    ReviewThread,
)
from services.people.models import CoachAssignment, Member
from services.plans.models import Visibility


@dataclass(frozen=True)
class ReviewAnswer:
    """One answer as the coach sees it."""

    question: str
    kind: QuestionKind
    text: str | None = None
    number: int | None = None
    status: str | None = None


@dataclass(frozen=True)
class ReviewPost:
    """One answered check-in, for one coach's thread about the leader."""

    thread_id: int
    coach_slack_id: str
    coach_channel: str | None
    coach_thread_ts: str | None
    leader_name: str
    title: str
    local_date: date
    late: bool
    answers: list[ReviewAnswer]
    withheld: int


async def _coaches(session: AsyncSession, leader_id: int, cohort_id: int) -> list[Member]:
    rows = await session.exec(
        select(Member).join(CoachAssignment, col(CoachAssignment.coach_id) == Member.id)
        .where(CoachAssignment.leader_id == leader_id, CoachAssignment.cohort_id == cohort_id,
               col(Member.erased_at).is_(None))
        .order_by(col(Member.id))
    )
    return list(rows.all())


async def _threads(session: AsyncSession, leader: Member,
                   coaches: list[Member]) -> dict[int, ReviewThread]:
    if not coaches:
        return {}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.exec(
        insert(ReviewThread)
        .values([{"workspace_id": leader.workspace_id, "coach_id": c.id, "leader_id": leader.id}
                 for c in coaches])
        .on_conflict_do_nothing(index_elements=["coach_id", "leader_id"])
    )
    rows = await session.exec(
        select(ReviewThread).where(ReviewThread.leader_id == leader.id,
                                   col(ReviewThread.coach_id).in_([c.id for c in coaches]))
        .execution_options(populate_existing=True)
    )
    return {thread.coach_id: thread for thread in rows.all()}


def coach_view(questions: list[dict[str, Any]],
               answers: list[CheckinAnswer]) -> tuple[list[ReviewAnswer], int]:
    """The coach-visible answers in question order, and how many were withheld."""
    shown = {a.question_id: a for a in answers if a.visibility == Visibility.coach.value}
    withheld = len({a.question_id.removesuffix(":status") for a in answers
                    if a.visibility != Visibility.coach.value})
    view: list[ReviewAnswer] = []
    for question in questions:
        kind = QuestionKind(question["kind"])
        if kind is not QuestionKind.goal_progress:
            answer = shown.get(str(question["id"]))
            if answer is not None:
                view.append(ReviewAnswer(question=str(question["text"]), kind=kind,
                                         text=answer.text, number=answer.number))
            continue
        for item in question.get("items") or []:
            note, status = shown.get(item["id"]), shown.get(f"{item['id']}:status")
            if note is None and status is None:
                continue
            view.append(ReviewAnswer(
                question=f"{item['goal_title']} › {item['title']}", kind=kind,
                text=note.text if note else None, number=note.number if note else None,
                status=status.text if status else None))
    return view, withheld


async def review_posts(*, session: AsyncSession, checkin_id: int) -> list[ReviewPost]:
    """What each of the leader's coaches gets in their thread for this answered check-in."""
    row = (
        await session.exec(
            select(Checkin, CheckinSchedule, Member)
            .join(CheckinSchedule, col(CheckinSchedule.id) == Checkin.schedule_id)
            .join(Member, col(Member.id) == Checkin.member_id)
            .where(Checkin.id == checkin_id, col(Checkin.answered_at).is_not(None))
        )
    ).first()
    if row is None:
        return []
    checkin, schedule, leader = row
    coaches = await _coaches(session, leader.id or 0, schedule.cohort_id)
    threads = await _threads(session, leader, coaches)
    answers = list((await session.exec(
        select(CheckinAnswer).where(CheckinAnswer.checkin_id == checkin_id))).all())
    view, withheld = coach_view(list(checkin.questions), answers)
    return [
        ReviewPost(
            thread_id=threads[coach.id or 0].id or 0, coach_slack_id=coach.slack_user_id,
            coach_channel=threads[coach.id or 0].coach_channel,
            coach_thread_ts=threads[coach.id or 0].coach_thread_ts, leader_name=leader.name,
            title=schedule.name, local_date=checkin.local_date, late=checkin.late,
            answers=view, withheld=withheld)
        for coach in coaches
    ]


Side = Literal["coach", "leader"]


async def record_thread(
    *, session: AsyncSession, thread_id: int, side: Side, channel: str, ts: str
) -> tuple[str, str]:
    """Keep the thread's parent message on one side; if another was recorded first, that
    one wins and is returned (the caller removes its own)."""
    channel_col = ReviewThread.coach_channel if side == "coach" else ReviewThread.leader_channel
    ts_col = ReviewThread.coach_thread_ts if side == "coach" else ReviewThread.leader_thread_ts
    statement = (
        update(ReviewThread)
        .where(col(ReviewThread.id) == thread_id, col(ts_col).is_(None))
        .values({channel_col: channel, ts_col: ts})
        .execution_options(synchronize_session=False)
    )
    if (await session.exec(statement)).rowcount:
        return channel, ts
    thread = await session.get(ReviewThread, thread_id, populate_existing=True)
    if thread is None:
        return channel, ts
    if side == "coach":
        return thread.coach_channel or channel, thread.coach_thread_ts or ts
    return thread.leader_channel or channel, thread.leader_thread_ts or ts


@dataclass(frozen=True)
class Relay:
    """Where a reply in a review thread goes, and who wrote it."""

    thread_id: int
    author_name: str
    author_side: Side
    to_slack_id: str
    to_channel: str | None
    to_thread_ts: str | None


async def relay_for(
    *, session: AsyncSession, author: Member, channel: str, thread_ts: str
) -> Relay | None:
    """The relay for a message in a thread, if it is a review thread its author belongs to
    and the coach is still assigned to the leader."""
    thread = (
        await session.exec(
            select(ReviewThread).where(
                ReviewThread.workspace_id == author.workspace_id,
                ((ReviewThread.coach_id == author.id) & (ReviewThread.coach_channel == channel)
                 & (ReviewThread.coach_thread_ts == thread_ts))
                | ((ReviewThread.leader_id == author.id)
                   & (ReviewThread.leader_channel == channel)
                   & (ReviewThread.leader_thread_ts == thread_ts)))
        )
    ).first()
    if thread is None:
        return None
    assigned = (await session.exec(select(CoachAssignment.id).where(
        CoachAssignment.coach_id == thread.coach_id,
        CoachAssignment.leader_id == thread.leader_id))).first()
    from_coach = thread.coach_id == author.id
    other = await session.get(Member, thread.leader_id if from_coach else thread.coach_id)
    if assigned is None or other is None or other.erased_at is not None:
        return None
    return Relay(
        thread_id=thread.id or 0, author_name=author.name,
        author_side="coach" if from_coach else "leader", to_slack_id=other.slack_user_id,
        to_channel=thread.leader_channel if from_coach else thread.coach_channel,
        to_thread_ts=thread.leader_thread_ts if from_coach else thread.coach_thread_ts)
