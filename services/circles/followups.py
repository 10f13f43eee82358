"""After a round: ask each member whether their circle met and what they committed to,
turn a commitment into a progress update on the goal they pick, and pause whoever has
missed `miss_limit` rounds in a row (telling them how to come back)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.service import Actor
from services.circles.models import (
    Circle,
    CircleMember,
    CircleParticipant,
    CircleRound,
    CircleSeries,
    FollowupAnswer,
    MetAnswer,
    ParticipantStatus,
    RoundStatus,
)
from services.circles.service import participant_for, require_leader
from services.delivery.service import NewDelivery, enqueue_many
from services.errors import Invalid, NotFound
from services.people.models import Member
from services.plans.models import ProgressSource, ProgressUpdate, ProgressUpdateCreate
from services.plans.progress import log_progress

FOLLOWUP_KIND = "circle_followup"
PAUSED_KIND = "circle_paused"
# How long members have to answer the follow-up before the round's misses are counted.
ANSWER_WINDOW = timedelta(days=3)


async def send_followups(*, session: AsyncSession, round_id: int, now: datetime) -> int:
    """Ask every member of a formed round's circles "did you meet?"; returns how many."""
    circle_round = await session.get(CircleRound, round_id)
    if circle_round is None or circle_round.status != RoundStatus.formed:
        return 0
    series = await session.get(CircleSeries, circle_round.series_id)
    rows = (
        await session.exec(
            select(CircleMember)
            .join(Circle, col(Circle.id) == CircleMember.circle_id)
            .join(Member, col(Member.id) == CircleMember.member_id)
            .where(Circle.round_id == round_id, col(Member.erased_at).is_(None))
            .order_by(col(CircleMember.id))
        )
    ).all()
    await enqueue_many(session=session, deliveries=[
        NewDelivery(
            workspace_id=series.workspace_id if series else 0,
            delivery_key=f"{FOLLOWUP_KIND}:{row.id}",
            kind=FOLLOWUP_KIND,
            intent={"kind": FOLLOWUP_KIND, "circle_member_id": row.id},
            member_id=row.member_id,
        )
        for row in rows
    ])
    circle_round.status = RoundStatus.followed_up
    circle_round.followup_sent_at = now
    session.add(circle_round)
    await session.flush()
    return len(rows)


async def due_followups(*, session: AsyncSession, now: datetime) -> list[int]:
    """Formed rounds whose follow-up time has come."""
    rows = await session.exec(
        select(CircleRound.id)
        .join(CircleSeries, col(CircleSeries.id) == CircleRound.series_id)
        .where(
            CircleRound.status == RoundStatus.formed,
            col(CircleRound.followup_at) <= now,
            col(CircleSeries.active).is_(True),
        )
        .order_by(col(CircleRound.id))
    )
    return [round_id for round_id in rows.all() if round_id is not None]


async def my_circle_member(
    *, session: AsyncSession, actor: Actor, circle_id: int
) -> CircleMember:
    """The leader's own place in a circle; another person's circle is not found."""
    member_id = require_leader(actor)
    row = (
        await session.exec(
            select(CircleMember).where(
                CircleMember.circle_id == circle_id, CircleMember.member_id == member_id
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"circle {circle_id} not found")
    return row


async def record_followup(
    *, session: AsyncSession, actor: Actor, circle_id: int, answer: FollowupAnswer, now: datetime
) -> CircleMember:
    """Record whether the leader's circle met and what they committed to; a commitment with
    a goal becomes a progress update on that goal (source "circle")."""
    row = await my_circle_member(session=session, actor=actor, circle_id=circle_id)
    if answer.met is None and answer.commitment is None:
        raise Invalid("answer whether you met, or what you committed to", field="met")
    if answer.goal_id is not None and answer.commitment is None:
        raise Invalid("a goal goes with a commitment", field="goal_id")
    if answer.met is not None:
        row.met = answer.met
        if answer.met is MetAnswer.yes:
            await _reset_misses(session, row)
    if answer.commitment is not None:
        row.commitment = answer.commitment.strip()
        if not row.commitment:
            raise Invalid("say what you committed to", field="commitment")
        await _commitment_progress(session, actor, row, goal_id=answer.goal_id)
    row.answered_at = now
    session.add(row)
    await session.flush()
    return row


async def _commitment_progress(
    session: AsyncSession, actor: Actor, row: CircleMember, *, goal_id: int | None
) -> None:
    """Log the commitment on the chosen goal, replacing the one logged for it before."""
    previous = (
        await session.get(ProgressUpdate, row.progress_update_id)
        if row.progress_update_id else None
    )
    if goal_id is None:
        if previous is not None:
            previous.note = _commitment_note(row.commitment or "")
            session.add(previous)
        return
    update = await log_progress(
        session=session,
        actor=actor,
        goal_id=goal_id,
        data=ProgressUpdateCreate(note=_commitment_note(row.commitment or "")),
        source=ProgressSource.circle,
    )
    if previous is not None:
        await session.delete(previous)
    row.progress_update_id = update.id


def _commitment_note(commitment: str) -> str:
    return f"Circle commitment: {commitment}"


async def _reset_misses(session: AsyncSession, row: CircleMember) -> None:
    circle = await session.get(Circle, row.circle_id)
    circle_round = await session.get(CircleRound, circle.round_id) if circle else None
    series = await session.get(CircleSeries, circle_round.series_id) if circle_round else None
    if series is None:
        return
    participant = await participant_for(session=session, series=series, member_id=row.member_id)
    participant.consecutive_misses = 0
    session.add(participant)


async def due_closings(*, session: AsyncSession, now: datetime) -> list[int]:
    """Followed-up rounds of active series whose answer window is over."""
    rows = await session.exec(
        select(CircleRound.id)
        .join(CircleSeries, col(CircleSeries.id) == CircleRound.series_id)
        .where(
            CircleRound.status == RoundStatus.followed_up,
            col(CircleRound.followup_sent_at) <= now - ANSWER_WINDOW,
            col(CircleSeries.active).is_(True),
        )
        .order_by(col(CircleRound.id))
    )
    return [round_id for round_id in rows.all() if round_id is not None]


async def close_round(*, session: AsyncSession, round_id: int) -> int:
    """Count each member's miss (anything but "yes, we met"), pause those at the series'
    limit and tell them how to come back; returns how many were paused."""
    circle_round = await session.get(CircleRound, round_id)
    if circle_round is None or circle_round.status == RoundStatus.closed:
        return 0
    series = await session.get(CircleSeries, circle_round.series_id)
    if series is None:
        return 0
    rows = (
        await session.exec(
            select(CircleMember)
            .join(Circle, col(Circle.id) == CircleMember.circle_id)
            .where(Circle.round_id == round_id)
            .order_by(col(CircleMember.id))
        )
    ).all()
    paused: list[CircleParticipant] = []
    for row in rows:
        participant = await participant_for(
            session=session, series=series, member_id=row.member_id
        )
        if row.met == MetAnswer.yes:
            participant.consecutive_misses = 0
        else:
            participant.consecutive_misses += 1
            if (participant.status == ParticipantStatus.active
                    and participant.consecutive_misses >= series.miss_limit):
                participant.status = ParticipantStatus.paused
                participant.paused_until = None
                paused.append(participant)
        session.add(participant)
    circle_round.status = RoundStatus.closed
    session.add(circle_round)
    await enqueue_many(session=session, deliveries=[
        NewDelivery(
            workspace_id=series.workspace_id,
            delivery_key=f"{PAUSED_KIND}:{round_id}:{participant.member_id}",
            kind=PAUSED_KIND,
            intent={"kind": PAUSED_KIND, "series_id": series.id,
                    "misses": participant.consecutive_misses},
            member_id=participant.member_id,
        )
        for participant in paused
    ])
    await session.flush()
    return len(paused)
