"""Every nudge endpoint × every role, the way tests/api/test_roles.py checks the others.

Admins and owners never read nudge content (403); a coach reads only their coachees' drafts
made for review; a leader reads only their own sent nudges; anything else is 404.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.app import create_api
from services.config import Settings
from tests.api.test_roles import ROLES, Case, content, roles
from tests.database import clean_database
from tests.nudges.api_world import NudgeWorld, build_nudge_world, with_nudge_routes

CASES: list[Case] = [
    Case("list nudges", "GET", lambda w: "/api/v1/nudges",
         content(coach=200, leader=200, other=200)),
    Case("get a sent nudge", "GET", lambda w: f"/api/v1/nudges/{w.sent.id}",
         content(coach=404, leader=200)),
    Case("get a draft nudge", "GET", lambda w: f"/api/v1/nudges/{w.draft.id}",
         content(coach=200, leader=404)),
    Case("get another leader's nudge", "GET", lambda w: f"/api/v1/nudges/{w.other.id}",
         content(coach=404, leader=404, other=200)),
    Case("approve a draft", "POST", lambda w: f"/api/v1/nudges/{w.draft.id}/approve",
         content(coach=200, leader=404)),
    Case("approve a sent nudge", "POST", lambda w: f"/api/v1/nudges/{w.sent.id}/approve",
         content(coach=404, leader=403)),
    Case("edit a draft", "POST", lambda w: f"/api/v1/nudges/{w.draft.id}/edit",
         content(coach=200, leader=404),
         body=lambda w: {"text": "Lee, one small step on the hand-over today would help."}),
    Case("reject a draft", "POST", lambda w: f"/api/v1/nudges/{w.draft.id}/reject",
         content(coach=200, leader=404)),
    Case("feedback on a sent nudge", "POST", lambda w: f"/api/v1/nudges/{w.sent.id}/feedback",
         content(coach=404, leader=200), body=lambda w: {"feedback": "helpful"}),
    Case("feedback on a draft", "POST", lambda w: f"/api/v1/nudges/{w.draft.id}/feedback",
         content(coach=403, leader=404), body=lambda w: {"feedback": "helpful"}),
    Case("cohort nudge metrics", "GET",
         lambda w: f"/api/v1/cohorts/{w.world.cohort.id}/nudge-metrics",
         roles(200, 200, 403, 403, 404, 404)),
    Case("other cohort's nudge metrics", "GET",
         lambda w: f"/api/v1/cohorts/{w.world.other_cohort.id}/nudge-metrics",
         roles(200, 404, 404, 404, 403, 404)),
]


@pytest.fixture
def nudge_api(settings: Settings, engine: AsyncEngine, sessions: object) -> FastAPI:
    return with_nudge_routes(create_api(settings, engine))


@pytest.fixture
async def api(nudge_api: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=nudge_api, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://coachbot.test") as client:
        yield client


def test_every_nudge_route_is_in_the_matrix(nudge_api: FastAPI) -> None:
    paths = {
        (method.upper(), path)
        for path, operations in nudge_api.openapi()["paths"].items()
        if "nudge" in path
        for method in operations
    }
    covered = {(case.method, case.path(_Placeholders())) for case in CASES}
    assert paths == covered


class _Placeholders:
    """Renders each case's path with the route's placeholders."""

    class _Id:
        def __init__(self, name: str) -> None:
            self.id = name

    sent = draft = other = _Id("{nudge_id}")

    class world:
        cohort = other_cohort = type("C", (), {"id": "{cohort_id}"})


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name.replace(" ", "-"))
async def test_role_matrix(
    case: Case, api: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    world: NudgeWorld = await build_nudge_world(session)
    got = {}
    for role in ROLES:
        response = await api.request(
            case.method, case.path(world), headers=world.keys[role],
            json=case.body(world) if case.body else None,
        )
        got[role] = response.status_code
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
        if 200 <= response.status_code < 300 and case.method != "GET":
            # The next role must meet the world as it was, not as this write left it.
            await clean_database(engine)
            session.expunge_all()
            world = await build_nudge_world(session)
    assert got == case.expect
