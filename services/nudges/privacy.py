"""A member's nudges for export and erasure. Erasure blanks what a nudge said (and the
coach-facing rationale about the member); statuses, feedback and token counts stay, so
the program's figures stay right."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.nudges.models import Nudge
from services.privacy.tables import ERASED, rows_as_json


async def export_nudge_data(*, session: AsyncSession, member_id: int) -> dict[str, Any]:
    """Every nudge drafted for the member, with its feedback."""
    return {
        "nudges": await rows_as_json(
            session, select(Nudge).where(Nudge.member_id == member_id).order_by(col(Nudge.id))
        )
    }


async def erase_nudge_data(*, session: AsyncSession, member_id: int) -> dict[str, int]:
    """Blank the words of the member's nudges."""
    nudges = await session.exec(
        update(Nudge)
        .where(col(Nudge.member_id) == member_id)
        .values(text=ERASED, original_text=None, rationale=None, suggested_action=None)
    )
    return {"nudges": nudges.rowcount}
