"""Answers to a broadcast question: given by its recipients, read by owners only as counts.

An owner sees how many recipients answered, and an answer's words only when at least the
cohort's k-anonymity minimum gave that same answer (compared after folding case and
spaces): "yes" from 12 people is shown; a sentence one person wrote is only counted in
`other_answers`. Nothing is shown per person.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor
from services.broadcasts.fanout import delivery_key
from services.broadcasts.models import (
    AnswerBucket,
    AnswerCreate,
    AnswerSummary,
    Broadcast,
    BroadcastAnswer,
    BroadcastStatus,
)
from services.broadcasts.service import get_broadcast
from services.delivery.models import Delivery, DeliveryState
from services.errors import Invalid, NotFound, NotPermitted
from services.people.models import Cohort, Member

BUCKET_CHARS: Final = 100


def normalise(answer: str) -> str:
    """The form answers are compared in: spaces collapsed, case folded."""
    return " ".join(answer.split()).casefold()


async def _is_recipient(session: AsyncSession, broadcast_id: int, member_id: int) -> bool:
    state = (await session.exec(
        select(Delivery.state).where(
            col(Delivery.delivery_key) == delivery_key(broadcast_id, member_id))
    )).first()
    return state is not None and state != DeliveryState.cancelled


async def answer_broadcast(
    *, session: AsyncSession, actor: Actor, broadcast_id: int, data: AnswerCreate, now: datetime
) -> BroadcastAnswer:
    """Record (or replace) the caller's own answer to a broadcast they received."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.workspace_id != actor.workspace_id:
        raise NotFound(f"broadcast {broadcast_id} not found")
    member_id = actor.member_id
    if member_id is None or not await _is_recipient(session, broadcast_id, member_id):
        manages = actor.role is Role.admin or (
            actor.role is Role.owner and broadcast.cohort_id in actor.cohort_ids)
        if manages:
            raise NotPermitted("only the people a broadcast reached can answer it")
        raise NotFound(f"broadcast {broadcast_id} not found")
    if broadcast.question is None:
        raise Invalid("this broadcast asks no question", field="answer")
    existing = (await session.exec(select(BroadcastAnswer).where(
        col(BroadcastAnswer.broadcast_id) == broadcast_id,
        col(BroadcastAnswer.member_id) == member_id))).first()
    if existing is None:
        answer = BroadcastAnswer(broadcast_id=broadcast_id, member_id=member_id,
                                 answer=data.answer, created_at=now)
        try:
            async with session.begin_nested():
                session.add(answer)
                await session.flush()
            return answer
        except IntegrityError:  # a double click: the other request stored it first
            existing = (await session.exec(select(BroadcastAnswer).where(
                col(BroadcastAnswer.broadcast_id) == broadcast_id,
                col(BroadcastAnswer.member_id) == member_id))).one()
    existing.answer = data.answer
    existing.created_at = now
    session.add(existing)
    await session.flush()
    return existing


async def answer_summary(
    *, session: AsyncSession, actor: Actor, broadcast_id: int
) -> AnswerSummary:
    """How many answered, and the answers given alike by at least k recipients."""
    broadcast = await get_broadcast(session=session, actor=actor, broadcast_id=broadcast_id)
    cohort = await session.get(Cohort, broadcast.cohort_id)
    k = cohort.k_anonymity_min if cohort else 5
    answers = (await session.exec(select(BroadcastAnswer.answer).where(
        col(BroadcastAnswer.broadcast_id) == broadcast_id))).all()
    counts = Counter(normalise(answer)[:BUCKET_CHARS] for answer in answers)
    common = sorted(((text, n) for text, n in counts.items() if n >= k),
                    key=lambda item: (-item[1], item[0]))
    answered = len(answers)
    recipients = broadcast.recipients
    return AnswerSummary(
        broadcast_id=broadcast_id, question=broadcast.question, k_anonymity_min=k,
        recipients=recipients, answered=answered,
        response_rate=round(answered / recipients, 4) if recipients else None,
        common_answers=[AnswerBucket(answer=text, count=n) for text, n in common],
        other_answers=answered - sum(n for _, n in common),
    )


@dataclass(frozen=True)
class BroadcastMessage:
    """What one recipient's copy of a broadcast shows."""

    broadcast_id: int
    text: str
    question: str | None
    cohort_name: str
    author_name: str | None
    cancelled: bool
    answer: str | None


async def broadcast_message(
    *, session: AsyncSession, broadcast_id: int, member_id: int | None
) -> BroadcastMessage:
    """The broadcast as its recipient `member_id` sees it, with their answer if any."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound(f"broadcast {broadcast_id} not found")
    cohort = await session.get(Cohort, broadcast.cohort_id)
    author = await session.get(Member, broadcast.author_id) if broadcast.author_id else None
    answer = None
    if member_id is not None and broadcast.question is not None:
        answer = (await session.exec(select(BroadcastAnswer.answer).where(
            col(BroadcastAnswer.broadcast_id) == broadcast_id,
            col(BroadcastAnswer.member_id) == member_id))).first()
    return BroadcastMessage(
        broadcast_id=broadcast_id, text=broadcast.text, question=broadcast.question,
        cohort_name=cohort.name if cohort else "your cohort",
        author_name=author.name if author and author.erased_at is None else None,
        cancelled=broadcast.status == BroadcastStatus.cancelled, answer=answer,
    )
