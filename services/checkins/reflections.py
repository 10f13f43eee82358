"""Reflection prompts for new reflection occurrences: never the same prompt twice to a
leader within a cohort, preferring the competencies of the leader's own open goals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import Checkin, CheckinSchedule, CheckinStatus
from services.checkins.templates import reflection_questions
from services.plans.models import OPEN_GOAL_STATUSES, Goal
from services.prompts import ReflectionLibrary, pick_reflection


async def assign_reflections(
    *, session: AsyncSession, schedule: CheckinSchedule,
    checkins: Sequence[tuple[int, int]], library: ReflectionLibrary,
) -> int:
    """Give each new reflection occurrence a prompt its leader has not had in this cohort,
    preferring their goals' competencies; returns how many found the library used up."""
    if not checkins:
        return 0
    members = {member_id for _, member_id in checkins}
    used = await _used_prompts(session, schedule.cohort_id, members)
    preferred = await _goal_competencies(session, members)
    changes: list[dict[str, Any]] = []
    exhausted = 0
    for checkin_id, member_id in sorted(checkins):
        reflection = pick_reflection(library=library, used_ids=used[member_id],
                                     preferred_competencies=preferred[member_id],
                                     seed=f"{member_id}:{checkin_id}")
        if reflection is None:
            exhausted += 1
            changes.append({"id": checkin_id, "status": CheckinStatus.dropped,
                            "next_reminder_at": None})
            continue
        used[member_id].add(reflection.id)
        changes.append({"id": checkin_id, "prompt_id": reflection.id,
                        "questions": reflection_questions(reflection)})
    for batch in (
        [c for c in changes if "prompt_id" in c], [c for c in changes if "status" in c]
    ):
        if batch:
            await session.exec(update(Checkin), params=batch)
    return exhausted


async def _used_prompts(
    session: AsyncSession, cohort_id: int, members: set[int]
) -> dict[int, set[str]]:
    rows = await session.exec(
        select(Checkin.member_id, Checkin.prompt_id)
        .join(CheckinSchedule, col(CheckinSchedule.id) == col(Checkin.schedule_id))
        .where(col(CheckinSchedule.cohort_id) == cohort_id,
               col(Checkin.member_id).in_(members), col(Checkin.prompt_id).is_not(None))
    )
    used: dict[int, set[str]] = defaultdict(set)
    for member_id, prompt_id in rows.all():
        if prompt_id is not None:
            used[member_id].add(prompt_id)
    return used


async def _goal_competencies(session: AsyncSession, members: set[int]) -> dict[int, list[str]]:
    rows = await session.exec(
        select(Goal.member_id, Goal.competency).where(
            col(Goal.member_id).in_(members), col(Goal.competency).is_not(None),
            col(Goal.status).in_(OPEN_GOAL_STATUSES))
    )
    found: dict[int, list[str]] = defaultdict(list)
    for member_id, competency in rows.all():
        if competency is not None:
            found[member_id].append(competency)
    return found
