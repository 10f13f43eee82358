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
    NudgeOutcome,
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
    """A cohort's nudge counts (by status, source, outcome and feedback), helpfulness, tokens
    and latency; suppressed below k leaders."""
    cohort = await _metrics_cohort(session=session, actor=actor, cohort_id=cohort_id)
    in_cohort = Nudge.cohort_id == cohort_id
    leaders = int((await session.exec(
        select(func.count(func.distinct(col(Nudge.member_id)))).where(in_cohort)
    )).one())
    minimum = cohort.k_anonymity_min
    if leaders < minimum:
        return NudgeMetrics(cohort_id=cohort_id, leaders=leaders, k_anonymity_min=minimum,
                            suppressed=True)
    # Counted in the database: a cohort's nudges add up over a program, and their texts are
    # not needed here.
    groups = (await session.exec(
        select(col(Nudge.status), col(Nudge.source), col(Nudge.feedback), func.count())
        .where(in_cohort)
        .group_by(col(Nudge.status), col(Nudge.source), col(Nudge.feedback))
    )).all()
    outcomes = (await session.exec(
        select(col(Nudge.outcome), func.count()).where(in_cohort).group_by(col(Nudge.outcome))
    )).all()
    reviewed, edited, tokens_in, tokens_out = (await session.exec(
        select(func.count(col(Nudge.reviewer_id)), func.count(col(Nudge.original_text)),
               func.sum(col(Nudge.tokens_in)), func.sum(col(Nudge.tokens_out)))
        .where(in_cohort)
    )).one()
    by_status: Counter[str] = Counter({s.value: 0 for s in NudgeStatus})
    by_source: Counter[str] = Counter()
    by_feedback: Counter[str] = Counter({f.value: 0 for f in NudgeFeedback} | {"none": 0})
    for status, source, given, count in groups:
        by_status[NudgeStatus(status).value] += count
        by_source[source] += count
        by_feedback[NudgeFeedback(given).value if given else "none"] += count
    nudges = sum(by_source.values())
    rated = by_feedback[NudgeFeedback.helpful.value] + by_feedback[NudgeFeedback.not_helpful.value]
    latencies = [ms for ms in (await session.exec(
        select(col(Nudge.latency_ms)).where(in_cohort, col(Nudge.latency_ms).is_not(None))
    )).all() if ms is not None]
    return NudgeMetrics(
        cohort_id=cohort_id,
        leaders=leaders,
        k_anonymity_min=minimum,
        suppressed=False,
        nudges=nudges,
        by_status=dict(by_status),
        by_source=dict(by_source),
        # Only the outcomes that occurred: most fallbacks are rare.
        by_outcome={NudgeOutcome(outcome).value: count for outcome, count in sorted(outcomes)},
        by_feedback=dict(by_feedback),
        helpful_rate=by_feedback[NudgeFeedback.helpful.value] / rated if rated else None,
        reviewed=reviewed,
        edited=edited,
        # Per nudge made, failed model attempts before an offline fallback included.
        tokens_in_per_nudge=int(tokens_in or 0) / nudges,
        tokens_out_per_nudge=int(tokens_out or 0) / nudges,
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
