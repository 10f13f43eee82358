"""Reading nudges: role-scoped lists, and cohort aggregates that respect k-anonymity.

Aggregates cover one whole cohort and nothing smaller: no filter by team, level or date,
so no group below the cohort's k-anonymity minimum can be derived by subtracting one
answer from another. A cohort whose nudged leaders number fewer than the minimum gets
only its size and the minimum back.
"""

from __future__ import annotations

import statistics
from collections import Counter

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor
from services.errors import NotFound, NotPermitted
from services.nudges.models import (
    Nudge,
    NudgeFeedback,
    NudgeMetrics,
    NudgePublic,
    NudgeStatus,
)
from services.nudges.service import readable_nudges
from services.pagination import Page, paginate
from services.people.access import cohort_filter
from services.people.models import CoachAssignment, Cohort
from services.plans.models import Goal, Visibility
from services.privacy.service import record_read


async def list_nudges(
    *,
    session: AsyncSession,
    actor: Actor,
    member_id: int | None,
    status: NudgeStatus | None,
    cursor: str | None,
    limit: int,
) -> Page[NudgePublic]:
    """Nudges the actor may read: a leader's own sent ones, a coach's reviewable ones."""
    statement = select(Nudge).where(readable_nudges(actor))
    if member_id is not None:
        statement = statement.where(Nudge.member_id == member_id)
    if status is not None:
        statement = statement.where(Nudge.status == status)
    page = await paginate(
        session, statement, id_column=col(Nudge.id), cursor=cursor, limit=limit,
        to_public=NudgePublic.model_validate,
    )
    for item in page.items:
        record_read(session=session, actor=actor, subject_member_id=item.member_id,
                    object_type="nudge", object_id=item.id)
    return page


async def _metrics_cohort(*, session: AsyncSession, actor: Actor, cohort_id: int) -> Cohort:
    cohort = (
        await session.exec(select(Cohort).where(Cohort.id == cohort_id, cohort_filter(actor)))
    ).first()
    if cohort is None:
        raise NotFound(f"cohort {cohort_id} not found")
    if actor.role is Role.admin or (actor.role is Role.owner and cohort_id in actor.cohort_ids):
        return cohort
    raise NotPermitted("nudge metrics are for the program's owners and admins")


async def nudge_metrics(*, session: AsyncSession, actor: Actor, cohort_id: int) -> NudgeMetrics:
    """A cohort's nudge counts, helpfulness, tokens and latency; suppressed below k leaders."""
    cohort = await _metrics_cohort(session=session, actor=actor, cohort_id=cohort_id)
    rows = (await session.exec(select(Nudge).where(Nudge.cohort_id == cohort_id))).all()
    leaders = len({n.member_id for n in rows})
    minimum = cohort.k_anonymity_min
    if leaders < minimum:
        return NudgeMetrics(cohort_id=cohort_id, leaders=leaders, k_anonymity_min=minimum,
                            suppressed=True)
    feedback = Counter(NudgeFeedback(n.feedback).value if n.feedback else "none" for n in rows)
    rated = feedback[NudgeFeedback.helpful.value] + feedback[NudgeFeedback.not_helpful.value]
    latencies = [n.latency_ms for n in rows if n.latency_ms is not None]
    return NudgeMetrics(
        cohort_id=cohort_id,
        leaders=leaders,
        k_anonymity_min=minimum,
        suppressed=False,
        nudges=len(rows),
        by_status={s.value: 0 for s in NudgeStatus}
        | Counter(NudgeStatus(n.status).value for n in rows),
        by_source=dict(Counter(n.source for n in rows)),
        by_feedback={f.value: 0 for f in NudgeFeedback} | {"none": 0} | feedback,
        helpful_rate=feedback[NudgeFeedback.helpful.value] / rated if rated else None,
        reviewed=sum(1 for n in rows if n.reviewer_id is not None),
        edited=sum(1 for n in rows if n.original_text is not None),
        # Per nudge made, failed model attempts before an offline fallback included.
        tokens_in_per_nudge=sum(n.tokens_in or 0 for n in rows) / len(rows),
        tokens_out_per_nudge=sum(n.tokens_out or 0 for n in rows) / len(rows),
        latency_ms_p50=statistics.median(latencies) if latencies else None,
    )


async def drafts_awaiting(*, session: AsyncSession, coach_id: int) -> int:
    """How many drafts wait for this coach's review (for the coach's Home tab)."""
    coachees = select(CoachAssignment.leader_id).where(CoachAssignment.coach_id == coach_id)
    shared = select(Goal.id).where(Goal.visibility == Visibility.coach)
    count = await session.exec(
        select(func.count()).select_from(Nudge).where(
            col(Nudge.member_id).in_(coachees),
            Nudge.status == NudgeStatus.draft,
            col(Nudge.goal_id).in_(shared),
        )
    )
    return int(count.one())
