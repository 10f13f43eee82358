"""Check-in schedules per cohort and the cohort's holidays."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.service import Actor
from services.checkins.models import (
    CheckinKind,
    CheckinSchedule,
    CheckinTemplate,
    CohortHoliday,
    HolidayCreate,
    HolidayPublic,
    ScheduleCreate,
    SchedulePublic,
    ScheduleUpdate,
)
from services.errors import Conflict, Invalid, NotFound
from services.pagination import Page, paginate
from services.people.access import cohort_filter, require_manager
from services.people.models import Cohort


def to_public(schedule: CheckinSchedule) -> SchedulePublic:
    """The API shape of a schedule."""
    return SchedulePublic.model_validate(schedule, from_attributes=True)


async def visible_cohort(*, session: AsyncSession, actor: Actor, cohort_id: int) -> Cohort:
    """A cohort the actor can see, else NotFound."""
    cohort = (
        await session.exec(select(Cohort).where(Cohort.id == cohort_id, cohort_filter(actor)))
    ).first()
    if cohort is None:
        raise NotFound(f"cohort {cohort_id} not found")
    return cohort


async def _check_template(session: AsyncSession, actor: Actor, schedule: CheckinSchedule) -> None:
    if schedule.template_id is None:
        return
    template = await session.get(CheckinTemplate, schedule.template_id)
    if (template is None or template.workspace_id != actor.workspace_id
            or template.cohort_id not in (None, schedule.cohort_id)):
        raise Invalid(f"template {schedule.template_id} is not one this cohort can use",
                      field="template_id")
    if schedule.kind == CheckinKind.reflection:
        raise Invalid("a reflection schedule draws from the prompt library, not a template",
                      field="template_id")


def _check_rules(schedule: CheckinSchedule) -> None:
    if not schedule.weekdays:
        raise Invalid("a schedule needs at least one weekday", field="weekdays")
    if schedule.end_date is not None and schedule.end_date < schedule.start_date:
        raise Invalid("end_date is before start_date", field="end_date")
    reminder = schedule.reminder_after_minutes
    if reminder is not None and reminder >= schedule.expire_after_minutes:
        raise Invalid("the reminder must come before the check-in closes",
                      field="reminder_after_minutes")


async def list_schedules(
    *, session: AsyncSession, actor: Actor, cohort_id: int, cursor: str | None, limit: int
) -> Page[SchedulePublic]:
    """A cohort's check-in schedules."""
    await visible_cohort(session=session, actor=actor, cohort_id=cohort_id)
    return await paginate(
        session, select(CheckinSchedule).where(CheckinSchedule.cohort_id == cohort_id),
        id_column=CheckinSchedule.id, cursor=cursor, limit=limit, to_public=to_public)


async def create_schedule(
    *, session: AsyncSession, actor: Actor, cohort_id: int, data: ScheduleCreate
) -> CheckinSchedule:
    """Add a schedule to a cohort (its owner or an admin)."""
    cohort = await visible_cohort(session=session, actor=actor, cohort_id=cohort_id)
    require_manager(actor, cohort_id)
    schedule = CheckinSchedule.model_validate(
        data.model_dump(), update={"workspace_id": cohort.workspace_id, "cohort_id": cohort_id})
    _check_rules(schedule)
    await _check_template(session, actor, schedule)
    session.add(schedule)
    await session.flush()
    return schedule


async def get_schedule(*, session: AsyncSession, actor: Actor, schedule_id: int) -> CheckinSchedule:
    """One schedule in a cohort the actor can see."""
    schedule = await session.get(CheckinSchedule, schedule_id)
    if schedule is None or schedule.workspace_id != actor.workspace_id:
        raise NotFound(f"schedule {schedule_id} not found")
    try:
        await visible_cohort(session=session, actor=actor, cohort_id=schedule.cohort_id)
    except NotFound as exc:
        raise NotFound(f"schedule {schedule_id} not found") from exc
    return schedule


async def update_schedule(
    *, session: AsyncSession, actor: Actor, schedule_id: int, data: ScheduleUpdate
) -> CheckinSchedule:
    """Change a schedule; occurrences already created keep their times."""
    schedule = await get_schedule(session=session, actor=actor, schedule_id=schedule_id)
    require_manager(actor, schedule.cohort_id)
    changes = data.model_dump(exclude_unset=True)
    for name in ("name", "weekdays", "local_time", "start_date", "max_reminders",
                 "expire_after_minutes", "active"):
        if name in changes and changes[name] is None:
            raise Invalid(f"{name} cannot be null", field=name)
    schedule.sqlmodel_update(changes)
    _check_rules(schedule)
    await _check_template(session, actor, schedule)
    session.add(schedule)
    await session.flush()
    return schedule


async def delete_schedule(*, session: AsyncSession, actor: Actor, schedule_id: int) -> None:
    """Delete a schedule and its occurrences."""
    schedule = await get_schedule(session=session, actor=actor, schedule_id=schedule_id)
    require_manager(actor, schedule.cohort_id)
    await session.delete(schedule)
    await session.flush()


def holiday_public(holiday: CohortHoliday) -> HolidayPublic:
    """The API shape of a holiday."""
    return HolidayPublic.model_validate(holiday, from_attributes=True)


async def list_holidays(
    *, session: AsyncSession, actor: Actor, cohort_id: int, cursor: str | None, limit: int
) -> Page[HolidayPublic]:
    """The cohort's holidays: no check-ins on these local dates."""
    await visible_cohort(session=session, actor=actor, cohort_id=cohort_id)
    return await paginate(
        session, select(CohortHoliday).where(CohortHoliday.cohort_id == cohort_id),
        id_column=CohortHoliday.id, cursor=cursor, limit=limit, to_public=holiday_public)


async def add_holiday(
    *, session: AsyncSession, actor: Actor, cohort_id: int, data: HolidayCreate
) -> CohortHoliday:
    """Declare a holiday for the cohort."""
    await visible_cohort(session=session, actor=actor, cohort_id=cohort_id)
    require_manager(actor, cohort_id)
    holiday = CohortHoliday(cohort_id=cohort_id, day=data.day, name=data.name)
    session.add(holiday)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{data.day} is already a holiday of this cohort", field="day") from exc
    return holiday


async def delete_holiday(
    *, session: AsyncSession, actor: Actor, cohort_id: int, holiday_id: int
) -> None:
    """Remove a holiday."""
    await visible_cohort(session=session, actor=actor, cohort_id=cohort_id)
    require_manager(actor, cohort_id)
    holiday = await session.get(CohortHoliday, holiday_id)
    if holiday is None or holiday.cohort_id != cohort_id:
        raise NotFound(f"holiday {holiday_id} not found")
    await session.delete(holiday)
    await session.flush()
