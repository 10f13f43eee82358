"""A member's circle data for export and erasure.

Export holds what is the member's own: their participation, their answers and
commitments, and their own block list. Other people's block lists stay out even where
they name this member: those are private to whoever wrote them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.circles.models import CircleBlock, CircleMember, CircleParticipant
from services.privacy.tables import ERASED, rows_as_json


async def export_circle_data(*, session: AsyncSession, member_id: int) -> dict[str, Any]:
    """The member's circle participation, answers and own block list, as plain JSON."""
    return {
        "circle_participation": await rows_as_json(
            session, select(CircleParticipant).where(CircleParticipant.member_id == member_id)
        ),
        "circle_answers": await rows_as_json(
            session, select(CircleMember).where(CircleMember.member_id == member_id)
        ),
        "circle_blocks": await rows_as_json(
            session, select(CircleBlock).where(CircleBlock.blocker_id == member_id)
        ),
    }


async def erase_circle_data(*, session: AsyncSession, member_id: int) -> dict[str, int]:
    """Erase the member's commitments and drop their block list; attendance answers stay,
    so owners' counts stay right."""
    commitments = await session.exec(
        update(CircleMember)
        .where(col(CircleMember.member_id) == member_id, col(CircleMember.commitment).is_not(None))
        .values(commitment=ERASED)
    )
    blocks = await session.exec(delete(CircleBlock).where(col(CircleBlock.blocker_id) == member_id))
    return {"circle_commitments": commitments.rowcount, "circle_blocks": blocks.rowcount}

