"""Outcome metrics: a cohort's engagement by week for its owners, one leader's own for
themselves and their coach. The suppression rules are in kanon.py.

Owners and admins read cohort aggregates, never a person's figures (403); a coach reads
their coachees' figures, a leader their own; anyone else gets 404.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor
from services.errors import Invalid, NotFound, NotPermitted
from services.metrics import kpis
from services.metrics.cells import FAMILIES, Cell, engagement, week_cell
from services.metrics.facts import (
    LeaderFacts,
    Scope,
    cohort_leaders,
    load_facts,
    local_day,
    monday,
    single_leader,
    week_starts,
)
from services.metrics.groups import ATTRIBUTES, breakdown
from services.metrics.kanon import shown
from services.metrics.models import CohortMetrics, MemberMetrics, MemberWeek, WeekMetrics
from services.metrics.plans import days_to_first, snapshot
from services.people.access import cohort_filter, member_filter
from services.people.models import Cohort, EnrollmentStatus, Member
from services.privacy.service import record_read

MAX_WEEKS: Final = 104
DEFAULT_WEEKS: Final = 12


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def metrics_cohort(*, session: AsyncSession, actor: Actor, cohort_id: int) -> Cohort:
    """A cohort whose aggregates the actor may read: admins, and owners of it."""
    cohort = (await session.exec(
        select(Cohort).where(col(Cohort.id) == cohort_id, cohort_filter(actor))
    )).first()
    if cohort is None:
        raise NotFound(f"cohort {cohort_id} not found")
    if actor.role is Role.admin or (actor.role is Role.owner and cohort_id in actor.cohort_ids):
        return cohort
    raise NotPermitted("cohort metrics are for the program's owners and admins")


def _check_weeks(weeks: int) -> None:
    if not 1 <= weeks <= MAX_WEEKS:
        raise Invalid(f"weeks must be between 1 and {MAX_WEEKS}", field="weeks")


def _program_weeks(cohort: Cohort, leaders: dict[int, LeaderFacts], today: date) -> tuple[
        date, date]:
    """The program's first Monday, and the Monday after its last complete week."""
    joined = [leader.enrolled_on for leader in leaders.values()]
    start = cohort.start_date or (min(joined) if joined else today)
    end = monday(today)
    if cohort.end_date is not None:
        end = min(end, monday(cohort.end_date) + timedelta(weeks=1))
    first = max(monday(start), end - timedelta(weeks=MAX_WEEKS))
    return first, max(first, end)


async def cohort_metrics(
    *, session: AsyncSession, actor: Actor, cohort_id: int, weeks: int = DEFAULT_WEEKS,
    by: str | None = None, now: datetime,
) -> CohortMetrics:
    """A cohort's weekly engagement (the newest `weeks` complete weeks), totals of the
    weeks shown, plans, KPIs before and after the start, and optionally a breakdown."""
    _check_weeks(weeks)
    if by is not None and by not in ATTRIBUTES:
        raise Invalid(f"by must be one of {', '.join(ATTRIBUTES)}", field="by")
    cohort = await metrics_cohort(session=session, actor=actor, cohort_id=cohort_id)
    zone = zone_of(cohort.timezone)
    leaders = await cohort_leaders(session=session, cohort_id=cohort_id, zone=zone)
    first, end = _program_weeks(cohort, leaders, local_day(now, zone))
    await load_facts(session=session, leaders=leaders, scope=Scope(zone=zone, cohort_id=cohort_id),
                     first=first, end=end)
    k = cohort.k_anonymity_min
    people = list(leaders.values())
    enrolled = sum(1 for leader in people if leader.status != EnrollmentStatus.left)
    all_weeks = list(week_starts(first, end))
    last = all_weeks[-1] if all_weeks else None
    if not shown(set(leaders), k):
        suppressed = [WeekMetrics(week_start=w, enrolled=None, **engagement({}).model_dump())
                      for w in all_weeks[-weeks:]]
        return CohortMetrics(cohort_id=cohort_id, k_anonymity_min=k, suppressed=True,
                             enrolled=enrolled, program_start=first, last_complete_week=last,
                             weeks=suppressed, totals=engagement({}),
                             weeks_hidden=dict.fromkeys(FAMILIES, len(all_weeks)),
                             plans=snapshot([], k=k))
    rows, totals, shown_weeks, hidden_count = _weekly(people, all_weeks, k)
    return CohortMetrics(
        cohort_id=cohort_id, k_anonymity_min=k, suppressed=False, enrolled=enrolled,
        program_start=first, last_complete_week=last, weeks=rows[-weeks:],
        totals=engagement({f: totals[f] for f in FAMILIES}), weeks_hidden=hidden_count,
        plans=snapshot(people, k=k), by=by,
        groups=(breakdown(leaders=people, by=by, weeks=all_weeks, shown_weeks=shown_weeks, k=k)
                if by else []),
        kpis=await kpis.comparisons(session=session, cohort=cohort, leader_ids=set(leaders),
                                    start=cohort.start_date or first, k=k),
    )


def _weekly(people: list[LeaderFacts], all_weeks: list[date], k: int) -> tuple[
        list[WeekMetrics], dict[str, Cell], dict[str, set[date]], dict[str, int]]:
    rows = []
    totals = {family: Cell() for family in FAMILIES}
    shown_weeks: dict[str, set[date]] = {family: set() for family in FAMILIES}
    hidden_count = dict.fromkeys(FAMILIES, 0)
    for week in all_weeks:
        cells: dict[str, Cell | None] = {}
        for family in FAMILIES:
            cell = week_cell(family, people, week)
            if cell.members and not shown(cell.members, k):
                cells[family] = None
                hidden_count[family] += 1
                continue
            cells[family] = cell
            shown_weeks[family].add(week)
            totals[family].add(cell)
        enrolled = sum(1 for leader in people if leader.enrolled_on <= week + timedelta(days=6))
        rows.append(WeekMetrics(week_start=week, enrolled=enrolled if enrolled >= k else None,
                                **engagement(cells).model_dump()))
    return rows, totals, shown_weeks, hidden_count


async def _readable_member(session: AsyncSession, actor: Actor, member_id: int) -> Member:
    if actor.role in (Role.admin, Role.owner):
        raise NotPermitted("a person's own figures are for them and their coach; "
                           "owners read cohort aggregates")
    member = (await session.exec(
        select(Member).where(col(Member.id) == member_id, member_filter(actor))
    )).first()
    if member is None or not (actor.is_self(member_id) or member_id in actor.coachee_ids):
        raise NotFound(f"member {member_id} not found")
    return member


async def member_metrics(
    *, session: AsyncSession, actor: Actor, member_id: int, weeks: int = DEFAULT_WEEKS,
    now: datetime,
) -> MemberMetrics:
    """One leader's own weekly figures and plan (the current week included)."""
    _check_weeks(weeks)
    member = await _readable_member(session, actor, member_id)
    zone = zone_of(member.timezone)
    end = monday(local_day(now, zone)) + timedelta(weeks=1)
    first = end - timedelta(weeks=weeks)
    leaders = single_leader(member, zone)
    own = actor.is_self(member_id)
    scope = Scope(zone=zone, cohort_id=None, member_ids=frozenset({member_id}),
                  include_private=own)
    await load_facts(session=session, leaders=leaders, scope=scope, first=first, end=end)
    if not own:
        record_read(session=session, actor=actor, subject_member_id=member_id,
                    object_type="metrics")
    leader = leaders[member_id]
    return MemberMetrics(
        member_id=member_id,
        weeks=[_member_week(leader, week) for week in week_starts(first, end)],
        goals_by_status=dict(leader.goals_by_status),
        milestones_planned=leader.milestones_planned, milestones_done=leader.milestones_done,
        days_to_first_milestone=_round(days_to_first(leader)),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _member_week(leader: LeaderFacts, week: date) -> MemberWeek:
    facts = leader.weeks.get(week)
    if facts is None:
        return MemberWeek(week_start=week, checkins_sent=0, checkins_answered=0,
                          milestones_completed=0, circle_invited=0, circle_met=0,
                          nudges_sent=0, nudges_helpful=0)
    return MemberWeek(week_start=week, checkins_sent=facts.checkins_sent,
                      checkins_answered=facts.checkins_answered,
                      milestones_completed=facts.milestones_completed,
                      circle_invited=facts.circle_invited, circle_met=facts.circle_met,
                      nudges_sent=facts.nudges_sent, nudges_helpful=facts.nudges_helpful)
