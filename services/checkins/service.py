"""Check-in occurrences: reading them, and the leader's skip and snooze."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor
from services.checkins.models import (
    Checkin,
    CheckinKind,
    CheckinPublic,
    CheckinSchedule,
    CheckinStatus,
    CohortHoliday,
)
from services.checkins.schedule import next_occurrence, snooze_until, zone_or_none
from services.checkins.sweep import invite_key, reminder_key, rules_for
from services.delivery.service import cancel
from services.errors import Conflict, Invalid, NotFound, NotPermitted
from services.pagination import Page, paginate
from services.people.models import (
    Cohort,
    Enrollment,
    EnrollmentRole,
    EnrollmentStatus,
    Member,
)
from services.privacy.service import record_read

# Statuses a leader can still act on (answer, skip, snooze).
OPEN = (CheckinStatus.pending, CheckinStatus.sent)
ANSWERABLE = (CheckinStatus.pending, CheckinStatus.sent, CheckinStatus.expired)
MAX_REMINDERS = 5


def to_public(checkin: Checkin) -> CheckinPublic:
    """The API shape of an occurrence."""
    return CheckinPublic.model_validate(checkin, from_attributes=True)


def require_content_reader(actor: Actor) -> None:
    """Check-in questions and answers are coaching content: leaders and coaches only."""
    if actor.role not in (Role.leader, Role.coach):
        raise NotPermitted("admins and program owners see check-in rates, never check-ins")


def _reaches(actor: Actor, member_id: int) -> bool:
    return actor.is_self(member_id) or (
        actor.role is Role.coach and member_id in actor.coachee_ids)


async def readable_checkin(*, session: AsyncSession, actor: Actor, checkin_id: int) -> Checkin:
    """A check-in the actor may read (their own, or a coachee's, audited), else NotFound."""
    require_content_reader(actor)
    checkin = await session.get(Checkin, checkin_id)
    if (checkin is None or checkin.workspace_id != actor.workspace_id
            or not _reaches(actor, checkin.member_id)):
        raise NotFound(f"check-in {checkin_id} not found")
    record_read(session=session, actor=actor, subject_member_id=checkin.member_id,
                object_type="checkin", object_id=checkin.id)
    return checkin


async def own_checkin(*, session: AsyncSession, actor: Actor, checkin_id: int) -> Checkin:
    """A check-in of the actor's own; a coach may read a coachee's but never act on it."""
    checkin = await readable_checkin(session=session, actor=actor, checkin_id=checkin_id)
    if not actor.is_self(checkin.member_id):
        raise NotPermitted("only the leader answers, skips or snoozes their check-in")
    return checkin


async def list_checkins(
    *, session: AsyncSession, actor: Actor, member_id: int, status: CheckinStatus | None,
    cursor: str | None, limit: int,
) -> Page[CheckinPublic]:
    """A leader's check-in occurrences, oldest first."""
    require_content_reader(actor)
    member = await session.get(Member, member_id)
    if member is None or member.workspace_id != actor.workspace_id or not _reaches(
            actor, member_id):
        raise NotFound(f"member {member_id} not found")
    record_read(session=session, actor=actor, subject_member_id=member_id,
                object_type="checkins")
    statement = select(Checkin).where(Checkin.member_id == member_id)
    if status is not None:
        statement = statement.where(Checkin.status == status)
    return await paginate(session, statement, id_column=Checkin.id, cursor=cursor, limit=limit,
                          to_public=to_public)


async def cancel_messages(*, session: AsyncSession, checkin_id: int) -> None:
    """Cancel the check-in's invitation and reminders not yet sent."""
    keys = [invite_key(checkin_id)] + [
        reminder_key(checkin_id, n) for n in range(1, MAX_REMINDERS + 1)]
    await cancel(session=session, delivery_keys=keys)


async def skip_checkin(
    *, session: AsyncSession, actor: Actor, checkin_id: int, now: datetime
) -> Checkin:
    """Skip one occurrence: no reminders, not counted as missed."""
    checkin = await own_checkin(session=session, actor=actor, checkin_id=checkin_id)
    if checkin.status not in OPEN:
        raise Conflict(f"this check-in is {checkin.status} and can no longer be skipped")
    checkin.status = CheckinStatus.skipped
    checkin.next_reminder_at = None
    checkin.snoozed_until = None
    session.add(checkin)
    await cancel_messages(session=session, checkin_id=checkin_id)
    await session.flush()
    return checkin


async def snooze_checkin(
    *, session: AsyncSession, actor: Actor, checkin_id: int, until: str, now: datetime
) -> Checkin:
    """Bring the check-in back in an hour, or tomorrow at the schedule's time."""
    checkin = await own_checkin(session=session, actor=actor, checkin_id=checkin_id)
    if checkin.status not in OPEN:
        raise Conflict(f"this check-in is {checkin.status} and can no longer be snoozed")
    schedule = await session.get(CheckinSchedule, checkin.schedule_id)
    member = await session.get(Member, checkin.member_id)
    if schedule is None or member is None:
        raise NotFound(f"check-in {checkin_id} not found")
    zone = zone_or_none(member.timezone) or zone_or_none("UTC")
    assert zone is not None
    try:
        back = snooze_until(option=until, now=now, zone=zone, at=schedule.local_time)
    except ValueError as exc:
        raise Invalid("snooze for an hour or until tomorrow", field="until") from exc
    checkin.snoozed_until = back
    checkin.next_reminder_at = back
    # A snooze past the window stretches it, so the check-in can still be answered on time.
    window = timedelta(minutes=schedule.expire_after_minutes)
    if checkin.expires_at <= back:
        checkin.expires_at = back + window
    session.add(checkin)
    await session.flush()
    return checkin


@dataclass(frozen=True)
class InviteView:
    """What an invitation or reminder shows, read at send time."""

    checkin_id: int
    kind: CheckinKind
    title: str
    status: CheckinStatus
    questions: list[dict[str, Any]]
    due_at: datetime
    expires_at: datetime
    timezone: str
    program: str | None

    @property
    def open(self) -> bool:
        return self.status in OPEN


async def invite_view(*, session: AsyncSession, checkin_id: int) -> InviteView | None:
    """The check-in an outbox intent names, or None when it is gone."""
    row = (
        await session.exec(
            select(Checkin, CheckinSchedule, Member, Cohort)
            .join(CheckinSchedule, col(CheckinSchedule.id) == Checkin.schedule_id)
            .join(Member, col(Member.id) == Checkin.member_id)
            .join(Cohort, col(Cohort.id) == CheckinSchedule.cohort_id)
            .where(Checkin.id == checkin_id)
        )
    ).first()
    if row is None:
        return None
    checkin, schedule, member, cohort = row
    return InviteView(
        checkin_id=checkin_id, kind=CheckinKind(schedule.kind), title=schedule.name,
        status=CheckinStatus(checkin.status), questions=list(checkin.questions),
        due_at=checkin.due_at, expires_at=checkin.expires_at, timezone=member.timezone,
        program=cohort.program or cohort.name,
    )


async def record_message(
    *, session: AsyncSession, actor: Actor, checkin_id: int, channel: str, ts: str
) -> None:
    """Remember where the leader's invitation is, to mark it done after answering."""
    statement = (
        update(Checkin)
        .where(col(Checkin.id) == checkin_id, col(Checkin.member_id) == actor.member_id)
        .values(slack_channel=channel[:50], slack_ts=ts[:50])
        .execution_options(synchronize_session=False)
    )
    await session.exec(statement)


@dataclass(frozen=True)
class NextCheckin:
    """What the leader's Home tab says about check-ins: one open now, or the next one."""

    title: str
    at: datetime
    open_now: bool
    checkin_id: int | None = None


async def next_checkin(
    *, session: AsyncSession, member_id: int, now: datetime
) -> NextCheckin | None:
    """The leader's open check-in (closing soonest), else their next scheduled one."""
    open_row = (
        await session.exec(
            select(Checkin, CheckinSchedule)
            .join(CheckinSchedule, col(CheckinSchedule.id) == Checkin.schedule_id)
            .where(Checkin.member_id == member_id, col(Checkin.status).in_(OPEN),
                   col(Checkin.expires_at) > now)
            .order_by(col(Checkin.expires_at))
        )
    ).first()
    if open_row is not None:
        checkin, schedule = open_row
        return NextCheckin(title=schedule.name, at=checkin.expires_at, open_now=True,
                           checkin_id=checkin.id)
    return await _next_scheduled(session, member_id, now)


async def _next_scheduled(session: AsyncSession, member_id: int,
                          now: datetime) -> NextCheckin | None:
    member = await session.get(Member, member_id)
    if member is None:
        return None
    rows = (
        await session.exec(
            select(CheckinSchedule, Cohort, Enrollment)
            .join(Cohort, col(Cohort.id) == CheckinSchedule.cohort_id)
            .join(Enrollment, col(Enrollment.cohort_id) == CheckinSchedule.cohort_id)
            .where(Enrollment.member_id == member_id, Enrollment.role == EnrollmentRole.leader,
                   Enrollment.status != EnrollmentStatus.left,
                   col(CheckinSchedule.active).is_(True))
        )
    ).all()
    soonest: NextCheckin | None = None
    for schedule, cohort, enrollment in rows:
        zone = zone_or_none(member.timezone) or zone_or_none(cohort.timezone) or zone_or_none(
            "UTC")
        assert zone is not None
        after = now
        if enrollment.status == EnrollmentStatus.paused:
            if enrollment.paused_until is None:
                continue
            after = max(now, datetime.combine(enrollment.paused_until, datetime.min.time(),
                                              tzinfo=zone))
        holidays = (await session.exec(select(col(CohortHoliday.day)).where(
            CohortHoliday.cohort_id == cohort.id))).all()
        found = next_occurrence(rules_for(schedule, holidays), zone, after=after)
        if found is not None and (soonest is None or found.due_at < soonest.at):
            soonest = NextCheckin(title=schedule.name, at=found.due_at, open_now=False)
    return soonest
