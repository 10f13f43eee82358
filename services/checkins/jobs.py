"""Scheduled check-in work, called by the one-minute sweep (services/scheduler.py).

Each tick opens its own transactions: one schedule's sweep, or one follow-up step,
failing never stops the others.

`checkin_sweep_tick` looks at every recent (schedule, zone, local date) group on every
call. `CheckinSweep` is the same sweep with a memory: a group it has settled is skipped
until it is due for a re-check (leaders enrolled late, a changed timezone, a pause that
ended), so a steady-state tick touches only the zones that just fell due. Its first tick
after a start remembers nothing, which is exactly the catch-up after downtime.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins import followup
from services.checkins.models import CheckinStatus
from services.checkins.schedule import DROP_LOOKBACK
from services.checkins.sweep import (
    Candidate,
    SchedulePlan,
    SweepResult,
    candidates_for,
    describe,
    leader_zones,
    load_plans,
    sweep_schedule,
)
from services.db import transaction
from services.prompts import load_reflection_library

log = logging.getLogger("coachbot.checkins")

Sessions = async_sessionmaker[AsyncSession]
Tick = Callable[..., Awaitable[int]]
GroupKey = tuple[int, str, date]


async def _sweep(sessions: Sessions, plans: Sequence[SchedulePlan], now: datetime,
                 choose: Callable[[SchedulePlan, list[Candidate]], list[Candidate]],
                 settled: Callable[[SchedulePlan, list[Candidate]], None]) -> int:
    library = load_reflection_library()
    results: dict[int, SweepResult] = {}
    for plan in plans:
        schedule_id = plan.schedule.id or 0
        result = SweepResult()
        chosen = choose(plan, candidates_for(plan, now=now, result=result))
        if result.zones_unknown:
            log.warning("schedule %s: unknown timezones %s; used the cohort's timezone",
                        schedule_id, sorted(result.zones_unknown))
        if not chosen:
            continue
        try:
            async with transaction(sessions) as session:
                results[schedule_id] = await sweep_schedule(
                    session=session, plan=plan, now=now, library=library, candidates=chosen)
        except Exception:
            log.exception("check-in sweep failed for schedule %s", schedule_id)
            continue
        settled(plan, chosen)
    if any(r.created for r in results.values()):
        log.info("check-in sweep at %s: %s", now.isoformat(), describe(results))
    return sum(r.created for r in results.values())


async def checkin_sweep_tick(*, sessions: Sessions, now: datetime) -> int:
    """Create due check-in occurrences and their invitations; returns how many were created."""
    async with transaction(sessions) as session:
        plans = await load_plans(session=session, now=now)
    return await _sweep(sessions, plans, now, lambda plan, found: found,
                        lambda plan, done: None)


class CheckinSweep:
    """The sweep, remembering which groups it has settled (use `tick` as the job)."""

    def __init__(self, *, recheck_after: timedelta = timedelta(minutes=15),
                 zones_ttl: timedelta = timedelta(minutes=5)) -> None:
        self.recheck_after = recheck_after
        self.zones_ttl = zones_ttl
        self._settled: dict[GroupKey, datetime] = {}
        self._zones: dict[int, set[str]] = {}
        self._zones_at: datetime | None = None

    @staticmethod
    def _key(plan: SchedulePlan, candidate: Candidate) -> GroupKey:
        return (plan.schedule.id or 0, candidate.timezone, candidate.occurrence.local_date)

    def _recheck_at(self, key: GroupKey, settled_at: datetime) -> datetime:
        # Spread the re-checks of groups settled together (on a start) over the interval.
        spread = int(hashlib.blake2b(repr(key).encode(), digest_size=2).hexdigest(), 16)
        return settled_at + self.recheck_after * (0.5 + spread / 0x10000)

    def _due(self, key: GroupKey, candidate: Candidate, now: datetime) -> bool:
        settled_at = self._settled.get(key)
        if settled_at is None:
            return True
        if candidate.status is CheckinStatus.dropped:
            # Settled while open (or already recorded as missed): its window has closed,
            # so nobody can join it any more.
            return False
        return self._recheck_at(key, settled_at) <= now

    def _choose(self, now: datetime) -> Callable[[SchedulePlan, list[Candidate]],
                                                  list[Candidate]]:
        def choose(plan: SchedulePlan, found: list[Candidate]) -> list[Candidate]:
            return [c for c in found if self._due(self._key(plan, c), c, now)]
        return choose

    def _remember(self, now: datetime) -> Callable[[SchedulePlan, list[Candidate]], None]:
        def settled(plan: SchedulePlan, done: list[Candidate]) -> None:
            for candidate in done:
                self._settled[self._key(plan, candidate)] = now
        return settled

    def _forget_old(self, now: datetime) -> None:
        # A group older than any window plus the lookback can never be a candidate again.
        horizon = (now - timedelta(days=9) - DROP_LOOKBACK).date()
        for key in [k for k in self._settled if k[2] < horizon]:
            del self._settled[key]

    async def tick(self, *, sessions: Sessions, now: datetime) -> int:
        """Create the occurrences that fell due since the groups were last settled."""
        async with transaction(sessions) as session:
            if self._zones_at is None or now - self._zones_at >= self.zones_ttl or (
                    now < self._zones_at):
                self._zones = await leader_zones(session=session)
                self._zones_at = now
            plans = await load_plans(session=session, now=now, zones=self._zones)
        created = await _sweep(sessions, plans, now, self._choose(now), self._remember(now))
        self._forget_old(now)
        return created


async def checkin_followup_tick(*, sessions: Sessions, now: datetime) -> int:
    """Note delivered invitations, close expired check-ins, bring back snoozed ones and send
    due reminders; returns how many check-ins changed."""
    done = 0
    for step in (followup.note_delivered, followup.expire, followup.wake_snoozed,
                 followup.remind):
        try:
            async with transaction(sessions) as session:
                done += await step(session=session, now=now)
        except Exception:
            log.exception("check-in follow-up step %s failed", step.__name__)
    return done


def checkin_ticks() -> list[Tick]:
    """The check-in ticks for the scheduler's one-minute sweep (a fresh sweep memory)."""
    return [CheckinSweep().tick, checkin_followup_tick]
