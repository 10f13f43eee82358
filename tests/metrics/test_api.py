"""The metrics API end to end: circle attendance and nudge helpfulness in the weekly
figures, a leader's own figures as they and their coach see them, and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.circles.models import MetAnswer
from services.db import utcnow
from services.metrics.facts import monday
from services.people.models import EnrollmentRole
from services.plans.models import Visibility
from services.privacy.models import AuditEvent
from tests.factories.people import assign, enrol, make_key, make_member
from tests.metrics.factories import circle, goal_with_milestones
from tests.metrics.test_kanon import metrics
from tests.metrics.world import WEEKS, build_cohort


async def test_circle_attendance_counts_those_who_answered(session: AsyncSession) -> None:
    world = await build_cohort(session, leaders=6)
    answers = [MetAnswer.yes, MetAnswer.yes, MetAnswer.yes, MetAnswer.couldnt, None, None]
    await circle(session, world.cohort, WEEKS[2], list(zip(world.leaders, answers, strict=True)))
    await session.commit()
    week = (await metrics(session, world)).weeks[2]
    assert week.circles.model_dump() == {"suppressed": False, "leaders": 6, "invited": 6,
                                         "answered": 4, "met": 3, "attendance_rate": 0.75}
    assert week.nudges.helpful_rate == 0.5


async def test_cohort_csv_has_every_metric(client: httpx.AsyncClient,
                                           session: AsyncSession) -> None:
    world = await build_cohort(session, leaders=6, teams=["A"] * 6)
    response = await client.get(f"/api/v1/cohorts/{world.cohort.id}/metrics.csv?by=team",
                                headers=world.keys["owner"])
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    metrics_named = {row["metric"] for row in rows}
    for name in ("checkins.response_rate", "milestones.completed", "circles.attendance_rate",
                 "nudges.helpful_rate", "goals_by_status.on_track",
                 "median_days_to_first_milestone", "enrolled"):
        assert name in metrics_named, name
    assert {row["scope"] for row in rows} == {"week", "total", "plans", "group"}
    groups = {row["group"] for row in rows if row["scope"] == "group"}
    assert groups == {"A"}


async def test_a_leader_and_their_coach_see_the_leaders_own_figures(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_cohort(session, leaders=2)
    lee = world.leaders[0]
    coach = await make_member(session, world.workspace, name="Cam Coach")
    await enrol(session, world.cohort, coach, EnrollmentRole.coach)
    await assign(session, world.cohort, coach, lee)
    this_week = monday(utcnow().date())
    await goal_with_milestones(session, lee, world.cohort, done_on=[this_week],
                               visibility=Visibility.private)
    keys = {"leader": await make_key(session, world.workspace, Role.leader, member=lee),
            "coach": await make_key(session, world.workspace, Role.coach, member=coach)}
    await session.commit()
    path = f"/api/v1/members/{lee.id}/metrics?weeks=2"
    own = (await client.get(path, headers=keys["leader"])).json()
    coached = (await client.get(path, headers=keys["coach"])).json()
    # The private goal counts for Lee; the coach sees only what Lee shares.
    assert own["milestones_done"] == 2 and coached["milestones_done"] == 1
    assert own["weeks"][-1]["milestones_completed"] == 1
    assert coached["weeks"][-1]["milestones_completed"] == 0
    assert [w["week_start"] for w in own["weeks"]] == [
        (this_week - timedelta(weeks=1)).isoformat(), this_week.isoformat()]
    audit = (await session.exec(select(AuditEvent).where(
        AuditEvent.subject_member_id == lee.id))).all()
    assert [(a.actor_member_id, a.object_type) for a in audit] == [(coach.id, "metrics")]
    exported = await client.get(f"/api/v1/members/{lee.id}/metrics.csv",
                                headers=keys["leader"])
    assert "milestones_done" in exported.text
    too_many = await client.get(f"/api/v1/members/{lee.id}/metrics?weeks=500",
                                headers=keys["leader"])
    assert too_many.status_code == 422
