"""Per-cohort weekly response rates: counts only, and none for a week with fewer leaders
than the cohort's k-anonymity minimum.

A week is Monday to Sunday by each occurrence's local date. An occurrence counts as sent
once Slack has it (sent, answered, expired); a skipped one is the leader's choice and is
left out of the rate; pending (not yet delivered) and dropped ones were never seen.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Date, case, cast, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor
from services.checkins.models import (
    Checkin,
    CheckinSchedule,
    CheckinStatus,
    ResponseRates,
    WeeklyRate,
)
from services.checkins.schedule import local_date, zone_or_none
from services.checkins.schedules import visible_cohort
from services.errors import Invalid, NotPermitted

SEEN = (CheckinStatus.sent, CheckinStatus.answered, CheckinStatus.expired)
MAX_WEEKS = 52


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def response_rates(
    *, session: AsyncSession, actor: Actor, cohort_id: int, weeks: int, now: datetime
) -> ResponseRates:
    """The cohort's last `weeks` weeks of check-in response rates."""
    if actor.role not in (Role.admin, Role.owner):
        raise NotPermitted("response rates are for program owners and admins")
    if not 1 <= weeks <= MAX_WEEKS:
        raise Invalid(f"weeks must be between 1 and {MAX_WEEKS}", field="weeks")
    cohort = await visible_cohort(session=session, actor=actor, cohort_id=cohort_id)
    if actor.role is Role.owner and cohort_id not in actor.cohort_ids:
        raise NotPermitted("you own other cohorts, not this one")
    zone = zone_or_none(cohort.timezone) or zone_or_none("UTC")
    assert zone is not None
    last = _monday(local_date(now, zone))
    first = last - timedelta(weeks=weeks - 1)
    dialect = session.get_bind().dialect.name
    day = col(Checkin.local_date)
    week = (cast(func.date_trunc("week", day), Date) if dialect == "postgresql"
            else func.date(day, "weekday 0", "-6 days"))
    rows = await session.exec(
        select(
            week.label("week"),
            func.count(func.distinct(col(Checkin.member_id))),
            func.sum(case((col(Checkin.status).in_(SEEN), 1), else_=0)),
            func.sum(case((col(Checkin.status) == CheckinStatus.answered, 1), else_=0)),
        )
        .join(CheckinSchedule, col(CheckinSchedule.id) == col(Checkin.schedule_id))
        .where(col(CheckinSchedule.cohort_id) == cohort_id, day >= first,
               day < last + timedelta(days=7), col(Checkin.status).in_(SEEN))
        .group_by(week)
    )
    found = {
        (date.fromisoformat(w) if isinstance(w, str) else w): (int(n), int(s or 0), int(a or 0))
        for w, n, s, a in rows.all()
    }
    k = cohort.k_anonymity_min
    result = []
    for index in range(weeks):
        start = first + timedelta(weeks=index)
        leaders, sent, answered = found.get(start, (0, 0, 0))
        if leaders < k:
            result.append(WeeklyRate(week_start=start, leaders=None, sent=None, answered=None,
                                     response_rate=None, suppressed=True))
            continue
        rate = round(answered / sent, 4) if sent else None
        result.append(WeeklyRate(week_start=start, leaders=leaders, sent=sent,
                                 answered=answered, response_rate=rate, suppressed=False))
    return ResponseRates(cohort_id=cohort_id, k_anonymity_min=k, weeks=result)
