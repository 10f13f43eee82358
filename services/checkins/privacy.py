"""A member's check-ins for export and erasure: the occurrences with the questions asked,
and the member's answers. Erasure blanks the words and keeps statuses, scales and dates,
so response rates stay right."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import Checkin, CheckinAnswer
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
    }


async def erase_checkin_data(*, session: AsyncSession, member_id: int) -> dict[str, int]:
    """Blank the member's written answers."""
    mine = select(Checkin.id).where(Checkin.member_id == member_id)
    answers = await session.exec(
        update(CheckinAnswer)
        .where(col(CheckinAnswer.checkin_id).in_(mine), col(CheckinAnswer.text).is_not(None))
        .values(text=ERASED)
    )
    return {"checkin_answers": answers.rowcount}
