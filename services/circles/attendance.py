"""Circle attendance for program owners and admins: counts only, never who met whom.

A round is shown only when at least the cohort's k-anonymity minimum took part in it, and
the totals add up the shown rounds only: were a hidden round in the totals, subtracting the
shown rounds from them would reveal it.
"""

from __future__ import annotations

from collections import Counter

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.service import Actor
from services.circles.models import (
    AttendancePublic,
    AttendanceTotals,
    Circle,
    CircleMember,
    CircleParticipant,
    CircleRound,
    CircleSeries,
    MetAnswer,
    ParticipantStatus,
    RoundAttendance,
    RoundStatus,
)
from services.circles.service import get_series
from services.errors import NotPermitted
from services.people.access import require_manager
from services.people.models import Cohort, Enrollment, EnrollmentRole, EnrollmentStatus


async def series_attendance(
    *, session: AsyncSession, actor: Actor, series_id: int
) -> AttendancePublic:
    """How many met, round by round, for the series' owners and admins."""
    series, cohort = await get_series(session=session, actor=actor, series_id=series_id)
    try:
        require_manager(actor, cohort.id)
    except NotPermitted as exc:
        raise NotPermitted("attendance is for the program's owners and admins") from exc
    k = cohort.k_anonymity_min
    rounds = await _rounds(session, series, k=k)
    shown = [r for r in rounds if not r.suppressed]
    totals = _sum(shown) if shown else None
    return AttendancePublic(
        series_id=series.id or 0,
        k_anonymity_min=k,
        rounds=rounds,
        totals=totals,
        participants=await _participants(session, series, cohort, k=k),
    )


async def _rounds(
    session: AsyncSession, series: CircleSeries, *, k: int
) -> list[RoundAttendance]:
    found = (
        await session.exec(
            select(CircleRound)
            .where(CircleRound.series_id == series.id, CircleRound.status != RoundStatus.pending)
            .order_by(col(CircleRound.number))
        )
    ).all()
    answers = await session.exec(
        select(Circle.round_id, CircleMember.met, func.count())
        .join(CircleMember, col(CircleMember.circle_id) == Circle.id)
        .where(col(Circle.round_id).in_([r.id for r in found]))
        .group_by(col(Circle.round_id), col(CircleMember.met))
    )
    per_round: dict[int, Counter[str]] = {}
    for round_id, met, count in answers.all():
        per_round.setdefault(round_id, Counter())[met or "none"] += count
    circles = await session.exec(
        select(Circle.round_id, func.count())
        .where(col(Circle.round_id).in_([r.id for r in found]))
        .group_by(col(Circle.round_id))
    )
    circle_counts = dict(circles.all())
    return [
        _round(r, per_round.get(r.id or 0, Counter()), circle_counts.get(r.id or 0, 0), k=k)
        for r in found
    ]


def _round(
    circle_round: CircleRound, counts: Counter[str], circles: int, *, k: int
) -> RoundAttendance:
    placed = sum(counts.values())
    if placed < k:
        return RoundAttendance(round_number=circle_round.number,
                               scheduled_for=circle_round.scheduled_for, suppressed=True)
    return RoundAttendance(
        round_number=circle_round.number,
        scheduled_for=circle_round.scheduled_for,
        suppressed=False,
        circles=circles,
        placed=placed,
        met=counts[MetAnswer.yes.value],
        not_yet=counts[MetAnswer.not_yet.value],
        couldnt=counts[MetAnswer.couldnt.value],
        no_answer=counts["none"],
    )


def _sum(rounds: list[RoundAttendance]) -> AttendanceTotals:
    def total(name: str) -> int:
        return sum(getattr(r, name) or 0 for r in rounds)

    return AttendanceTotals(
        rounds=len(rounds),
        circles=total("circles"),
        placed=total("placed"),
        met=total("met"),
        not_yet=total("not_yet"),
        couldnt=total("couldnt"),
        no_answer=total("no_answer"),
    )


async def _participants(
    session: AsyncSession, series: CircleSeries, cohort: Cohort, *, k: int
) -> dict[str, int] | None:
    """Leaders by participation status (no row yet means active), if at least k of them."""
    leaders = (
        await session.exec(
            select(Enrollment.member_id).where(
                Enrollment.cohort_id == cohort.id,
                Enrollment.role == EnrollmentRole.leader,
                Enrollment.status == EnrollmentStatus.active,
            )
        )
    ).all()
    statuses = dict(
        (
            await session.exec(
                select(CircleParticipant.member_id, CircleParticipant.status).where(
                    CircleParticipant.series_id == series.id
                )
            )
        ).all()
    )
    counts = Counter(str(statuses.get(m, ParticipantStatus.active.value)) for m in leaders)
    if len(leaders) < k:
        return None
    return {status.value: counts[status.value] for status in ParticipantStatus}
