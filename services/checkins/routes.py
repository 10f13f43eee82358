"""REST routes for check-in templates, schedules, holidays, occurrences, answers and rates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.api.deps import DEFAULT_PAGE, ActorDep, Cursor, Limit, PathId, SessionDep
from services.checkins import answers, rates, schedules, service, templates
from services.checkins.models import (
    AnswerPublic,
    AnswersSubmit,
    CheckinPublic,
    CheckinStatus,
    HolidayCreate,
    HolidayPublic,
    ResponseRates,
    ScheduleCreate,
    SchedulePublic,
    ScheduleUpdate,
    SnoozeRequest,
    TemplateCreate,
    TemplatePublic,
    TemplateUpdate,
)
from services.db import utcnow
from services.pagination import Page

router = APIRouter()


# --- templates -----------------------------------------------------------------------------


@router.get("/checkin-templates", tags=["check-ins"])
async def list_templates(session: SessionDep, actor: ActorDep, cursor: Cursor = None,
                         limit: Limit = DEFAULT_PAGE) -> Page[TemplatePublic]:
    return await templates.list_templates(session=session, actor=actor, cursor=cursor,
                                          limit=limit)


@router.get("/checkin-templates/default", tags=["check-ins"])
async def default_template(actor: ActorDep) -> TemplatePublic:
    return TemplatePublic(id=None, name=templates.DEFAULT_WEEKLY_NAME, cohort_id=None,
                          questions=templates.default_weekly_questions())


@router.post("/checkin-templates", status_code=201, tags=["check-ins"])
async def create_template(session: SessionDep, actor: ActorDep,
                          data: TemplateCreate) -> TemplatePublic:
    template = await templates.create_template(session=session, actor=actor, data=data)
    return templates.to_public(template)


@router.get("/checkin-templates/{template_id:int}", tags=["check-ins"])
async def get_template(session: SessionDep, actor: ActorDep,
                       template_id: PathId) -> TemplatePublic:
    return templates.to_public(
        await templates.get_template(session=session, actor=actor, template_id=template_id))


@router.patch("/checkin-templates/{template_id:int}", tags=["check-ins"])
async def update_template(session: SessionDep, actor: ActorDep, template_id: PathId,
                          data: TemplateUpdate) -> TemplatePublic:
    return templates.to_public(await templates.update_template(
        session=session, actor=actor, template_id=template_id, data=data))


@router.delete("/checkin-templates/{template_id:int}", status_code=204, tags=["check-ins"])
async def delete_template(session: SessionDep, actor: ActorDep, template_id: PathId) -> Response:
    await templates.delete_template(session=session, actor=actor, template_id=template_id)
    return Response(status_code=204)


# --- schedules and holidays ----------------------------------------------------------------


@router.get("/cohorts/{cohort_id}/checkin-schedules", tags=["check-ins"])
async def list_schedules(session: SessionDep, actor: ActorDep, cohort_id: PathId,
                         cursor: Cursor = None,
                         limit: Limit = DEFAULT_PAGE) -> Page[SchedulePublic]:
    return await schedules.list_schedules(session=session, actor=actor, cohort_id=cohort_id,
                                          cursor=cursor, limit=limit)


@router.post("/cohorts/{cohort_id}/checkin-schedules", status_code=201, tags=["check-ins"])
async def create_schedule(session: SessionDep, actor: ActorDep, cohort_id: PathId,
                          data: ScheduleCreate) -> SchedulePublic:
    return schedules.to_public(await schedules.create_schedule(
        session=session, actor=actor, cohort_id=cohort_id, data=data))


@router.get("/checkin-schedules/{schedule_id}", tags=["check-ins"])
async def get_schedule(session: SessionDep, actor: ActorDep,
                       schedule_id: PathId) -> SchedulePublic:
    return schedules.to_public(
        await schedules.get_schedule(session=session, actor=actor, schedule_id=schedule_id))


@router.patch("/checkin-schedules/{schedule_id}", tags=["check-ins"])
async def update_schedule(session: SessionDep, actor: ActorDep, schedule_id: PathId,
                          data: ScheduleUpdate) -> SchedulePublic:
    return schedules.to_public(await schedules.update_schedule(
        session=session, actor=actor, schedule_id=schedule_id, data=data))


@router.delete("/checkin-schedules/{schedule_id}", status_code=204, tags=["check-ins"])
async def delete_schedule(session: SessionDep, actor: ActorDep, schedule_id: PathId) -> Response:
    await schedules.delete_schedule(session=session, actor=actor, schedule_id=schedule_id)
    return Response(status_code=204)


@router.get("/cohorts/{cohort_id}/holidays", tags=["check-ins"])
async def list_holidays(session: SessionDep, actor: ActorDep, cohort_id: PathId,
                        cursor: Cursor = None,
                        limit: Limit = DEFAULT_PAGE) -> Page[HolidayPublic]:
    return await schedules.list_holidays(session=session, actor=actor, cohort_id=cohort_id,
                                         cursor=cursor, limit=limit)


@router.post("/cohorts/{cohort_id}/holidays", status_code=201, tags=["check-ins"])
async def add_holiday(session: SessionDep, actor: ActorDep, cohort_id: PathId,
                      data: HolidayCreate) -> HolidayPublic:
    return schedules.holiday_public(await schedules.add_holiday(
        session=session, actor=actor, cohort_id=cohort_id, data=data))


@router.delete("/cohorts/{cohort_id}/holidays/{holiday_id}", status_code=204,
               tags=["check-ins"])
async def delete_holiday(session: SessionDep, actor: ActorDep, cohort_id: PathId,
                         holiday_id: PathId) -> Response:
    await schedules.delete_holiday(session=session, actor=actor, cohort_id=cohort_id,
                                   holiday_id=holiday_id)
    return Response(status_code=204)


@router.get("/cohorts/{cohort_id}/checkin-rates", tags=["check-ins"])
async def response_rates(session: SessionDep, actor: ActorDep, cohort_id: PathId,
                         weeks: Annotated[int, Query(ge=1, le=rates.MAX_WEEKS)] = 8,
                         ) -> ResponseRates:
    return await rates.response_rates(session=session, actor=actor, cohort_id=cohort_id,
                                      weeks=weeks, now=utcnow())


# --- occurrences and answers ---------------------------------------------------------------


@router.get("/members/{member_id}/checkins", tags=["check-ins"])
async def list_checkins(session: SessionDep, actor: ActorDep, member_id: PathId,
                        status: CheckinStatus | None = None, cursor: Cursor = None,
                        limit: Limit = DEFAULT_PAGE) -> Page[CheckinPublic]:
    return await service.list_checkins(session=session, actor=actor, member_id=member_id,
                                       status=status, cursor=cursor, limit=limit)


@router.get("/checkins/{checkin_id}", tags=["check-ins"])
async def get_checkin(session: SessionDep, actor: ActorDep, checkin_id: PathId) -> CheckinPublic:
    return service.to_public(
        await service.readable_checkin(session=session, actor=actor, checkin_id=checkin_id))


@router.get("/checkins/{checkin_id}/answers", tags=["check-ins"])
async def list_answers(session: SessionDep, actor: ActorDep,
                       checkin_id: PathId) -> list[AnswerPublic]:
    return await answers.list_answers(session=session, actor=actor, checkin_id=checkin_id)


@router.post("/checkins/{checkin_id}/answers", status_code=201, tags=["check-ins"])
async def submit_answers(session: SessionDep, actor: ActorDep, checkin_id: PathId,
                         data: AnswersSubmit) -> CheckinPublic:
    answered = await answers.submit_answers(session=session, actor=actor,
                                            checkin_id=checkin_id, data=data, now=utcnow())
    return service.to_public(answered.checkin)


@router.post("/checkins/{checkin_id}/skip", tags=["check-ins"])
async def skip_checkin(session: SessionDep, actor: ActorDep, checkin_id: PathId) -> CheckinPublic:
    return service.to_public(await service.skip_checkin(
        session=session, actor=actor, checkin_id=checkin_id, now=utcnow()))


@router.post("/checkins/{checkin_id}/snooze", tags=["check-ins"])
async def snooze_checkin(session: SessionDep, actor: ActorDep, checkin_id: PathId,
                         data: SnoozeRequest) -> CheckinPublic:
    return service.to_public(await service.snooze_checkin(
        session=session, actor=actor, checkin_id=checkin_id, until=data.until, now=utcnow()))
