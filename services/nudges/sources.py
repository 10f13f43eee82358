"""Read one leader's own plan rows and check-in answers into a nudge context.

Every query here is keyed by leaders' member ids and every row is grouped back to its own
leader (goals, progress and check-ins are the leader's own); `build_nudge_context` then drops
anything else a caller might pass and what the audience may not read. Names of other
workspace members are loaded only to check drafts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

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

T = TypeVar("T")


async def workspace_names(*, session: AsyncSession, workspace_id: int) -> dict[int, str]:
    """Every member's name in the workspace, by member id (to check drafts against)."""
    rows = await session.exec(
        select(Member.id, Member.name).where(Member.workspace_id == workspace_id)
    )
    return {member_id or 0: name for member_id, name in rows.all()}


def name_variants(names: Mapping[int, str]) -> list[tuple[int, tuple[str, ...]]]:
    """Each member's full name and first name, worked out once for many leaders."""
    variants: list[tuple[int, tuple[str, ...]]] = []
    for member_id, name in names.items():
        full = name.strip()
        if full:
            first = full.split()[0]
            variants.append((member_id, (full, first) if first != full else (full,)))
    return variants


def other_people(names: Mapping[int, str], *, leader_id: int) -> list[str]:
    """Full and first names of everyone but the leader."""
    return _others(name_variants(names), leader_id)


def _others(variants: Sequence[tuple[int, tuple[str, ...]]], leader_id: int) -> list[str]:
    return [name for member_id, both in variants if member_id != leader_id for name in both]


def first_name(name: str) -> str:
    """The first word of a member's name."""
    words = name.split()
    return words[0] if words else "there"


@dataclass(frozen=True, slots=True)
class Request:
    """One leader to build a context for: on which local date, for which audience."""

    member: Member
    local_date: date
    audience: Audience


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
    contexts = await load_contexts(
        session=session, requests=[Request(member, local_date, audience)], now=now, names=names
    )
    return contexts[member.id or 0]


async def load_contexts(
    *,
    session: AsyncSession,
    requests: Sequence[Request],
    now: datetime,
    names: Mapping[int, str] | None = None,
) -> dict[int, NudgeContext]:
    """Contexts for many leaders of one workspace in four queries, by member id."""
    if not requests:
        return {}
    if names is None:
        names = await workspace_names(session=session, workspace_id=requests[0].member.workspace_id)
    leader_ids = [r.member.id or 0 for r in requests]
    goals = await _goals(session, leader_ids)
    milestones = await _milestones(session, [g.id for g in goals])
    by_goal = {g.id: g for g in goals}
    since = now - NOTE_WINDOW
    notes = [
        *await _progress(session, leader_ids, by_goal, since),
        *await _answers(
            session, leader_ids,
            {m.id: (m.goal_id, by_goal[m.goal_id].member_id) for m in milestones}, since,
        ),
    ]
    goals_of = _group(goals, lambda g: g.member_id)
    milestones_of = _group(milestones, lambda m: by_goal[m.goal_id].member_id)
    notes_of = _group(notes, lambda n: n.member_id)
    variants = name_variants(names)
    return {
        request.member.id or 0: build_nudge_context(
            leader_id=request.member.id or 0,
            first_name=first_name(request.member.name),
            local_date=request.local_date,
            goals=goals_of.get(request.member.id or 0, []),
            milestones=milestones_of.get(request.member.id or 0, []),
            notes=notes_of.get(request.member.id or 0, []),
            other_people=_others(variants, request.member.id or 0),
            audience=request.audience,
        )
        for request in requests
    }


def _group(items: Iterable[T], key: Callable[[T], int]) -> dict[int, list[T]]:
    grouped: dict[int, list[T]] = defaultdict(list)
    for item in items:
        grouped[key(item)].append(item)
    return grouped


async def _goals(session: AsyncSession, leader_ids: Sequence[int]) -> list[GoalFacts]:
    rows = await session.exec(
        select(Goal).where(col(Goal.member_id).in_(leader_ids)).order_by(col(Goal.id))
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


def _newest(rows: Iterable[T], member_of: Callable[[T], int]) -> list[T]:
    """At most NOTES_PER_KIND rows per member, from rows already ordered newest first."""
    kept: list[T] = []
    counts: dict[int, int] = defaultdict(int)
    for row in rows:
        member_id = member_of(row)
        if counts[member_id] < NOTES_PER_KIND:
            counts[member_id] += 1
            kept.append(row)
    return kept


async def _progress(
    session: AsyncSession,
    leader_ids: Sequence[int],
    goals: Mapping[int, GoalFacts],
    since: datetime,
) -> list[NoteFacts]:
    if not goals:
        return []
    rows = await session.exec(
        select(ProgressUpdate)
        .where(
            col(ProgressUpdate.member_id).in_(leader_ids),
            col(ProgressUpdate.goal_id).in_(list(goals)),
            col(ProgressUpdate.created_at) >= since,
        )
        .order_by(col(ProgressUpdate.created_at).desc())
    )
    # A progress update is as visible as the goal it belongs to, and is its leader's only
    # when the goal is theirs too.
    return [
        NoteFacts(
            member_id=update.member_id,
            text=update.note,
            recorded_at=update.created_at,
            visibility=goals[update.goal_id].visibility,
            goal_id=update.goal_id,
            confidence=update.confidence,
        )
        for update in _newest(rows.all(), lambda u: u.member_id)
        if goals[update.goal_id].member_id == update.member_id
    ]


async def _answers(
    session: AsyncSession,
    leader_ids: Sequence[int],
    milestone_goals: Mapping[int, tuple[int, int]],
    since: datetime,
) -> list[NoteFacts]:
    rows = await session.exec(
        select(CheckinAnswer, Checkin)
        .join(Checkin, col(Checkin.id) == CheckinAnswer.checkin_id)
        .where(col(Checkin.member_id).in_(leader_ids), col(CheckinAnswer.created_at) >= since)
        .order_by(col(CheckinAnswer.created_at).desc())
    )
    notes = []
    for answer, checkin in _newest(rows.all(), lambda pair: pair[1].member_id):
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
                goal_id=_own_goal(milestone_goals, answer.milestone_id, checkin.member_id),
                question=_question_text(checkin.questions, answer.question_id),
            )
        )
    return notes


def _own_goal(
    milestone_goals: Mapping[int, tuple[int, int]], milestone_id: int | None, member_id: int
) -> int | None:
    goal_id, owner = milestone_goals.get(milestone_id or 0, (None, None))
    return goal_id if owner == member_id else None


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
