"""The nudge sweep: every minute, draft and send (or queue) the nudges that are due.

No transaction stays open while a model is drafting: each leader's context is read in one
short transaction, drafted outside it, and recorded in another. Each leader fails alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db import transaction
from services.llm import NudgeDrafter, OfflineDrafter
from services.nudges.drafting import NudgeOutcome, draft_nudge
from services.nudges.service import audience_for, record_nudge, scheduled_key
from services.nudges.sources import load_context, workspace_names
from services.nudges.timing import DueLeader, due_leaders
from services.people.models import Member

logger = logging.getLogger(__name__)

# Leaders worked on at once; the drafter's own concurrency bounds the model calls.
DEFAULT_PARALLEL = 16
# At most this many leaders per sweep; the rest are still due at the next one.
DEFAULT_BATCH = 2000


async def nudge_tick(
    *,
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    drafter: NudgeDrafter | None,
    fallback: OfflineDrafter | None = None,
    parallel: int = DEFAULT_PARALLEL,
    batch: int = DEFAULT_BATCH,
) -> int:
    """Draft every due leader's nudge and send or queue it; returns how many were recorded."""
    async with transaction(sessions) as session:
        due = await due_leaders(session=session, now=now, limit=batch)
        names = {
            workspace_id: await workspace_names(session=session, workspace_id=workspace_id)
            for workspace_id in {target.workspace_id for target in due}
        }
    if not due:
        return 0
    slots = asyncio.Semaphore(parallel)
    offline = fallback or OfflineDrafter()

    async def one(target: DueLeader) -> int:
        async with slots:
            try:
                nudged = await nudge_leader(
                    sessions=sessions, target=target, now=now, drafter=drafter,
                    fallback=offline, names=names[target.workspace_id],
                    dedupe_key=scheduled_key(member_id=target.member_id,
                                             local_date=target.local_date),
                )
            except Exception:
                logger.exception("nudge for member %s failed", target.member_id)
                return 0
            return 1 if nudged is not None else 0

    return sum(await asyncio.gather(*(one(target) for target in due)))


async def draft_for(
    *,
    sessions: async_sessionmaker[AsyncSession],
    target: DueLeader,
    now: datetime,
    drafter: NudgeDrafter | None,
    fallback: OfflineDrafter,
    names: Mapping[int, str] | None = None,
) -> NudgeOutcome | None:
    """Read the leader's context in a short transaction, then draft outside any."""
    async with transaction(sessions) as session:
        member = await session.get(Member, target.member_id)
        if member is None:
            return None
        context = await load_context(
            session=session, member=member, local_date=target.local_date, now=now,
            audience=audience_for(target), names=names,
        )
    return await draft_nudge(context=context, drafter=drafter, fallback=fallback)


async def nudge_leader(
    *,
    sessions: async_sessionmaker[AsyncSession],
    target: DueLeader,
    now: datetime,
    drafter: NudgeDrafter | None,
    fallback: OfflineDrafter,
    dedupe_key: str,
    names: Mapping[int, str] | None = None,
) -> tuple[int, NudgeOutcome] | None:
    """Draft one leader's nudge and record it; the nudge id and outcome, or None."""
    outcome = await draft_for(sessions=sessions, target=target, now=now, drafter=drafter,
                              fallback=fallback, names=names)
    if outcome is None:
        return None
    async with transaction(sessions) as session:
        nudge = await record_nudge(
            session=session, target=target, outcome=outcome, dedupe_key=dedupe_key, now=now
        )
    if nudge is None:
        return None
    return nudge.id or 0, outcome
