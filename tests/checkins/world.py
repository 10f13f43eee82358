"""The API tests' world (tests/api/world.py) plus a template, schedule, holiday and
check-ins in its cohort."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import (
    Checkin,
    CheckinAnswer,
    CheckinSchedule,
    CheckinStatus,
    CheckinTemplate,
    CohortHoliday,
    QuestionKind,
)
from services.checkins.templates import default_weekly_questions
from services.db import utcnow
from tests.api.world import World, build_world
from tests.checkins.factories import make_checkin, make_schedule


@dataclass
class CheckinWorld:
    base: World
    template: CheckinTemplate
    schedule: CheckinSchedule
    holiday: CohortHoliday
    checkin: Checkin
    answered: Checkin
    other_checkin: Checkin

    def __getattr__(self, name: str) -> object:
        return getattr(self.base, name)


async def build_checkin_world(session: AsyncSession) -> CheckinWorld:
    base = await build_world(session)
    template = CheckinTemplate(workspace_id=base.cohort.workspace_id, cohort_id=base.cohort.id,
                               name="Short", questions=default_weekly_questions()[:1])
    session.add(template)
    schedule = await make_schedule(session, base.cohort, at=time(9), name="Weekly")
    other_schedule = await make_schedule(session, base.other_cohort, at=time(9))
    holiday = CohortHoliday(cohort_id=base.cohort.id or 0, day=date(2030, 12, 25))
    session.add(holiday)
    now = utcnow()
    checkin = await make_checkin(session, schedule, base.leader, due_at=now - timedelta(hours=1),
                                 expires_at=now + timedelta(hours=23))
    answered = await make_checkin(session, schedule, base.leader, due_at=now - timedelta(days=7),
                                  expires_at=now - timedelta(days=6),
                                  local_date=(now - timedelta(days=7)).date(),
                                  status=CheckinStatus.answered, answered_at=now)
    session.add(CheckinAnswer(workspace_id=answered.workspace_id, checkin_id=answered.id or 0,
                              question_id="week", kind=QuestionKind.scale, number=4))
    session.add(CheckinAnswer(workspace_id=answered.workspace_id, checkin_id=answered.id or 0,
                              question_id="learned", kind=QuestionKind.text,
                              text="private thoughts", visibility="private"))
    other = await make_checkin(session, other_schedule, base.other_leader,
                               due_at=datetime(2030, 1, 1, tzinfo=UTC),
                               expires_at=datetime(2030, 1, 2, tzinfo=UTC),
                               status=CheckinStatus.sent)
    await session.commit()
    return CheckinWorld(base=base, template=template, schedule=schedule, holiday=holiday,
                        checkin=checkin, answered=answered, other_checkin=other)
