"""Who is due a nudge now: each leader's own local time, quiet hours, a weekly cap, no fatigue.

A cohort's `NudgePolicy` (or the defaults when it has none) names a weekday and a local time.
From that moment on, for the rest of the leader's ISO week, a leader is due once per day until
the weekly cap is reached, outside quiet hours, and never on a day they already answered a
check-in, completed a milestone or got a nudge. A leader who engaged on the scheduled day is
therefore nudged on a later day that week instead, still at their usual local time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import Checkin
from services.nudges.models import Nudge, NudgePolicy
from services.people.models import (
    CoachAssignment,
    Cohort,
    Enrollment,
    EnrollmentRole,
    EnrollmentStatus,
    Member,
    NudgeMode,
)
from services.plans.models import OPEN_GOAL_STATUSES, Goal, Milestone, Visibility

# IN lists are chunked: far below PostgreSQL's and SQLite's bind-parameter limits.
_IN_CHUNK = 500
# Local "today" is at most 14 hours away from UTC in either direction.
_DAY_SLACK = timedelta(days=2)

T = TypeVar("T")


class SkipReason(StrEnum):
    """Why a leader is not due right now."""

    before_slot = "before_slot"
    quiet_hours = "quiet_hours"
    weekly_cap = "weekly_cap"
    nudged_today = "nudged_today"
    answered_checkin = "answered_checkin"
    completed_milestone = "completed_milestone"


@dataclass(frozen=True, slots=True)
class Schedule:
    """A cohort's nudge policy, or the defaults when the cohort has none."""

    weekday: int = 1
    local_time: time = time(9, 30)
    per_week_cap: int = 1
    quiet_start: time = time(19, 0)
    quiet_end: time = time(8, 0)

    @classmethod
    def of(cls, policy: NudgePolicy | None) -> Schedule:
        if policy is None:
            return cls()
        return cls(
            weekday=policy.weekday,
            local_time=policy.local_time,
            per_week_cap=policy.per_week_cap,
            quiet_start=policy.quiet_start,
            quiet_end=policy.quiet_end,
        )


@dataclass(frozen=True, slots=True)
class LeaderDay:
    """What the leader has done this week and today, in their own timezone."""

    nudges_this_week: int = 0
    nudged_today: bool = False
    answered_checkin_today: bool = False
    completed_milestone_today: bool = False


@dataclass(frozen=True, slots=True)
class DueLeader:
    """A leader to nudge: in which cohort, on which local date, reviewed by which coach."""

    member_id: int
    workspace_id: int
    cohort_id: int
    local_date: date
    mode: NudgeMode
    coach_id: int | None = None


def in_quiet_hours(moment: time, *, start: time, end: time) -> bool:
    """Whether a local time falls in quiet hours (which may wrap past midnight)."""
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def week_start(day: date) -> date:
    """The Monday of the ISO week the day falls in."""
    return day - timedelta(days=day.weekday())


def skip_reason(*, local: datetime, schedule: Schedule, day: LeaderDay) -> SkipReason | None:
    """Why the leader is not due at this local moment, or None when they are due."""
    if local.weekday() < schedule.weekday or local.time() < schedule.local_time:
        return SkipReason.before_slot
    if in_quiet_hours(local.time(), start=schedule.quiet_start, end=schedule.quiet_end):
        return SkipReason.quiet_hours
    if day.nudges_this_week >= schedule.per_week_cap:
        return SkipReason.weekly_cap
    if day.nudged_today:
        return SkipReason.nudged_today
    if day.answered_checkin_today:
        return SkipReason.answered_checkin
    if day.completed_milestone_today:
        return SkipReason.completed_milestone
    return None


def leader_zone(member: Member) -> ZoneInfo:
    """The member's timezone; UTC when the stored name is unknown to this machine."""
    try:
        return ZoneInfo(member.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_paused(enrollment: Enrollment, *, today: date) -> bool:
    """Paused enrolments count as active again from their `paused_until` date on."""
    if enrollment.status != EnrollmentStatus.paused:
        return False
    return enrollment.paused_until is None or today < enrollment.paused_until


def in_session(cohort: Cohort, *, today: date) -> bool:
    """Whether the cohort runs on this date (open-ended on a side with no date)."""
    if cohort.start_date is not None and today < cohort.start_date:
        return False
    return cohort.end_date is None or today <= cohort.end_date


@dataclass(frozen=True, slots=True)
class _Candidate:
    member: Member
    cohort: Cohort
    schedule: Schedule
    local: datetime


async def due_leaders(
    *, session: AsyncSession, now: datetime, limit: int | None = None
) -> list[DueLeader]:
    """Every leader due a nudge at `now`, in member id order, at most `limit` of them."""
    candidates = [
        c for c in await _enrolled_leaders(session=session, now=now)
        if skip_reason(local=c.local, schedule=c.schedule, day=LeaderDay())
        not in (SkipReason.before_slot, SkipReason.quiet_hours)
    ]
    if not candidates:
        return []
    ids = [c.member.id or 0 for c in candidates]
    days = await _leader_days(session=session, candidates=candidates, now=now)
    goals = await _open_goal_visibilities(session=session, member_ids=ids)
    coaches = await _first_coaches(session=session, member_ids=ids)
    due = []
    for c in candidates:
        member_id = c.member.id or 0
        if skip_reason(local=c.local, schedule=c.schedule, day=days[member_id]) is not None:
            continue
        mode = NudgeMode(c.cohort.nudge_mode)
        # A draft a coach reviews may only draw on goals the coach may read.
        wanted = {Visibility.coach} if mode is NudgeMode.coach_review else set(Visibility)
        if not goals[member_id] & wanted:
            continue
        due.append(
            DueLeader(
                member_id=member_id,
                workspace_id=c.member.workspace_id,
                cohort_id=c.cohort.id or 0,
                local_date=c.local.date(),
                mode=mode,
                coach_id=coaches.get((member_id, c.cohort.id or 0)),
            )
        )
        if limit is not None and len(due) >= limit:
            break
    return due


async def leader_target(
    *, session: AsyncSession, member_id: int, now: datetime
) -> tuple[DueLeader | None, str | None]:
    """The leader's nudge cohort ignoring the clock; else None and why (for `nudges draft`)."""
    for c in await _enrolled_leaders(session=session, now=now, member_id=member_id):
        coaches = await _first_coaches(session=session, member_ids=[member_id])
        target = DueLeader(
            member_id=member_id,
            workspace_id=c.member.workspace_id,
            cohort_id=c.cohort.id or 0,
            local_date=c.local.date(),
            mode=NudgeMode(c.cohort.nudge_mode),
            coach_id=coaches.get((member_id, c.cohort.id or 0)),
        )
        return target, None
    return None, "not an active, unpaused leader in a running cohort with nudges on"


async def _enrolled_leaders(
    *, session: AsyncSession, now: datetime, member_id: int | None = None
) -> list[_Candidate]:
    """Each leader's first active enrolment in a running cohort whose nudges are not off."""
    statement = (
        select(Enrollment, Cohort, Member, NudgePolicy)
        .join(Cohort, col(Cohort.id) == Enrollment.cohort_id)
        .join(Member, col(Member.id) == Enrollment.member_id)
        .join(NudgePolicy, col(NudgePolicy.cohort_id) == Cohort.id, isouter=True)
        .where(
            Enrollment.role == EnrollmentRole.leader,
            col(Enrollment.status).in_([EnrollmentStatus.active, EnrollmentStatus.paused]),
            Cohort.nudge_mode != NudgeMode.off,
            col(Member.erased_at).is_(None),
        )
        .order_by(col(Enrollment.member_id), col(Enrollment.cohort_id))
    )
    if member_id is not None:
        statement = statement.where(Enrollment.member_id == member_id)
    chosen: dict[int, _Candidate] = {}
    for enrollment, cohort, member, policy in (await session.exec(statement)).all():
        if enrollment.member_id in chosen:
            continue
        local = now.astimezone(leader_zone(member))
        if is_paused(enrollment, today=local.date()) or not in_session(cohort, today=local.date()):
            continue
        chosen[enrollment.member_id] = _Candidate(
            member=member, cohort=cohort, schedule=Schedule.of(policy), local=local
        )
    return list(chosen.values())


async def _leader_days(
    *, session: AsyncSession, candidates: Sequence[_Candidate], now: datetime
) -> dict[int, LeaderDay]:
    by_id = {c.member.id or 0: c for c in candidates}
    week_counts: dict[int, int] = defaultdict(int)
    nudged, answered, completed = set(), set(), set()
    earliest = min(week_start(c.local.date()) for c in candidates)
    for ids in _chunks(list(by_id)):
        nudges = await session.exec(
            select(Nudge.member_id, col(Nudge.local_date)).where(
                col(Nudge.member_id).in_(ids), Nudge.local_date >= earliest
            )
        )
        for member_id, local_date in nudges.all():
            today = by_id[member_id].local.date()
            if week_start(local_date) == week_start(today):
                week_counts[member_id] += 1
            if local_date == today:
                nudged.add(member_id)
        checkins = await session.exec(
            select(Checkin.member_id, Checkin.answered_at).where(
                col(Checkin.member_id).in_(ids), col(Checkin.answered_at) >= now - _DAY_SLACK
            )
        )
        answered |= _on_local_today(checkins.all(), by_id)
        milestones = await session.exec(
            select(Goal.member_id, Milestone.done_at)
            .join(Goal, col(Goal.id) == Milestone.goal_id)
            .where(col(Goal.member_id).in_(ids), col(Milestone.done_at) >= now - _DAY_SLACK)
        )
        completed |= _on_local_today(milestones.all(), by_id)
    return {
        member_id: LeaderDay(
            nudges_this_week=week_counts[member_id],
            nudged_today=member_id in nudged,
            answered_checkin_today=member_id in answered,
            completed_milestone_today=member_id in completed,
        )
        for member_id in by_id
    }


def _on_local_today(
    rows: Iterable[tuple[int, datetime | None]], by_id: dict[int, _Candidate]
) -> set[int]:
    found = set()
    for member_id, moment in rows:
        candidate = by_id[member_id]
        if moment is not None and moment.astimezone(candidate.local.tzinfo).date() == (
            candidate.local.date()
        ):
            found.add(member_id)
    return found


async def _open_goal_visibilities(
    *, session: AsyncSession, member_ids: Sequence[int]
) -> dict[int, set[Visibility]]:
    found: dict[int, set[Visibility]] = defaultdict(set)
    for ids in _chunks(member_ids):
        rows = await session.exec(
            select(Goal.member_id, Goal.visibility)
            .where(col(Goal.member_id).in_(ids), col(Goal.status).in_(OPEN_GOAL_STATUSES))
            .distinct()
        )
        for member_id, visibility in rows.all():
            found[member_id].add(Visibility(visibility))
    return found


async def _first_coaches(
    *, session: AsyncSession, member_ids: Sequence[int]
) -> dict[tuple[int, int], int]:
    """(leader, cohort) → the coach assigned first; the one who reviews that leader's drafts."""
    found: dict[tuple[int, int], int] = {}
    for ids in _chunks(member_ids):
        rows = await session.exec(
            select(CoachAssignment.leader_id, CoachAssignment.cohort_id, CoachAssignment.coach_id)
            .where(col(CoachAssignment.leader_id).in_(ids))
            .order_by(col(CoachAssignment.id))
        )
        for leader_id, cohort_id, coach_id in rows.all():
            found.setdefault((leader_id, cohort_id), coach_id)
    return found


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]
