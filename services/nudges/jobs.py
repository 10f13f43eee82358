"""The nudge sweep: every minute, draft and send (or queue) the nudges that are due.

No transaction stays open while a model is drafting: contexts are read fifty leaders at a
time in short transactions, each draft is made outside any, and each nudge is recorded in
a transaction of its own. Each leader fails alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db import transaction
from services.llm import NudgeDrafter, OfflineDrafter
from services.nudges.drafting import NudgeOutcome, draft_nudge
from services.nudges.schema import NudgeContext
from services.nudges.service import audience_for, record_nudge, scheduled_key
from services.nudges.sources import Request, load_context, load_contexts, workspace_names
from services.nudges.timing import DueLeader, due_leaders
from services.people.models import Member

logger = logging.getLogger(__name__)

# Leaders worked on at once; the drafter's own concurrency bounds the model calls.
DEFAULT_PARALLEL = 16
# At most this many leaders per sweep; the rest are still due at the next one.
DEFAULT_BATCH = 2000
# Leaders whose contexts are read in one transaction (four queries).
CONTEXT_CHUNK = 50


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

    async def one(target: DueLeader, context: NudgeContext) -> int:
        try:
            outcome = await draft_nudge(context=context, drafter=drafter, fallback=offline)
            if outcome is None:
                return 0
            key = scheduled_key(member_id=target.member_id, local_date=target.local_date)
            async with transaction(sessions) as session:
                nudge = await record_nudge(session=session, target=target, outcome=outcome,
                                           dedupe_key=key, now=now)
            return 1 if nudge is not None else 0
        except Exception:
            logger.exception("nudge for member %s failed", target.member_id)
            return 0
        finally:
            slots.release()

    tasks: list[asyncio.Task[int]] = []
    # Contexts are read a chunk at a time while earlier drafts are under way; a chunk is
    # only read once there is room for its drafts, so reads never run far ahead.
    for chunk in _chunks(due, CONTEXT_CHUNK):
        contexts = await _contexts(sessions=sessions, chunk=chunk, now=now, names=names)
        for target in chunk:
            context = contexts.get(target.member_id)
            if context is None:
                continue
            await slots.acquire()
            tasks.append(asyncio.create_task(one(target, context)))
    return sum(await asyncio.gather(*tasks))


async def _contexts(
    *,
    sessions: async_sessionmaker[AsyncSession],
    chunk: Sequence[DueLeader],
    now: datetime,
    names: Mapping[int, Mapping[int, str]],
) -> dict[int, NudgeContext]:
    """The chunk's contexts by member id; a chunk that cannot be read is skipped, logged."""
    try:
        async with transaction(sessions) as session:
            members = {
                m.id: m for m in (await session.exec(
                    select(Member).where(col(Member.id).in_([t.member_id for t in chunk]))
                )).all()
            }
            contexts: dict[int, NudgeContext] = {}
            for workspace_id in {t.workspace_id for t in chunk}:
                requests = [
                    Request(members[t.member_id], t.local_date, audience_for(t))
                    for t in chunk if t.workspace_id == workspace_id and t.member_id in members
                ]
                contexts |= await load_contexts(session=session, requests=requests, now=now,
                                                names=names[workspace_id])
            return contexts
    except Exception:
        logger.exception("reading nudge contexts for %s leaders failed", len(chunk))
        return {}


def _chunks(items: Sequence[DueLeader], size: int) -> Iterator[Sequence[DueLeader]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
