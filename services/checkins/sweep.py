"""The sweep: create every due check-in occurrence and its outbox intent, set-based.

For each active schedule, the local date and due instant are computed once per timezone
its leaders live in (tens of zones, not one computation per leader). One
`INSERT … SELECT … ON CONFLICT DO NOTHING` then creates the occurrences of every leader
in those zones (unique member × schedule × local date: a second sweep, or a second
worker, inserts nothing), and one more `INSERT … SELECT` adds their invitations to the
delivery outbox (unique `delivery_key`).

An occurrence still inside its window (due, not yet expired) is created `pending` and
sent. One whose window closed while no sweep ran (downtime) is created `dropped` and
never sent, provided the leader was already enrolled when it fell due.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Integer,
    Select,
    String,
    and_,
    cast,
    func,
    literal,
    or_,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import (
    Checkin,
    CheckinKind,
    CheckinSchedule,
    CheckinStatus,
    CohortHoliday,
)
from services.checkins.reflections import assign_reflections
from services.checkins.schedule import (
    Occurrence,
    Rules,
    local_date,
    recent_occurrences,
    zone_or_none,
)
from services.checkins.templates import schedule_questions
from services.db import UTCDateTime
from services.delivery.models import Delivery, DeliveryState
from services.people.models import Cohort, Enrollment, EnrollmentRole, EnrollmentStatus, Member
from services.prompts import ReflectionLibrary, load_reflection_library

log = logging.getLogger("coachbot.checkins")

INVITE_KIND = "checkin_invite"
REMINDER_KIND = "checkin_reminder"
_UTC = ZoneInfo("UTC")


def invite_key(checkin_id: int) -> str:
    """The outbox key of an occurrence's invitation."""
    return f"checkin:{checkin_id}"


def reminder_key(checkin_id: int, number: int) -> str:
    """The outbox key of an occurrence's n-th reminder."""
    return f"checkin:{checkin_id}:r{number}"


def rules_for(schedule: CheckinSchedule, holidays: Iterable[date] = ()) -> Rules:
    """The schedule's timing rules."""
    reminder = schedule.reminder_after_minutes
    return Rules(
        weekdays=frozenset(schedule.weekdays or ()),
        local_time=schedule.local_time,
        start_date=schedule.start_date,
        end_date=schedule.end_date,
        expire_after=timedelta(minutes=schedule.expire_after_minutes),
        reminder_after=(timedelta(minutes=reminder)
                        if reminder and schedule.max_reminders > 0 else None),
        holidays=frozenset(holidays),
    )


@dataclass
class SchedulePlan:
    """What one schedule's sweep needs, loaded once per tick."""

    schedule: CheckinSchedule
    rules: Rules
    cohort_zone: ZoneInfo
    zones: list[str]
    questions: list[dict[str, Any]]


@dataclass
class Candidate:
    """One (zone, local date) occurrence of a schedule, for every leader in that zone."""

    timezone: str
    occurrence: Occurrence
    status: CheckinStatus


@dataclass
class SweepResult:
    created: int = 0
    dropped: int = 0
    invited: int = 0
    exhausted: int = 0
    candidates: int = 0
    zones_unknown: set[str] = field(default_factory=set)


async def load_plans(
    *, session: AsyncSession, now: datetime, zones: Mapping[int, set[str]] | None = None
) -> list[SchedulePlan]:
    """Every active schedule that may have an occurrence due around `now`.

    `zones` (cohort id → the timezones its leaders live in) may come from a cache; cohorts
    missing from it are looked up.
    """
    # Widest day a zone can be away from UTC, plus the longest window and the lookback.
    earliest = (now - timedelta(days=9)).date()
    schedules = (
        await session.exec(
            select(CheckinSchedule).where(
                col(CheckinSchedule.active).is_(True),
                col(CheckinSchedule.start_date) <= (now + timedelta(days=1)).date(),
                or_(col(CheckinSchedule.end_date).is_(None),
                    col(CheckinSchedule.end_date) >= earliest),
            ).order_by(col(CheckinSchedule.id))
        )
    ).all()
    if not schedules:
        return []
    cohort_ids = {s.cohort_id for s in schedules}
    cohorts = {
        c.id: c for c in (
            await session.exec(select(Cohort).where(col(Cohort.id).in_(cohort_ids)))
        ).all()
    }
    holidays: dict[int, set[date]] = defaultdict(set)
    for cohort_id, day in (
        await session.exec(select(col(CohortHoliday.cohort_id), col(CohortHoliday.day)).where(
            col(CohortHoliday.cohort_id).in_(cohort_ids)))
    ).all():
        holidays[cohort_id].add(day)
    known = dict(zones or {})
    missing = cohort_ids - set(known)
    if missing:
        known.update(await leader_zones(session=session, cohort_ids=missing))
    plans = []
    for schedule in schedules:
        cohort = cohorts.get(schedule.cohort_id)
        if cohort is None or not known.get(schedule.cohort_id):
            continue
        plans.append(SchedulePlan(
            schedule=schedule,
            rules=rules_for(schedule, holidays[schedule.cohort_id]),
            cohort_zone=zone_or_none(cohort.timezone) or _UTC,
            zones=sorted(known[schedule.cohort_id]),
            questions=await schedule_questions(session=session, schedule=schedule),
        ))
    return plans


async def leader_zones(
    *, session: AsyncSession, cohort_ids: Iterable[int] | None = None
) -> dict[int, set[str]]:
    """The timezones each cohort's leaders live in (every cohort when none are named)."""
    statement = (
        select(Enrollment.cohort_id, Member.timezone).distinct()
        .join(Member, col(Member.id) == col(Enrollment.member_id))
        .where(col(Enrollment.role) == EnrollmentRole.leader,
               col(Enrollment.status) != EnrollmentStatus.left,
               col(Member.erased_at).is_(None))
    )
    if cohort_ids is not None:
        statement = statement.where(col(Enrollment.cohort_id).in_(list(cohort_ids)))
    rows = await session.exec(statement)
    zones: dict[int, set[str]] = defaultdict(set)
    for cohort_id, timezone in rows.all():
        zones[cohort_id].add(timezone)
    return zones


def candidates_for(plan: SchedulePlan, *, now: datetime, result: SweepResult) -> list[Candidate]:
    """The schedule's recent occurrences in every zone its leaders live in."""
    found = []
    for name in plan.zones:
        zone = zone_or_none(name)
        if zone is None:
            # Not a zone this server knows (a typo, or newer than its tz database): the
            # cohort's own timezone is the best guess at the leader's working day.
            result.zones_unknown.add(name)
            zone = plan.cohort_zone
        for occurrence in recent_occurrences(plan.rules, zone, now=now):
            status = CheckinStatus.pending if occurrence.is_open(now) else CheckinStatus.dropped
            found.append(Candidate(timezone=name, occurrence=occurrence, status=status))
    return found


def _candidate_table(candidates: Sequence[Candidate]) -> Any:
    rows = [
        sa_select(
            literal(c.timezone, String).label("tz"),
            literal(c.occurrence.local_date, Date).label("local_date"),
            literal(c.occurrence.due_at, UTCDateTime).label("due_at"),
            literal(c.occurrence.expires_at, UTCDateTime).label("expires_at"),
            literal(c.occurrence.next_reminder_at, UTCDateTime).label("next_reminder_at"),
            literal(c.status.value, String).label("status"),
        )
        for c in candidates
    ]
    return (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("candidate")


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _new_occurrences(
    plan: SchedulePlan, candidates: Sequence[Candidate], now: datetime
) -> Select[Any]:
    schedule = plan.schedule
    candidate = _candidate_table(candidates)
    enrolled = or_(
        col(Enrollment.status) == EnrollmentStatus.active,
        and_(col(Enrollment.status) == EnrollmentStatus.paused,
             col(Enrollment.paused_until).is_not(None),
             col(Enrollment.paused_until) <= candidate.c.local_date),
    )
    return (
        sa_select(
            col(Enrollment.workspace_id), col(Enrollment.member_id),
            literal(schedule.id, Integer), candidate.c.local_date, candidate.c.due_at,
            candidate.c.expires_at, candidate.c.status, literal(plan.questions, JSON),
            candidate.c.next_reminder_at, literal(0, Integer), literal(False, Boolean),
            literal(now, UTCDateTime),
        )
        .select_from(Enrollment)
        .join(Member, col(Member.id) == col(Enrollment.member_id))
        .join(candidate, col(Member.timezone) == candidate.c.tz)
        .where(
            col(Enrollment.cohort_id) == schedule.cohort_id,
            col(Enrollment.role) == EnrollmentRole.leader,
            col(Member.erased_at).is_(None),
            enrolled,
            # A missed occurrence is recorded only for leaders enrolled when it fell due.
            or_(candidate.c.status == CheckinStatus.pending.value,
                col(Enrollment.created_at) <= candidate.c.due_at),
        )
    )


_OCCURRENCE_COLUMNS = (
    "workspace_id", "member_id", "schedule_id", "local_date", "due_at", "expires_at", "status",
    "questions", "next_reminder_at", "reminders_sent", "late", "created_at",
)


async def sweep_schedule(
    *, session: AsyncSession, plan: SchedulePlan, now: datetime,
    library: ReflectionLibrary | None = None, candidates: Sequence[Candidate] | None = None,
) -> SweepResult:
    """Create the schedule's due occurrences and their invitations; returns what it did.

    `candidates` narrows the work to some (zone, date) groups; by default, all recent ones.
    """
    result = SweepResult()
    if candidates is None:
        candidates = candidates_for(plan, now=now, result=result)
    result.candidates = len(candidates)
    if not candidates:
        return result
    insert = _insert(session)
    statement = (
        insert(Checkin)
        .from_select(list(_OCCURRENCE_COLUMNS), _new_occurrences(plan, candidates, now))
        .on_conflict_do_nothing(index_elements=["member_id", "schedule_id", "local_date"])
        .returning(col(Checkin.id), col(Checkin.member_id), col(Checkin.status))
    )
    # Core, not the ORM's bulk-insert path: the rows come back as plain tuples.
    created = (await (await session.connection()).execute(statement)).all()
    if not created:
        return result
    result.created = len(created)
    result.dropped = sum(1 for row in created if row[2] == CheckinStatus.dropped)
    if plan.schedule.kind == CheckinKind.reflection:
        pending = [(row[0], row[1]) for row in created if row[2] == CheckinStatus.pending]
        result.exhausted = await assign_reflections(
            session=session, schedule=plan.schedule, checkins=pending,
            library=library or load_reflection_library())
    ids = [row[0] for row in created]
    result.invited = await _invite(session, plan.schedule, min(ids), max(ids), now)
    return result


async def _invite(
    session: AsyncSession, schedule: CheckinSchedule, low: int, high: int, now: datetime
) -> int:
    """Outbox rows for the occurrences this sweep just created (same schedule, same stamp)."""
    dialect = session.get_bind().dialect.name
    json_object = func.json_build_object if dialect == "postgresql" else func.json_object
    intent = json_object(literal("kind", String), literal(INVITE_KIND, String),
                         literal("checkin_id", String), col(Checkin.id))
    source = sa_select(
        col(Checkin.workspace_id),
        literal("checkin:", String) + cast(col(Checkin.id), String),
        literal(INVITE_KIND, String),
        intent,
        col(Checkin.member_id),
        literal(DeliveryState.pending.value, String),
        literal(0, Integer),
        literal(now, UTCDateTime),
        literal(now, UTCDateTime),
    ).where(
        col(Checkin.id).between(low, high),
        col(Checkin.schedule_id) == schedule.id,
        col(Checkin.created_at) == now,
        col(Checkin.status) == CheckinStatus.pending,
    )
    statement = (
        _insert(session)(Delivery)
        .from_select(["workspace_id", "delivery_key", "kind", "intent", "member_id", "state",
                      "attempts", "next_attempt_at", "created_at"], source)
        .on_conflict_do_nothing(index_elements=["delivery_key"])
    )
    return int((await (await session.connection()).execute(statement)).rowcount)


def today_in(zone_name: str, now: datetime, fallback: ZoneInfo = _UTC) -> date:
    """Today's date in a zone (the fallback zone when the name is unknown)."""
    return local_date(now, zone_or_none(zone_name) or fallback)


def describe(results: Mapping[int, SweepResult]) -> str:
    """A one-line log summary of a sweep."""
    created = sum(r.created for r in results.values())
    dropped = sum(r.dropped for r in results.values())
    invited = sum(r.invited for r in results.values())
    return f"{created} occurrences ({dropped} dropped), {invited} invitations"
