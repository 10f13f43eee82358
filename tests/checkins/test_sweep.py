"""The sweep against a real database: one occurrence per local date across DST changes,
catch-up after downtime, pauses, holidays, unknown zones, and two workers at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.jobs import CheckinSweep, Tick, checkin_sweep_tick
from services.checkins.models import Checkin, CheckinKind, CheckinStatus, CohortHoliday
from services.db import create_engine, create_sessionmaker
from services.delivery.models import Delivery
from services.people.models import Enrollment, EnrollmentStatus
from services.plans.models import Goal
from tests.checkins.factories import make_leader, make_program, make_schedule

Sessions = async_sessionmaker[AsyncSession]


def every(step: timedelta, start: datetime, end: datetime) -> list[datetime]:
    """Tick times from start to end (inclusive), `step` apart."""
    count = int((end - start) / step)
    return [start + n * step for n in range(count + 1)]


async def simulate(sessions: Sessions, *, start: datetime, end: datetime,
                   step: timedelta, tick: Tick = checkin_sweep_tick) -> list[datetime]:
    """Tick the sweep from start to end (inclusive) every `step`; returns the tick times."""
    return await run(sessions, every(step, start, end), tick)


async def run(sessions: Sessions, ticks: list[datetime],
              tick: Tick = checkin_sweep_tick) -> list[datetime]:
    for now in ticks:
        await tick(sessions=sessions, now=now)
    return ticks


@pytest.fixture(params=["stateless", "remembering"])
def sweep(request: pytest.FixtureRequest) -> Callable[[], Tick]:
    """A factory of sweep ticks: the stateless one, or a fresh CheckinSweep (a new process)."""
    if request.param == "stateless":
        return lambda: checkin_sweep_tick
    return lambda: CheckinSweep().tick


async def occurrences(session: AsyncSession) -> list[Checkin]:
    statement = select(Checkin).order_by(col(Checkin.id)).execution_options(
        populate_existing=True)
    return list((await session.exec(statement)).all())


async def invitations(session: AsyncSession) -> dict[str, Delivery]:
    rows = (await session.exec(select(Delivery))).all()
    return {row.delivery_key: row for row in rows}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


DST_DAYS = [
    pytest.param("America/New_York", time(2, 30), date(2024, 3, 10), utc(2024, 3, 10, 7, 30),
                 id="new-york-spring-forward"),
    pytest.param("America/New_York", time(1, 30), date(2024, 11, 3), utc(2024, 11, 3, 5, 30),
                 id="new-york-fall-back"),
    pytest.param("Europe/London", time(1, 30), date(2024, 3, 31), utc(2024, 3, 31, 1, 30),
                 id="london-spring-forward"),
    pytest.param("Europe/London", time(1, 30), date(2024, 10, 27), utc(2024, 10, 27, 0, 30),
                 id="london-fall-back"),
    pytest.param("Asia/Kathmandu", time(0, 5), date(1986, 1, 1), utc(1985, 12, 31, 18, 35),
                 id="kathmandu-gains-15-minutes"),
    pytest.param("Asia/Kathmandu", time(9, 0), date(2024, 6, 1), utc(2024, 6, 1, 3, 15),
                 id="kathmandu-plus-5-45"),
]


@pytest.mark.parametrize(("zone", "at", "day", "due"), DST_DAYS)
async def test_one_occurrence_per_local_date_across_daylight_saving_changes(
    session: AsyncSession, sessions: Sessions, zone: str, at: time, day: date, due: datetime
) -> None:
    program = await make_program(session)
    leader = await make_leader(session, program.workspace, program.cohort, timezone=zone)
    await make_schedule(session, program.cohort, at=at, expire_after_minutes=6 * 60)
    await session.commit()

    # Every 15 minutes through the night of the change, every 3 hours on the days around it,
    # by one remembering sweep (as the worker runs it).
    step = timedelta(minutes=15)
    near = every(step, due - timedelta(hours=2), due + timedelta(hours=2))
    far = every(timedelta(hours=3), due - timedelta(hours=30), due + timedelta(hours=30))
    await run(sessions, sorted(set(near) | set(far)), CheckinSweep().tick)

    rows = await occurrences(session)
    by_date = {row.local_date: row for row in rows}
    assert len(by_date) == len(rows), "an occurrence was doubled"
    for expected in (day - timedelta(days=1), day, day + timedelta(days=1)):
        assert expected in by_date, f"the occurrence on {expected} was skipped"
    today = by_date[day]
    assert today.due_at == due
    assert today.member_id == leader.id
    # Created by the first tick at or after its due time, and invited in the same tick.
    assert due <= today.created_at < due + step
    invite = (await invitations(session))[f"checkin:{today.id}"]
    assert invite.kind == "checkin_invite"
    assert invite.intent == {"kind": "checkin_invite", "checkin_id": today.id}
    assert invite.member_id == leader.id


async def test_restart_after_three_hours_catches_up_open_occurrences_and_drops_stale_ones(
    session: AsyncSession, sessions: Sessions, sweep: Callable[[], Tick]
) -> None:
    program = await make_program(session)
    zones = {"kolkata": "Asia/Kolkata", "berlin": "Europe/Berlin", "london": "Europe/London",
             "new_york": "America/New_York"}
    for name, zone in zones.items():
        program.leaders[name] = await make_leader(session, program.workspace, program.cohort,
                                                  timezone=zone)
    # 09:00 local, open for 2.5 hours: Kolkata 03:30 UTC, Berlin 07:00, London 08:00, NY 13:00.
    await make_schedule(session, program.cohort, at=time(9), expire_after_minutes=150)
    await session.commit()

    day = date(2024, 6, 12)
    step = timedelta(minutes=10)
    await simulate(sessions, start=utc(2024, 6, 12, 3, 0), end=utc(2024, 6, 12, 6, 50),
                   step=step, tick=sweep())
    # The worker is down from 07:00 to 10:00 UTC, then a new process ticks again.
    await simulate(sessions, start=utc(2024, 6, 12, 10, 0), end=utc(2024, 6, 12, 13, 30),
                   step=step, tick=sweep())

    rows = {(row.member_id, row.local_date): row for row in await occurrences(session)}
    keys = await invitations(session)

    def today(name: str) -> Checkin:
        return rows[(program.leaders[name].id or 0, day)]

    assert today("kolkata").status == CheckinStatus.pending
    assert today("kolkata").created_at == utc(2024, 6, 12, 3, 30)
    # Berlin's window (07:00-09:30 UTC) closed during the outage: recorded, never sent.
    assert today("berlin").status == CheckinStatus.dropped
    assert f"checkin:{today('berlin').id}" not in keys
    # London's (08:00-10:30) is still open at the restart: sent at once.
    assert today("london").status == CheckinStatus.pending
    assert today("london").created_at == utc(2024, 6, 12, 10, 0)
    assert f"checkin:{today('london').id}" in keys
    # New York's was due after the restart: sent on time.
    assert today("new_york").created_at == utc(2024, 6, 12, 13, 0)
    # Yesterday's, closed long before the first tick, are recorded as dropped, not sent.
    yesterday = [row for (_, d), row in rows.items() if d == day - timedelta(days=1)]
    assert yesterday and all(row.status == CheckinStatus.dropped for row in yesterday)
    sent = [row for row in rows.values() if row.status == CheckinStatus.pending]
    assert len(keys) == len(sent) == 3


async def test_late_enrolment_gets_the_open_occurrence_but_no_dropped_history(
    session: AsyncSession, sessions: Sessions
) -> None:
    program = await make_program(session)
    await make_schedule(session, program.cohort, at=time(9), expire_after_minutes=6 * 60)
    now = utc(2024, 6, 12, 10, 0)
    late = await make_leader(session, program.workspace, program.cohort, timezone="UTC",
                             enrolled_at=now - timedelta(minutes=30))
    await session.commit()
    await checkin_sweep_tick(sessions=sessions, now=now)
    rows = await occurrences(session)
    assert [(r.member_id, r.local_date, r.status) for r in rows] == [
        (late.id, date(2024, 6, 12), CheckinStatus.pending)
    ]


async def test_paused_left_erased_and_holiday_get_nothing(
    session: AsyncSession, sessions: Sessions
) -> None:
    program = await make_program(session)
    names = ("active", "paused", "pause_over", "left", "erased")
    for name in names:
        program.leaders[name] = await make_leader(session, program.workspace, program.cohort,
                                                  timezone="Europe/Paris")
    now = utc(2024, 6, 12, 8, 0)  # 10:00 in Paris
    enrollments = {e.member_id: e for e in (await session.exec(select(Enrollment))).all()}
    enrollments[program.leaders["paused"].id].status = EnrollmentStatus.paused
    enrollments[program.leaders["pause_over"].id].status = EnrollmentStatus.paused
    enrollments[program.leaders["pause_over"].id].paused_until = date(2024, 6, 12)
    enrollments[program.leaders["left"].id].status = EnrollmentStatus.left
    program.leaders["erased"].erased_at = now
    session.add(CohortHoliday(cohort_id=program.cohort.id or 0, day=date(2024, 6, 11)))
    await make_schedule(session, program.cohort, at=time(9), expire_after_minutes=12 * 60)
    await session.commit()

    await checkin_sweep_tick(sessions=sessions, now=now)

    rows = await occurrences(session)
    got = {(r.member_id, r.local_date) for r in rows}
    assert got == {(program.leaders["active"].id, date(2024, 6, 12)),
                   (program.leaders["pause_over"].id, date(2024, 6, 12))}


async def test_an_unknown_member_timezone_falls_back_to_the_cohort_timezone(
    session: AsyncSession, sessions: Sessions
) -> None:
    program = await make_program(session, timezone="Asia/Tokyo")
    odd = await make_leader(session, program.workspace, program.cohort, timezone="Mars/Olympus")
    await make_schedule(session, program.cohort, at=time(9), expire_after_minutes=60)
    await session.commit()
    await checkin_sweep_tick(sessions=sessions, now=utc(2024, 6, 12, 0, 5))  # 09:05 Tokyo
    rows = [r for r in await occurrences(session) if r.status == CheckinStatus.pending]
    assert [(r.member_id, r.due_at) for r in rows] == [(odd.id, utc(2024, 6, 12, 0, 0))]


async def test_the_same_tick_twice_creates_nothing_new(
    session: AsyncSession, sessions: Sessions
) -> None:
    program = await make_program(session)
    now = utc(2024, 6, 12, 9, 0)
    for n in range(3):
        await make_leader(session, program.workspace, program.cohort, timezone="UTC",
                          name=f"Leader {n}", enrolled_at=now - timedelta(hours=1))
    await make_schedule(session, program.cohort, at=time(9))
    await session.commit()
    assert await checkin_sweep_tick(sessions=sessions, now=now) == 3
    assert await checkin_sweep_tick(sessions=sessions, now=now) == 0
    assert await checkin_sweep_tick(sessions=sessions, now=now + timedelta(minutes=1)) == 0
    assert len(await invitations(session)) == 3


async def test_two_workers_sweeping_at_once_create_and_enqueue_each_occurrence_once(
    session: AsyncSession, sessions: Sessions, database_url: str
) -> None:
    program = await make_program(session)
    now = utc(2024, 6, 12, 12, 0)
    for n, zone in enumerate(["UTC", "Europe/London", "Asia/Kathmandu", "America/New_York"] * 5):
        await make_leader(session, program.workspace, program.cohort, timezone=zone,
                          name=f"Leader {n}", enrolled_at=now - timedelta(hours=1))
    await make_schedule(session, program.cohort, at=time(0, 1), expire_after_minutes=24 * 60)
    await session.commit()
    # A second process: its own engine and connection pool on the same database.
    other_engine: AsyncEngine = create_engine(database_url)
    try:
        other = create_sessionmaker(other_engine)
        counts = await asyncio.gather(*(
            checkin_sweep_tick(sessions=s, now=now + timedelta(seconds=n))
            for n, s in enumerate([sessions, other, sessions, other])
        ))
    finally:
        await other_engine.dispose()
    assert sum(counts) == 20
    rows = await occurrences(session)
    assert len(rows) == 20
    keys = await invitations(session)
    assert sorted(keys) == sorted(f"checkin:{row.id}" for row in rows)


async def test_reflection_prompts_never_repeat_and_prefer_goal_competencies(
    session: AsyncSession, sessions: Sessions
) -> None:
    program = await make_program(session)
    leader = await make_leader(session, program.workspace, program.cohort, timezone="UTC")
    session.add(Goal(workspace_id=leader.workspace_id, member_id=leader.id or 0,
                     title="Hand more over", competency="Delegation"))
    await make_schedule(session, program.cohort, at=time(9), kind=CheckinKind.reflection,
                        name="Daily reflection", expire_after_minutes=60,
                        start=date(2024, 1, 1))
    await session.commit()
    start = utc(2024, 1, 1, 9, 0)
    for day in range(8):
        await checkin_sweep_tick(sessions=sessions, now=start + timedelta(days=day))
    rows = await occurrences(session)
    prompts = [row.prompt_id for row in rows]
    assert len(rows) == 8 and all(prompts)
    assert len(set(prompts)) == len(prompts)
    delegation = [p for p in prompts if p and p.startswith("delegation-")]
    assert len(delegation) == 6  # the whole competency first, then the rest of the library
    first = rows[0]
    assert first.questions[0]["kind"] == "text"
    assert first.questions[0]["prompt_id"] == first.prompt_id


async def test_a_remembering_sweep_skips_settled_groups_until_their_recheck(
    session: AsyncSession, sessions: Sessions
) -> None:
    program = await make_program(session)
    now = utc(2024, 6, 12, 9, 0)
    first = await make_leader(session, program.workspace, program.cohort, timezone="UTC",
                              enrolled_at=now - timedelta(hours=1))
    await make_schedule(session, program.cohort, at=time(9), expire_after_minutes=12 * 60)
    await session.commit()
    sweep = CheckinSweep(recheck_after=timedelta(minutes=20))
    assert await sweep.tick(sessions=sessions, now=now) == 1
    # Someone joins after the group was settled: not seen by the next ticks...
    late = await make_leader(session, program.workspace, program.cohort, timezone="UTC",
                             enrolled_at=now + timedelta(minutes=2))
    await session.commit()
    assert await sweep.tick(sessions=sessions, now=now + timedelta(minutes=3)) == 0
    # ...but by the re-check, between half and one and a half intervals later.
    assert await sweep.tick(sessions=sessions, now=now + timedelta(minutes=31)) == 1
    rows = await occurrences(session)
    assert {r.member_id for r in rows} == {first.id, late.id}
    assert len(await invitations(session)) == 2
