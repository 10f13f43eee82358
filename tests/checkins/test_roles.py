"""Every check-in route × every role (the pattern of tests/api/test_roles.py).

Templates, schedules and holidays are cohort set-up: read by whoever sees the cohort,
changed by its owner or an admin. Check-ins and answers are coaching content: the leader
and their coach only (admins and owners get 403). Response rates are aggregates for
owners and admins.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.routes import router
from tests.api.test_roles import ROLES, Case, content, everyone, roles
from tests.checkins.world import build_checkin_world
from tests.database import clean_database

SETUP_READ = roles(200, 200, 200, 200, 404, 404)
SETUP_WRITE = roles(200, 200, 403, 403, 404, 404)
SETUP_CREATE = roles(201, 201, 403, 403, 404, 404)
SETUP_DELETE = roles(204, 204, 403, 403, 404, 404)
ANSWERS = {"answers": [{"question_id": "week", "number": 4},
                       {"question_id": "learned", "text": "Good week"}]}

CASES: list[Case] = [
    Case("list check-in templates", "GET", lambda w: "/api/v1/checkin-templates", everyone(200)),
    Case("default check-in template", "GET", lambda w: "/api/v1/checkin-templates/default",
         everyone(200)),
    Case("create check-in template", "POST", lambda w: "/api/v1/checkin-templates",
         SETUP_CREATE, body=lambda w: {"name": "Mine", "cohort_id": w.cohort.id, "questions": [
             {"id": "q1", "kind": "text", "text": "How was it?"}]}),
    Case("get check-in template", "GET", lambda w: f"/api/v1/checkin-templates/{w.template.id}",
         SETUP_READ),
    Case("update check-in template", "PATCH",
         lambda w: f"/api/v1/checkin-templates/{w.template.id}", SETUP_WRITE,
         body=lambda w: {"name": "Renamed"}),
    Case("delete check-in template", "DELETE",
         lambda w: f"/api/v1/checkin-templates/{w.template.id}", SETUP_DELETE),
    Case("list check-in schedules", "GET",
         lambda w: f"/api/v1/cohorts/{w.cohort.id}/checkin-schedules", SETUP_READ),
    Case("create check-in schedule", "POST",
         lambda w: f"/api/v1/cohorts/{w.cohort.id}/checkin-schedules", SETUP_CREATE,
         body=lambda w: {"name": "Fridays", "weekdays": [4], "local_time": "16:00",
                         "start_date": "2030-01-01"}),
    Case("get check-in schedule", "GET",
         lambda w: f"/api/v1/checkin-schedules/{w.schedule.id}", SETUP_READ),
    Case("update check-in schedule", "PATCH",
         lambda w: f"/api/v1/checkin-schedules/{w.schedule.id}", SETUP_WRITE,
         body=lambda w: {"local_time": "10:30"}),
    Case("delete check-in schedule", "DELETE",
         lambda w: f"/api/v1/checkin-schedules/{w.schedule.id}", SETUP_DELETE),
    Case("list holidays", "GET", lambda w: f"/api/v1/cohorts/{w.cohort.id}/holidays",
         SETUP_READ),
    Case("add holiday", "POST", lambda w: f"/api/v1/cohorts/{w.cohort.id}/holidays",
         SETUP_CREATE, body=lambda w: {"day": "2030-12-26", "name": "Boxing Day"}),
    Case("delete holiday", "DELETE",
         lambda w: f"/api/v1/cohorts/{w.cohort.id}/holidays/{w.holiday.id}", SETUP_DELETE),
    Case("check-in response rates", "GET",
         lambda w: f"/api/v1/cohorts/{w.cohort.id}/checkin-rates",
         roles(200, 200, 403, 403, 403, 404)),
    Case("list a leader's check-ins", "GET", lambda w: f"/api/v1/members/{w.leader.id}/checkins",
         content(coach=200, leader=200)),
    Case("get a check-in", "GET", lambda w: f"/api/v1/checkins/{w.checkin.id}",
         content(coach=200, leader=200)),
    Case("list a check-in's answers", "GET", lambda w: f"/api/v1/checkins/{w.answered.id}/answers",
         content(coach=200, leader=200)),
    Case("answer a check-in", "POST", lambda w: f"/api/v1/checkins/{w.checkin.id}/answers",
         content(coach=403, leader=201), body=lambda w: ANSWERS),
    Case("skip a check-in", "POST", lambda w: f"/api/v1/checkins/{w.checkin.id}/skip",
         content(coach=403, leader=200)),
    Case("snooze a check-in", "POST", lambda w: f"/api/v1/checkins/{w.checkin.id}/snooze",
         content(coach=403, leader=200), body=lambda w: {"until": "hour"}),
]

PLACEHOLDERS = {"cohort": "{cohort_id}", "leader": "{member_id}", "template": "{template_id}",
                "schedule": "{schedule_id}", "holiday": "{holiday_id}",
                "checkin": "{checkin_id}", "answered": "{checkin_id}"}


class _Named:
    def __init__(self, name: str) -> None:
        self.id = PLACEHOLDERS[name]


class _PlaceholderWorld:
    def __getattr__(self, name: str) -> _Named:
        return _Named(name)


def test_every_checkin_route_is_in_the_matrix() -> None:
    routes = {
        (method, "/api/v1" + re.sub(r":\w+}", "}", route.path))  # {id:int} → {id}
        for route in router.routes
        for method in getattr(route, "methods", ())
    }
    covered = {(case.method, case.path(_PlaceholderWorld())) for case in CASES}
    assert routes and routes - covered == set()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name.replace(" ", "-"))
async def test_checkin_role_matrix(
    case: Case, client: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    world: Any = await build_checkin_world(session)
    got = {}
    for role in ROLES:
        response = await client.request(case.method, case.path(world), headers=world.keys[role],
                                        json=case.body(world) if case.body else None)
        got[role] = response.status_code
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
        if 200 <= response.status_code < 300 and case.method != "GET":
            await clean_database(engine)
            session.expunge_all()
            world = await build_checkin_world(session)
    assert got == case.expect
