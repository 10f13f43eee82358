"""Scheduled check-in work, called by the one-minute sweep (services/scheduler.py).

Each tick opens its own transactions: one schedule's sweep, or one follow-up step,
failing never stops the others.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins import followup
from services.checkins.sweep import SweepResult, describe, load_plans, sweep_schedule
from services.db import transaction
from services.prompts import load_reflection_library

log = logging.getLogger("coachbot.checkins")


async def checkin_sweep_tick(*, sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Create due check-in occurrences and their invitations; returns how many were created."""
    async with transaction(sessions) as session:
        plans = await load_plans(session=session, now=now)
    library = load_reflection_library()
    results: dict[int, SweepResult] = {}
    for plan in plans:
        schedule_id = plan.schedule.id or 0
        try:
            async with transaction(sessions) as session:
                results[schedule_id] = await sweep_schedule(
                    session=session, plan=plan, now=now, library=library)
        except Exception:
            log.exception("check-in sweep failed for schedule %s", schedule_id)
            continue
        if results[schedule_id].zones_unknown:
            log.warning("schedule %s: unknown timezones %s; used the cohort's timezone",
                        schedule_id, sorted(results[schedule_id].zones_unknown))
    if any(r.created for r in results.values()):
        log.info("check-in sweep at %s: %s", now.isoformat(), describe(results))
    return sum(r.created for r in results.values())


async def checkin_followup_tick(
    *, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> int:
    """Note delivered invitations, send due reminders and snoozed check-ins, close expired
    ones; returns how many check-ins changed."""
    done = 0
    for step in (followup.note_delivered, followup.expire, followup.wake_snoozed,
                 followup.remind):
        try:
            async with transaction(sessions) as session:
                done += await step(session=session, now=now)
        except Exception:
            log.exception("check-in follow-up step %s failed", step.__name__)
    return done


CHECKIN_TICKS = (checkin_sweep_tick, checkin_followup_tick)
