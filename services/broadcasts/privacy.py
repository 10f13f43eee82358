"""A member's answers to broadcasts, for export and erasure (the answer's words go; that
they answered stays, so answer counts stay right)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.broadcasts.models import BroadcastAnswer
from services.privacy.tables import ERASED, rows_as_json


async def export_broadcast_data(*, session: AsyncSession, member_id: int) -> dict[str, Any]:
    """The member's answers to broadcast questions."""
    return {
        "broadcast_answers": await rows_as_json(
            session,
            select(BroadcastAnswer).where(BroadcastAnswer.member_id == member_id)
            .order_by(col(BroadcastAnswer.id)),
        )
    }


async def erase_broadcast_data(*, session: AsyncSession, member_id: int) -> dict[str, int]:
    """Blank the words of the member's answers."""
    answers = await session.exec(
        update(BroadcastAnswer).where(col(BroadcastAnswer.member_id) == member_id)
        .values(answer=ERASED)
    )
    return {"broadcast_answers": answers.rowcount}
