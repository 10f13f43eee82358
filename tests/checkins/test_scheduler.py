"""The scheduler: ticks run once each and fail alone; one leader per cluster on PostgreSQL
(an advisory lock; the others stand by and take over); the one-minute job's options; and
two workers against one database enqueue each occurrence once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.jobs import checkin_ticks
from services.checkins.models import Checkin
from services.clock import ManualClock
from services.db import create_engine, create_sessionmaker
from services.delivery.models import Delivery
from services.scheduler import JOB_ID, CoachbotScheduler, create_scheduler, run_ticks
from tests.checkins.factories import make_leader, make_program, make_schedule
from tests.slack.conftest import eventually

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2024, 6, 12, 12, 0, tzinfo=UTC)


@pytest.fixture
async def second_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """Another process's engine: its own pool and connections on the same database."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


def scheduler(engine: AsyncEngine, clock: ManualClock, **options: object) -> CoachbotScheduler:
    return CoachbotScheduler(sessions=create_sessionmaker(engine), engine=engine,
                             ticks=checkin_ticks(), clock=clock, **options)  # type: ignore[arg-type]


async def test_run_ticks_runs_each_once_and_a_failure_stays_alone(sessions: Sessions) -> None:
    seen: list[datetime] = []

    async def counts(*, sessions: Sessions, now: datetime) -> int:
        seen.append(now)
        return 3

    async def breaks(*, sessions: Sessions, now: datetime) -> int:
        raise RuntimeError("boom")

    done = await run_ticks(sessions=sessions, now=NOW, ticks=[breaks, counts])
    assert seen == [NOW]
    assert list(done.values()) == [-1, 3]


async def test_exactly_one_scheduler_leads_and_another_takes_over(
    engine: AsyncEngine, second_engine: AsyncEngine, sessions: Sessions
) -> None:
    clock = ManualClock(NOW)
    first, second = scheduler(engine, clock), scheduler(second_engine, clock)
    try:
        assert await first.try_lead()
        if not first.uses_lock:
            # SQLite runs as a single process: it always leads, nothing to elect.
            assert await second.try_lead()
            return
        assert not await second.try_lead()
        assert await first.sweep() is not None
        assert await second.sweep() is None
        await first.stop()  # releases the lock
        assert await second.try_lead()
        assert not await first.try_lead()
    finally:
        await first.stop()
        await second.stop()


async def test_a_leader_whose_lock_connection_dies_steps_down(
    engine: AsyncEngine, second_engine: AsyncEngine
) -> None:
    clock = ManualClock(NOW)
    first, second = scheduler(engine, clock), scheduler(second_engine, clock)
    try:
        assert await first.try_lead()
        if not first.uses_lock:
            return
        holder = ("FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid() "
                  "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                  " AND ((classid::bigint << 32) | objid::bigint) = :key")
        async with engine.connect() as admin:
            # Only the holder of Coachbot's lock, in this test's own database.
            await admin.execute(text(f"SELECT pg_terminate_backend(pid) {holder}"),
                                {"key": first.lock_key})
            await admin.commit()
            # Termination is asynchronous: wait until the server has let the lock go.
            for _ in range(200):
                held = (await admin.execute(text(f"SELECT count(*) {holder}"),
                                            {"key": first.lock_key})).scalar()
                await admin.commit()
                if not held:
                    break
                await asyncio.sleep(0.01)
        assert await first.sweep() is None  # it notices before sweeping
        assert not first.is_leader
        assert await second.try_lead()
    finally:
        await first.stop()
        await second.stop()


async def test_start_runs_the_sweep_at_once_with_deliberate_job_options(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    program = await make_program(session)
    await make_leader(session, program.workspace, program.cohort, timezone="UTC",
                      enrolled_at=NOW - timedelta(hours=1))
    await make_schedule(session, program.cohort, at=time(11, 30))
    await session.commit()
    clock = ManualClock(NOW)
    worker = create_scheduler(sessions=create_sessionmaker(engine), engine=engine,
                              ticks=checkin_ticks(), clock=clock)
    await worker.start()
    try:
        await eventually(lambda: worker.sweeps >= 1)
        job = worker.job
        assert job is not None and job.id == JOB_ID
        assert job.trigger.interval == timedelta(minutes=1)
        assert job.coalesce is True
        assert job.misfire_grace_time is None
        assert job.max_instances == 1
    finally:
        await worker.stop()
    assert worker.job is None and not worker.is_leader
    count = (await session.exec(select(func.count()).select_from(Checkin))).one()
    assert count == 1


async def test_two_workers_on_one_database_enqueue_each_occurrence_once(
    session: AsyncSession, engine: AsyncEngine, second_engine: AsyncEngine
) -> None:
    program = await make_program(session)
    for n in range(12):
        await make_leader(session, program.workspace, program.cohort,
                          timezone=["UTC", "Asia/Kathmandu", "America/New_York"][n % 3],
                          enrolled_at=NOW - timedelta(hours=1))
    await make_schedule(session, program.cohort, at=time(0, 5))
    await session.commit()
    clock = ManualClock(NOW)
    workers = [scheduler(engine, clock), scheduler(second_engine, clock)]
    for worker in workers:
        await worker.try_lead()
    try:
        for _ in range(3):
            await asyncio.gather(*(worker.sweep() for worker in workers))
            clock.advance(timedelta(minutes=1))
    finally:
        for worker in workers:
            await worker.stop()
    checkins = (await session.exec(select(func.count()).select_from(Checkin))).one()
    invites = (await session.exec(select(func.count()).select_from(Delivery).where(
        Delivery.kind == "checkin_invite"))).one()
    assert checkins == invites == 12
    if workers[0].uses_lock:
        assert sorted(w.sweeps for w in workers) == [0, 3]
