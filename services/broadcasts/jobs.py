"""Scheduled broadcast work, called every minute by the scheduler.

`broadcast_tick` fans out every broadcast that is due (or whose fan-out was cut off), a
chunk of recipients per transaction, and marks fanned-out broadcasts sent once the
outbox has delivered them. Each broadcast fails alone; a failed one is picked up again
by the next tick, and the delivery keys make the re-run add only what is missing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.broadcasts import fanout
from services.broadcasts.models import Broadcast
from services.db import transaction

log = logging.getLogger("coachbot.broadcasts")

Sessions = async_sessionmaker[AsyncSession]


async def fan_out_broadcast(
    *, sessions: Sessions, broadcast_id: int, now: datetime, chunk: int = fanout.FANOUT_CHUNK
) -> int:
    """Fan one broadcast out, `chunk` recipients per transaction; returns intents added."""
    after, inserted = 0, 0
    while True:
        async with transaction(sessions) as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            if broadcast is None:
                return inserted
            step = await fanout.fan_out_step(session=session, broadcast=broadcast,
                                             after_member_id=after, limit=chunk, now=now)
        if step is None:
            return inserted
        inserted += step.inserted
        if step.finished:
            return inserted
        after = step.last_member_id


async def broadcast_tick(*, sessions: Sessions, now: datetime) -> int:
    """Fan out due broadcasts and settle delivered ones; returns how many it advanced."""
    async with transaction(sessions) as session:
        due, unsettled = await fanout.due_broadcasts(session=session, now=now)
    done = 0
    for broadcast_id in due:
        try:
            added = await fan_out_broadcast(sessions=sessions, broadcast_id=broadcast_id,
                                            now=now)
        except Exception:
            log.exception("fan-out of broadcast %s failed; the next tick resumes it",
                          broadcast_id)
            continue
        log.info("broadcast %s fanned out: %d new intents", broadcast_id, added)
        done += 1
    for broadcast_id in unsettled:
        try:
            async with transaction(sessions) as session:
                done += int(await fanout.settle(session=session, broadcast_id=broadcast_id))
        except Exception:
            log.exception("could not settle broadcast %s", broadcast_id)
    return done
