"""The nudge sweep: every minute, draft and send (or queue) the nudges that are due.

No transaction stays open while a model is drafting: contexts are read fifty leaders at a
time in short transactions, each draft is made outside any, and finished drafts are
recorded together, as many as are waiting, in one short transaction. Each leader fails
alone: a batch that cannot be recorded is recorded again one nudge at a time.
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
from services.nudges.drafting import DraftedNudge, draft_nudge
from services.nudges.recording import (
    NewNudge,
    audience_for,
    record_nudge,
    record_nudges,
    scheduled_key,
)
from services.nudges.schema import NudgeContext
from services.nudges.sources import Request, load_context, load_contexts, workspace_names
from services.nudges.timing import DueLeader, due_leaders
from services.people.models import Member

logger = logging.getLogger(__name__)

# Leaders worked on at once (at least); the drafter's own concurrency bounds the model calls.
DEFAULT_PARALLEL = 16
# At most this many leaders per sweep; the rest are still due at the next one.
DEFAULT_BATCH = 2000
# Leaders whose contexts are read in one transaction (four queries).
CONTEXT_CHUNK = 50
# At most this many nudges are recorded in one transaction (two statements).
RECORD_BATCH = 100


def leaders_at_once(concurrency: int) -> int:
    """How many leaders the sweep works on at once for a drafter allowed `concurrency` model
    calls: twice as many, so the next leader's context is ready whenever a call finishes."""
    return max(DEFAULT_PARALLEL, 2 * concurrency)


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
    recorder = _Recorder(sessions=sessions, now=now)
    recording = asyncio.create_task(recorder.run())

    async def one(target: DueLeader, context: NudgeContext) -> None:
        try:
            drafted = await draft_nudge(context=context, drafter=drafter, fallback=offline)
            if drafted is not None:
                key = scheduled_key(member_id=target.member_id, local_date=target.local_date)
                recorder.queue.put_nowait(NewNudge(target, drafted, key))
        except Exception:
            logger.exception("nudge for member %s failed", target.member_id)
        finally:
            slots.release()

    tasks: list[asyncio.Task[None]] = []
    try:
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
        await asyncio.gather(*tasks)
    finally:
        recorder.queue.put_nowait(None)
        await recording
    return recorder.recorded


class _Recorder:
    """Records drafts as they come, all that are waiting in one transaction; a batch that
    fails is recorded again one nudge at a time, so each nudge fails alone."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
        self.sessions = sessions
        self.now = now
        self.queue: asyncio.Queue[NewNudge | None] = asyncio.Queue()
        self.recorded = 0

    async def run(self) -> None:
        finished = False
        while not finished:
            first = await self.queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < RECORD_BATCH and not self.queue.empty():
                item = self.queue.get_nowait()
                if item is None:
                    finished = True
                    break
                batch.append(item)
            await self._record(batch)

    async def _record(self, batch: list[NewNudge]) -> None:
        try:
            async with transaction(self.sessions) as session:
                made = await record_nudges(session=session, nudges=batch, now=self.now)
            self.recorded += len(made)
        except Exception:
            if len(batch) == 1:
                logger.exception("recording the nudge for member %s failed",
                                 batch[0].target.member_id)
                return
            for new in batch:
                await self._record([new])


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
) -> DraftedNudge | None:
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
) -> tuple[int, DraftedNudge] | None:
    """Draft one leader's nudge and record it; the nudge id and the draft, or None."""
    drafted = await draft_for(sessions=sessions, target=target, now=now, drafter=drafter,
                              fallback=fallback, names=names)
    if drafted is None:
        return None
    async with transaction(sessions) as session:
        nudge = await record_nudge(
            session=session, target=target, drafted=drafted, dedupe_key=dedupe_key, now=now
        )
    if nudge is None:
        return None
    return nudge.id or 0, drafted
