"""Scheduled circle work, called every minute by the scheduler.

One tick: close rounds whose answer window is over (counting misses, pausing people at
their series' limit), form the rounds that have come due, and ask for follow-ups that have
come due. Each round is its own transaction, so one failing never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.circles.followups import close_round, due_closings, due_followups, send_followups
from services.circles.models import CircleSeries
from services.circles.rounds import form_round, start_round
from services.circles.schedule import due_round_number
from services.db import transaction
from services.people.models import Cohort
from services.prompts import load_reflection_library

log = logging.getLogger("coachbot.circles")

Sessions = async_sessionmaker[AsyncSession]


async def circles_tick(*, sessions: Sessions, now: datetime) -> int:
    """Close, form and follow up the rounds that are due; returns how many rounds it moved."""
    done = await _each(sessions, "close", await _read(sessions, due_closings, now),
                       lambda session, round_id: close_round(session=session, round_id=round_id))
    done += await form_due_rounds(sessions=sessions, now=now)
    done += await _each(
        sessions, "follow up", await _read(sessions, due_followups, now),
        lambda session, round_id: send_followups(session=session, round_id=round_id, now=now),
    )
    return done


async def form_due_rounds(*, sessions: Sessions, now: datetime) -> int:
    """Form every active series' round whose time has come; returns how many were formed."""
    async with transaction(sessions) as session:
        rows = (
            await session.exec(
                select(CircleSeries, Cohort)
                .join(Cohort, col(Cohort.id) == CircleSeries.cohort_id)
                .where(col(CircleSeries.active).is_(True))
                .order_by(col(CircleSeries.id))
            )
        ).all()
        due = [
            (series.id or 0, number)
            for series, cohort in rows
            if (number := due_round_number(series=series, zone=ZoneInfo(cohort.timezone),
                                           now=now, end_date=cohort.end_date)) is not None
        ]
    library = load_reflection_library()
    formed = 0
    for series_id, number in due:
        try:
            async with transaction(sessions) as session:
                series = await session.get(CircleSeries, series_id)
                cohort = await session.get(Cohort, series.cohort_id) if series else None
                if series is None or cohort is None:
                    continue
                started = await start_round(session=session, series=series,
                                            zone=ZoneInfo(cohort.timezone), number=number, now=now)
                if started is None:
                    continue
                result = await form_round(session=session, round_id=started.id or 0, now=now,
                                          library=library)
        except Exception:
            log.exception("forming round %s of circle series %s failed", number, series_id)
            continue
        formed += 1
        log.info("circle series %s round %s: %s circle(s), %s placed, %s unmatched",
                 series_id, number, result.circles, result.placed, result.unmatched)
    return formed


async def _read(
    sessions: Sessions,
    query: Callable[..., Awaitable[list[int]]],
    now: datetime,
) -> list[int]:
    async with transaction(sessions) as session:
        return await query(session=session, now=now)


async def _each(
    sessions: Sessions,
    what: str,
    round_ids: list[int],
    step: Callable[[AsyncSession, int], Awaitable[int]],
) -> int:
    done = 0
    for round_id in round_ids:
        try:
            async with transaction(sessions) as session:
                await step(session, round_id)
        except Exception:
            log.exception("could not %s circle round %s", what, round_id)
            continue
        done += 1
    return done


CIRCLE_TICKS = (circles_tick,)
