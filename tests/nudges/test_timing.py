"""Who is due a nudge: local time, quiet hours, weekly cap, fatigue rules, pauses and modes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.nudges.models import Nudge, NudgeStatus
from services.nudges.timing import (
    LeaderDay,
    Schedule,
    SkipReason,
    due_leaders,
    in_quiet_hours,
    skip_reason,
)
from services.people.models import Enrollment, EnrollmentStatus, NudgeMode
from services.plans.models import GoalStatus, MilestoneStatus
from tests.nudges.factories import NOW, Program, make_checkin, make_program, set_policy

# --- the rules, without a database -----------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "start", "end", "quiet"),
    [
        (time(22), time(19), time(8), True),
        (time(7, 59), time(19), time(8), True),
        (time(8), time(19), time(8), False),
        (time(12), time(19), time(8), False),
        (time(13), time(12), time(14), True),
        (time(14), time(12), time(14), False),
        (time(3), time(0), time(0), False),
    ],
)
def test_quiet_hours_may_wrap_past_midnight(
    moment: time, start: time, end: time, quiet: bool
) -> None:
    assert in_quiet_hours(moment, start=start, end=end) is quiet


TUESDAY = datetime(2025, 3, 11, 9, 45)


@pytest.mark.parametrize(
    ("local", "day", "reason"),
    [
        (TUESDAY, LeaderDay(), None),
        (TUESDAY.replace(hour=9, minute=29), LeaderDay(), SkipReason.before_slot),
        (TUESDAY - timedelta(days=1), LeaderDay(), SkipReason.before_slot),
        (TUESDAY.replace(hour=19, minute=30), LeaderDay(), SkipReason.quiet_hours),
        (TUESDAY + timedelta(days=2), LeaderDay(), None),
        (TUESDAY, LeaderDay(nudges_this_week=1), SkipReason.weekly_cap),
        (TUESDAY, LeaderDay(answered_checkin_today=True), SkipReason.answered_checkin),
        (TUESDAY, LeaderDay(completed_milestone_today=True), SkipReason.completed_milestone),
    ],
)
def test_skip_reasons(local: datetime, day: LeaderDay, reason: SkipReason | None) -> None:
    assert skip_reason(local=local, schedule=Schedule(), day=day) is reason


def test_a_cap_above_one_still_allows_one_a_day() -> None:
    schedule = Schedule(per_week_cap=2)
    assert skip_reason(local=TUESDAY, schedule=schedule, day=LeaderDay(nudges_this_week=1)) is None
    nudged = LeaderDay(nudges_this_week=1, nudged_today=True)
    assert skip_reason(local=TUESDAY, schedule=schedule, day=nudged) is SkipReason.nudged_today


# --- against the database --------------------------------------------------------------


async def due_ids(session: AsyncSession, now: datetime = NOW) -> set[int]:
    return {d.member_id for d in await due_leaders(session=session, now=now)}


async def add_nudge(session: AsyncSession, program: Program, local_date: date) -> None:
    session.add(Nudge(
        workspace_id=program.workspace.id or 0, member_id=program.leader.id or 0,
        cohort_id=program.cohort.id, dedupe_key=f"test:{local_date}", text="Hi Maya",
        source="offline", status=NudgeStatus.sent, local_date=local_date,
    ))
    await session.flush()


async def test_due_at_each_leaders_own_local_time(session: AsyncSession) -> None:
    program = await make_program(session, leader_timezone="America/New_York")
    leader, other = program.leader.id, program.other.id
    # 09:45 UTC is 05:45 in New York and 09:45 in London (Omar).
    assert await due_ids(session) == {other}
    assert await due_ids(session, NOW.replace(hour=13, minute=29)) == {other}
    due = await due_leaders(session=session, now=NOW.replace(hour=13, minute=31))
    assert {d.member_id for d in due} == {leader, other}
    maya = next(d for d in due if d.member_id == leader)
    assert maya.local_date == date(2025, 3, 11)
    assert maya.mode is NudgeMode.auto
    assert maya.coach_id == program.coach.id
    assert maya.cohort_id == program.cohort.id


async def test_the_cohort_policy_replaces_the_defaults(session: AsyncSession) -> None:
    program = await make_program(session)
    await set_policy(session, program.cohort, weekday=3, local_time=time(14))
    assert await due_ids(session) == set()
    thursday = NOW + timedelta(days=2)
    assert await due_ids(session, thursday.replace(hour=13, minute=59)) == set()
    assert await due_ids(session, thursday.replace(hour=14)) == {
        program.leader.id, program.other.id
    }


async def test_quiet_hours_delay_an_early_slot(session: AsyncSession) -> None:
    program = await make_program(session)
    await set_policy(session, program.cohort, local_time=time(7), quiet_end=time(8))
    assert await due_ids(session, NOW.replace(hour=7, minute=30)) == set()
    assert program.leader.id in await due_ids(session, NOW.replace(hour=8, minute=1))


async def test_weekly_cap_counts_this_week_only(session: AsyncSession) -> None:
    program = await make_program(session)
    await add_nudge(session, program, date(2025, 3, 7))  # the Friday before
    assert program.leader.id in await due_ids(session)
    await add_nudge(session, program, date(2025, 3, 10))  # this Monday (a manual one)
    assert program.leader.id not in await due_ids(session)
    assert program.other.id in await due_ids(session)


async def test_a_higher_cap_nudges_again_on_a_later_day(session: AsyncSession) -> None:
    program = await make_program(session)
    await set_policy(session, program.cohort, per_week_cap=2)
    await add_nudge(session, program, date(2025, 3, 11))
    assert program.leader.id not in await due_ids(session)
    assert program.leader.id in await due_ids(session, NOW + timedelta(days=1))


async def test_no_nudge_on_a_day_with_an_answered_checkin(session: AsyncSession) -> None:
    program = await make_program(session)
    await make_checkin(session, program.leader, program.cohort, answered_at=NOW.replace(hour=8))
    assert await due_ids(session) == {program.other.id}
    # The leader is nudged at their usual time on a later day of the same week instead.
    assert program.leader.id in await due_ids(session, NOW + timedelta(days=1))


async def test_the_checkin_day_is_the_leaders_local_day(session: AsyncSession) -> None:
    program = await make_program(session, leader_timezone="America/Los_Angeles")
    # 17:30 on Monday in Los Angeles is already Tuesday 00:30 in UTC.
    monday_evening = datetime(2025, 3, 11, 0, 30, tzinfo=UTC)
    await make_checkin(session, program.leader, program.cohort, answered_at=monday_evening)
    tuesday_10am_la = datetime(2025, 3, 11, 17, 0, tzinfo=UTC)
    assert program.leader.id in await due_ids(session, tuesday_10am_la)
    await make_checkin(
        session, program.leader, program.cohort, local_date=date(2025, 3, 12),
        answered_at=datetime(2025, 3, 11, 16, 0, tzinfo=UTC),  # 09:00 Tuesday in LA
    )
    assert program.leader.id not in await due_ids(session, tuesday_10am_la)


async def test_no_nudge_on_a_day_a_milestone_was_completed(session: AsyncSession) -> None:
    program = await make_program(session)
    program.milestone.status = MilestoneStatus.done
    program.milestone.done_at = NOW - timedelta(hours=1)
    session.add(program.milestone)
    await session.flush()
    assert await due_ids(session) == {program.other.id}


async def enrollment_of(session: AsyncSession, program: Program) -> Enrollment:
    return (
        await session.exec(select(Enrollment).where(Enrollment.member_id == program.leader.id))
    ).one()


async def test_none_while_paused_and_again_when_the_pause_ends(session: AsyncSession) -> None:
    program = await make_program(session)
    enrollment = await enrollment_of(session, program)
    enrollment.status = EnrollmentStatus.paused
    session.add(enrollment)
    await session.flush()
    assert program.leader.id not in await due_ids(session)
    enrollment.paused_until = date(2025, 3, 12)
    session.add(enrollment)
    await session.flush()
    assert program.leader.id not in await due_ids(session)
    assert program.leader.id in await due_ids(session, NOW + timedelta(days=1))


async def test_none_after_leaving(session: AsyncSession) -> None:
    program = await make_program(session)
    enrollment = await enrollment_of(session, program)
    enrollment.status = EnrollmentStatus.left
    session.add(enrollment)
    await session.flush()
    assert await due_ids(session) == {program.other.id}


async def test_none_when_the_cohort_switched_nudges_off(session: AsyncSession) -> None:
    await make_program(session, mode=NudgeMode.off)
    assert await due_ids(session) == set()


async def test_none_outside_the_cohort_dates(session: AsyncSession) -> None:
    program = await make_program(session)
    program.cohort.end_date = date(2025, 3, 10)
    session.add(program.cohort)
    await session.flush()
    assert await due_ids(session) == set()


async def test_none_without_an_open_goal_the_audience_may_use(session: AsyncSession) -> None:
    program = await make_program(session, mode=NudgeMode.coach_review)
    assert await due_ids(session) == {program.leader.id, program.other.id}
    # In review mode only goals shared with the coach count; Maya's other goal is private.
    program.goal.status = GoalStatus.done
    session.add(program.goal)
    await session.flush()
    assert await due_ids(session) == {program.other.id}


async def test_limit_takes_the_first_leaders(session: AsyncSession) -> None:
    program = await make_program(session)
    due = await due_leaders(session=session, now=NOW, limit=1)
    assert [d.member_id for d in due] == [program.leader.id]
