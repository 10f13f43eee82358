"""De-duplication of Slack deliveries: each event or interaction is handled once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.platform.models import SlackEvent


async def first_sighting(*, session: AsyncSession, event_id: str, team_id: str | None) -> bool:
    """Record an event id; False when it was recorded before (a retry or a replay)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(SlackEvent)
        .values(event_id=event_id[:200], team_id=team_id)
        .on_conflict_do_nothing(index_elements=["event_id"])
    )
    result = await session.exec(statement)
    return bool(result.rowcount)


async def forget_events_before(*, session: AsyncSession, cutoff: datetime) -> int:
    """Drop de-duplication records older than any retry Slack would still send."""
    result = await session.exec(
        delete(SlackEvent).where(col(SlackEvent.received_at) < cutoff)
    )
    return int(result.rowcount)
