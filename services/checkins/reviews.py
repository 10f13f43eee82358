"""Coach review threads: one thread per coach × leader in the coach's DM, holding the
leader's answered check-ins (coach-visible answers only).

Everything goes through the delivery outbox: the thread's parent message and each answered
check-in are deliveries, the check-in a reply in the parent's thread (the outbox sends it
once the parent has been sent). What the coach reads is built when it is sent, from the
stored answers, and only while the coach still coaches the leader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

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
from services.delivery.service import NewDelivery, enqueue_many
from services.people.models import CoachAssignment, Member
from services.plans.models import Visibility

PARENT_KIND: Final = "review_parent"
POST_KIND: Final = "review_post"

Side = Literal["coach", "leader"]


def thread_key(thread_id: int, side: Side) -> str:
    """The delivery key of the message a review thread hangs from, in one side's DM."""
    return f"review:{thread_id}:{side}"


def post_key(thread_id: int, checkin_id: int) -> str:
    """The delivery key of one answered check-in in a coach's thread."""
    return f"review:{thread_id}:checkin:{checkin_id}"


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
    """One answered check-in, as its leader's coach reads it."""

    leader_name: str
    title: str
    local_date: date
    late: bool
    answers: list[ReviewAnswer]
    withheld: int


@dataclass(frozen=True)
class ThreadPeople:
    """The coach and the leader of a review thread."""

    thread: ReviewThread
    coach: Member
    leader: Member

    def member(self, side: Side) -> Member:
        """The person on one side of the thread."""
        return self.coach if side == "coach" else self.leader


async def _coaches(session: AsyncSession, leader_id: int, cohort_id: int) -> list[Member]:
    rows = await session.exec(
        select(Member).join(CoachAssignment, col(CoachAssignment.coach_id) == Member.id)
        .where(CoachAssignment.leader_id == leader_id, CoachAssignment.cohort_id == cohort_id,
               col(Member.erased_at).is_(None))
        .order_by(col(Member.id))
    )
    return list(rows.all())


async def _thread_ids(session: AsyncSession, workspace_id: int, leader_id: int,
                      coach_ids: list[int]) -> dict[int, int]:
    """Thread id by coach id, creating the threads that do not exist yet."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.exec(
        insert(ReviewThread)
        .values([{"workspace_id": workspace_id, "coach_id": coach_id, "leader_id": leader_id}
                 for coach_id in coach_ids])
        .on_conflict_do_nothing(index_elements=["coach_id", "leader_id"])
    )
    rows = await session.exec(
        select(ReviewThread.coach_id, ReviewThread.id).where(
            ReviewThread.leader_id == leader_id, col(ReviewThread.coach_id).in_(coach_ids)))
    return {coach_id: thread_id or 0 for coach_id, thread_id in rows.all()}


async def enqueue_reviews(*, session: AsyncSession, checkin: Checkin) -> int:
    """Queue an answered check-in for each of the leader's coaches, under the coach's thread
    about the leader (queued first, once per thread); returns how many coaches get it."""
    schedule = await session.get(CheckinSchedule, checkin.schedule_id)
    if schedule is None or checkin.answered_at is None:
        return 0
    coaches = await _coaches(session, checkin.member_id, schedule.cohort_id)
    if not coaches:
        return 0
    threads = await _thread_ids(session, checkin.workspace_id, checkin.member_id,
                                [coach.id or 0 for coach in coaches])
    deliveries: list[NewDelivery] = []
    for coach_id, thread_id in sorted(threads.items()):
        parent = thread_key(thread_id, "coach")
        deliveries += [
            NewDelivery(workspace_id=checkin.workspace_id, delivery_key=parent,
                        kind=PARENT_KIND, intent={"kind": PARENT_KIND, "thread_id": thread_id},
                        member_id=coach_id),
            NewDelivery(workspace_id=checkin.workspace_id,
                        delivery_key=post_key(thread_id, checkin.id or 0), kind=POST_KIND,
                        intent={"kind": POST_KIND, "thread_id": thread_id,
                                "checkin_id": checkin.id},
                        member_id=coach_id, thread_key=parent),
        ]
    await enqueue_many(session=session, deliveries=deliveries)
    return len(threads)


async def _assigned(session: AsyncSession, coach_id: int, leader_id: int,
                    cohort_id: int | None = None) -> bool:
    statement = select(CoachAssignment.id).where(CoachAssignment.coach_id == coach_id,
                                                 CoachAssignment.leader_id == leader_id)
    if cohort_id is not None:
        statement = statement.where(CoachAssignment.cohort_id == cohort_id)
    return (await session.exec(statement.limit(1))).first() is not None


async def thread_people(*, session: AsyncSession, thread_id: int) -> ThreadPeople | None:
    """The thread's coach and leader, while the coach is still assigned to the leader and
    neither has been erased; None otherwise (nothing more goes through the thread)."""
    thread = await session.get(ReviewThread, thread_id)
    if thread is None:
        return None
    coach = await session.get(Member, thread.coach_id)
    leader = await session.get(Member, thread.leader_id)
    if (coach is None or leader is None or coach.erased_at is not None
            or leader.erased_at is not None
            or not await _assigned(session, thread.coach_id, thread.leader_id)):
        return None
    return ThreadPeople(thread=thread, coach=coach, leader=leader)


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


async def review_post(
    *, session: AsyncSession, thread_id: int, checkin_id: int, coach_id: int | None
) -> ReviewPost | None:
    """What the thread's coach (`coach_id`, else None) reads of this answered check-in: the
    answers the leader shared, only while the coach is assigned to the leader in the
    check-in's cohort."""
    people = await thread_people(session=session, thread_id=thread_id)
    row = (await session.exec(
        select(Checkin, CheckinSchedule)
        .join(CheckinSchedule, col(CheckinSchedule.id) == Checkin.schedule_id)
        .where(Checkin.id == checkin_id, col(Checkin.answered_at).is_not(None)))).first()
    if people is None or row is None or people.coach.id != coach_id:
        return None
    checkin, schedule = row
    if checkin.member_id != people.leader.id or not await _assigned(
            session, people.coach.id or 0, checkin.member_id, schedule.cohort_id):
        return None
    answers = list((await session.exec(
        select(CheckinAnswer).where(CheckinAnswer.checkin_id == checkin_id))).all())
    view, withheld = coach_view(list(checkin.questions), answers)
    return ReviewPost(leader_name=people.leader.name, title=schedule.name,
                      local_date=checkin.local_date, late=checkin.late, answers=view,
                      withheld=withheld)
