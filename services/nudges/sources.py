"""Read one leader's own plan rows and check-in answers into a nudge context.

Every query here is keyed by the leader's member id (goals, progress and check-ins are the
leader's own); `build_nudge_context` then drops anything else a caller might pass and what
the audience may not read. Names of other workspace members are loaded only to check drafts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import Checkin, CheckinAnswer
from services.nudges.context import (
    Audience,
    GoalFacts,
    MilestoneFacts,
    NoteFacts,
    build_nudge_context,
)
from services.nudges.schema import NudgeContext
from services.people.models import Member
from services.plans.models import (
    Goal,
    GoalStatus,
    Milestone,
    MilestoneStatus,
    ProgressUpdate,
    Visibility,
)

# Notes older than this rarely say anything about this week; the budget trims further.
NOTE_WINDOW = timedelta(days=60)
NOTES_PER_KIND = 40


async def workspace_names(*, session: AsyncSession, workspace_id: int) -> dict[int, str]:
    """Every member's name in the workspace, by member id (to check drafts against)."""
    rows = await session.exec(
        select(Member.id, Member.name).where(Member.workspace_id == workspace_id)
    )
    return {member_id or 0: name for member_id, name in rows.all()}


def other_people(names: Mapping[int, str], *, leader_id: int) -> list[str]:
    """Full and first names of everyone but the leader."""
    found: list[str] = []
    for member_id, name in names.items():
        if member_id == leader_id or not name.strip():
            continue
        found.append(name.strip())
        first = name.split()[0]
        if first != name.strip():
            found.append(first)
    return found


def first_name(name: str) -> str:
    """The first word of a member's name."""
    words = name.split()
    return words[0] if words else "there"


async def load_context(
    *,
    session: AsyncSession,
    member: Member,
    local_date: date,
    now: datetime,
    audience: Audience,
    names: Mapping[int, str] | None = None,
) -> NudgeContext:
    """The nudge context for one leader: only their own rows the audience may read."""
    leader_id = member.id or 0
    if names is None:
        names = await workspace_names(session=session, workspace_id=member.workspace_id)
    goals = await _goals(session, leader_id)
    goal_ids = [g.id for g in goals]
    milestones = await _milestones(session, goal_ids)
    by_goal = {g.id: g for g in goals}
    since = now - NOTE_WINDOW
    notes = [
        *await _progress(session, leader_id, by_goal, since),
        *await _answers(session, leader_id, {m.id: m.goal_id for m in milestones}, since),
    ]
    return build_nudge_context(
        leader_id=leader_id,
        first_name=first_name(member.name),
        local_date=local_date,
        goals=goals,
        milestones=milestones,
        notes=notes,
        other_people=other_people(names, leader_id=leader_id),
        audience=audience,
    )


async def _goals(session: AsyncSession, leader_id: int) -> list[GoalFacts]:
    rows = await session.exec(
        select(Goal).where(Goal.member_id == leader_id).order_by(col(Goal.id))
    )
    return [
        GoalFacts(
            id=goal.id or 0,
            member_id=goal.member_id,
            title=goal.title,
            status=GoalStatus(goal.status),
            visibility=Visibility(goal.visibility),
            why=goal.why,
            competency=goal.competency,
        )
        for goal in rows.all()
    ]


async def _milestones(session: AsyncSession, goal_ids: Sequence[int]) -> list[MilestoneFacts]:
    if not goal_ids:
        return []
    rows = await session.exec(
        select(Milestone)
        .where(col(Milestone.goal_id).in_(goal_ids))
        .order_by(col(Milestone.goal_id), col(Milestone.position), col(Milestone.id))
    )
    return [
        MilestoneFacts(
            id=m.id or 0,
            goal_id=m.goal_id,
            title=m.title,
            status=MilestoneStatus(m.status),
            due_date=m.due_date,
        )
        for m in rows.all()
    ]


async def _progress(
    session: AsyncSession, leader_id: int, goals: Mapping[int, GoalFacts], since: datetime
) -> list[NoteFacts]:
    if not goals:
        return []
    rows = await session.exec(
        select(ProgressUpdate)
        .where(
            ProgressUpdate.member_id == leader_id,
            col(ProgressUpdate.goal_id).in_(list(goals)),
            col(ProgressUpdate.created_at) >= since,
        )
        .order_by(col(ProgressUpdate.created_at).desc())
        .limit(NOTES_PER_KIND)
    )
    # A progress update is as visible as the goal it belongs to.
    return [
        NoteFacts(
            member_id=update.member_id,
            text=update.note,
            recorded_at=update.created_at,
            visibility=goals[update.goal_id].visibility,
            goal_id=update.goal_id,
            confidence=update.confidence,
        )
        for update in rows.all()
    ]


async def _answers(
    session: AsyncSession, leader_id: int, milestone_goals: Mapping[int, int], since: datetime
) -> list[NoteFacts]:
    rows = await session.exec(
        select(CheckinAnswer, Checkin)
        .join(Checkin, col(Checkin.id) == CheckinAnswer.checkin_id)
        .where(Checkin.member_id == leader_id, col(CheckinAnswer.created_at) >= since)
        .order_by(col(CheckinAnswer.created_at).desc())
        .limit(NOTES_PER_KIND)
    )
    notes = []
    for answer, checkin in rows.all():
        text = answer.text if answer.text else (
            str(answer.number) if answer.number is not None else None
        )
        if not text or not text.strip():
            continue
        notes.append(
            NoteFacts(
                member_id=checkin.member_id,
                text=text,
                recorded_at=answer.created_at,
                visibility=_visibility(answer.visibility),
                goal_id=milestone_goals.get(answer.milestone_id or 0),
                question=_question_text(checkin.questions, answer.question_id),
            )
        )
    return notes


def _visibility(value: str) -> Visibility:
    # An answer whose visibility this version does not know is treated as the leader's alone.
    try:
        return Visibility(value)
    except ValueError:
        return Visibility.private


def _question_text(questions: Iterable[Mapping[str, Any]], question_id: str) -> str:
    for question in questions:
        if question.get("id") == question_id and isinstance(question.get("text"), str):
            return str(question["text"])
    return "Check-in question"
