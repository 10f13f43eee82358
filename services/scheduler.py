"""The scheduler: one APScheduler job, a one-minute sweep that runs every domain's ticks.

One job for everything, not one job per leader or per schedule: each tick finds its own
due work in the database from `now`, so what is due is never held in memory and a
restart loses nothing.

The job's options, chosen on purpose:

- `coalesce=True`: when runs were missed (the event loop was blocked, the host slept),
  they collapse into one. The ticks compute everything from `now` and are idempotent,
  so a second back-to-back run could only repeat the first.
- `misfire_grace_time=None`: a late run still runs, however late. Lateness never makes
  a sweep wrong (it catches up what fell due meanwhile), while skipping it would only
  push that work another minute out. (APScheduler's default of one second would
  silently drop a run delayed by a busy loop.)
- `max_instances=1`: a sweep slower than a minute is never overlapped by the next one.
- The first run is at once on taking the lead, so a restarted worker catches up first.

Exactly one scheduler runs in a cluster. On PostgreSQL each process tries a session-level
advisory lock (`pg_try_advisory_lock`) on a connection of its own, held for as long as
it leads; the others stand by and try again every `retry_interval`. The server releases
the lock when that connection dies, so before every sweep the leader checks the
connection and steps down if it is gone. On SQLite there is a single process, which
leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.clock import Clock

log = logging.getLogger("coachbot.scheduler")

SWEEP_INTERVAL = timedelta(minutes=1)
RETRY_INTERVAL = timedelta(seconds=15)
JOB_ID = "coachbot-sweep"
# A fixed 64-bit key, the same in every Coachbot process sharing the database.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"coachbot:scheduler").digest()[:8], "big",
                          signed=True)


class Tick(Protocol):
    """Periodic work: find what is due at `now`, do it, return how many items it did."""

    def __call__(
        self, *, sessions: async_sessionmaker[AsyncSession], now: datetime
    ) -> Awaitable[int]: ...


def tick_name(tick: object) -> str:
    """A readable name for a tick (a function, or a bound method of a sweep object)."""
    name = getattr(tick, "__qualname__", None) or getattr(tick, "__name__", None)
    return str(name or type(tick).__name__)


async def run_ticks(
    *, sessions: async_sessionmaker[AsyncSession], now: datetime, ticks: Sequence[Tick]
) -> dict[str, int]:
    """Run every tick once, in order; one that fails is logged and the rest still run.

    Returns how many items each tick did (-1 for a tick that failed).
    """
    done: dict[str, int] = {}
    for tick in ticks:
        name = tick_name(tick)
        try:
            done[name] = int(await tick(sessions=sessions, now=now))
        except Exception:
            log.exception("tick %s failed", name)
            done[name] = -1
    return done


class CoachbotScheduler:
    """Leader election plus the one-minute sweep; `start()` and `stop()` it."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        engine: AsyncEngine,
        ticks: Sequence[Tick],
        clock: Clock,
        interval: timedelta = SWEEP_INTERVAL,
        retry_interval: timedelta = RETRY_INTERVAL,
        lock_key: int = LOCK_KEY,
    ) -> None:
        self.sessions = sessions
        self.engine = engine
        self.ticks = list(ticks)
        self.clock = clock
        self.interval = interval
        self.retry_interval = retry_interval
        self.lock_key = lock_key
        self.sweeps = 0
        self._lock_connection: AsyncConnection | None = None
        self._leading = False
        self._scheduler: AsyncIOScheduler | None = None
        self._sweeping = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def uses_lock(self) -> bool:
        """Whether leadership is decided by a PostgreSQL advisory lock."""
        return self.engine.dialect.name == "postgresql"

    @property
    def is_leader(self) -> bool:
        return self._leading

    @property
    def job(self) -> Job | None:
        """The sweep job, while this process leads."""
        return self._scheduler.get_job(JOB_ID) if self._scheduler is not None else None

    # Leadership

    async def try_lead(self) -> bool:
        """Try once to become the leader; True if this process leads (now or already)."""
        if self._leading:
            return True
        if not self.uses_lock:
            self._leading = True
            return True
        connection = await self.engine.connect()
        try:
            # Autocommit: a lock held for hours must not hold a transaction open with it.
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            got = (await connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.lock_key})).scalar()
        except Exception:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        self._lock_connection = connection
        self._leading = True
        log.info("this process now runs the scheduler")
        return True

    async def still_leading(self) -> bool:
        """Check the lock's connection; step down (and say so) if it is gone."""
        if not self._leading:
            return False
        if self._lock_connection is None:
            return True
        try:
            await self._lock_connection.execute(text("SELECT 1"))
            return True
        except Exception:
            log.warning("lost the scheduler lock's connection; standing by")
            await self._step_down()
            return False

    async def _step_down(self) -> None:
        self._leading = False
        self._stop_job()
        connection, self._lock_connection = self._lock_connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                     {"key": self.lock_key})
        with contextlib.suppress(Exception):
            await connection.invalidate()
            await connection.close()

    # The sweep

    async def sweep(self) -> dict[str, int] | None:
        """Run every tick once at the clock's `now`, if this process leads (else None)."""
        async with self._sweeping:
            if not await self.still_leading():
                return None
            done = await run_ticks(sessions=self.sessions, now=self.clock.now(),
                                   ticks=self.ticks)
            self.sweeps += 1
            return done

    def _start_job(self) -> None:
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self.sweep, IntervalTrigger(seconds=self.interval.total_seconds()), id=JOB_ID,
            coalesce=True, misfire_grace_time=None, max_instances=1,
            # APScheduler keeps real time; only the ticks see the (injectable) clock.
            next_run_time=datetime.now(UTC), replace_existing=True)
        scheduler.start()
        self._scheduler = scheduler

    def _stop_job(self) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.remove_all_jobs()
            scheduler.shutdown(wait=False)

    # Lifecycle

    async def start(self) -> None:
        """Stand for leadership in the background; sweep every interval while leading."""
        if self._task is not None:
            raise RuntimeError("the scheduler is already running")
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="coachbot scheduler")

    async def stop(self) -> None:
        """Stop sweeping, let a sweep under way finish, and release the lead."""
        self._stop.set()
        if self._task is not None:
            task, self._task = self._task, None
            await task
        async with self._sweeping:
            await self._step_down()

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._leading and await self.try_lead():
                    self._start_job()
                elif self._leading:
                    await self.still_leading()
            except Exception:
                log.exception("scheduler election failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.retry_interval.total_seconds())


def create_scheduler(
    *,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    ticks: Sequence[Tick],
    clock: Clock,
) -> CoachbotScheduler:
    """The scheduler for this process; call `start()` in `coachbot worker` (or `serve`)."""
    return CoachbotScheduler(sessions=sessions, engine=engine, ticks=ticks, clock=clock)
