"""A member's check-ins for export and erasure: the occurrences with the questions asked,
the member's answers, and the replies they wrote in a coach's review thread (relayed to
the other person through the outbox). Erasure blanks the words and keeps statuses, scales
and dates, so response rates stay right."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import Checkin, CheckinAnswer, ReviewThread
from services.checkins.relays import RELAY_KIND
from services.delivery.models import Delivery
from services.privacy.tables import ERASED, rows_as_json


async def export_checkin_data(*, session: AsyncSession, member_id: int) -> dict[str, Any]:
    """The member's check-ins and every answer they gave."""
    mine = select(Checkin.id).where(Checkin.member_id == member_id)
    return {
        "checkins": await rows_as_json(
            session, select(Checkin).where(Checkin.member_id == member_id).order_by(col(Checkin.id))
        ),
        "checkin_answers": await rows_as_json(
            session,
            select(CheckinAnswer).where(col(CheckinAnswer.checkin_id).in_(mine))
            .order_by(col(CheckinAnswer.id)),
        ),
        "review_replies_written": [
            {"thread_id": relay.intent["thread_id"], "text": relay.intent.get("text"),
             "created_at": relay.created_at.isoformat()}
            for relay in await _relays_written_by(session, member_id)
        ],
    }


async def erase_checkin_data(*, session: AsyncSession, member_id: int) -> dict[str, int]:
    """Blank the member's written answers."""
    mine = select(Checkin.id).where(Checkin.member_id == member_id)
    answers = await session.exec(
        update(CheckinAnswer)
        .where(col(CheckinAnswer.checkin_id).in_(mine), col(CheckinAnswer.text).is_not(None))
        .values(text=ERASED)
    )
    relays = await _relays_written_by(session, member_id)
    for relay in relays:
        relay.intent = {**relay.intent, "text": ERASED}
        session.add(relay)
    return {"checkin_answers": answers.rowcount, "review_replies": len(relays)}


async def _relays_written_by(session: AsyncSession, member_id: int) -> list[Delivery]:
    """Relayed replies whose author is the member: their side of each of their threads."""
    sides: dict[int, str] = {}
    recipients: set[int] = set()
    for thread in (await session.exec(select(ReviewThread).where(
            (ReviewThread.coach_id == member_id) | (ReviewThread.leader_id == member_id)))).all():
        mine_as_coach = thread.coach_id == member_id
        sides[thread.id or 0] = "coach" if mine_as_coach else "leader"
        recipients.add(thread.leader_id if mine_as_coach else thread.coach_id)
    if not sides:
        return []
    relays = (await session.exec(
        select(Delivery).where(Delivery.kind == RELAY_KIND, col(Delivery.member_id).in_(recipients))
        .order_by(col(Delivery.id)))).all()
    # The thread and author live in the intent (JSON): filtered here, the same way on
    # SQLite and PostgreSQL, among the relays sent to the people the member coaches with.
    return [relay for relay in relays
            if sides.get(int(relay.intent.get("thread_id", 0))) == relay.intent.get("from")]
