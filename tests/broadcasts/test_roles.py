"""Every broadcast endpoint × every role, the way tests/api/test_roles.py checks the others.

Owners (for their cohorts) and admins manage broadcasts; coaches and leaders who can see
the cohort get 403; anyone who cannot see it gets 404. Only a recipient answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import actor_for
from services.broadcasts import service
from services.broadcasts.models import Audience, BroadcastCreate
from services.db import utcnow
from tests.api.test_roles import ROLES, Case, roles
from tests.broadcasts.world import Program, build_program
from tests.database import clean_database


@dataclass
class BroadcastWorld:
    program: Program
    sent_id: int
    scheduled_id: int

    @property
    def keys(self) -> dict[str, dict[str, str]]:
        return self.program.keys


async def build_broadcast_world(session: AsyncSession) -> BroadcastWorld:
    program = await build_program(session, leaders=5)
    actor = await actor_for(session=session, workspace_id=program.cohort.workspace_id,
                            role=Role.owner, member_id=program.owner.id)
    now = utcnow()
    sent = await service.create_broadcast(session=session, actor=actor, now=now, data=(
        BroadcastCreate(cohort_id=program.cohort.id or 0, audience=Audience.leaders,
                        text="Welcome", question="Ready?")))
    scheduled = await service.create_broadcast(session=session, actor=actor, now=now, data=(
        BroadcastCreate(cohort_id=program.cohort.id or 0, audience=Audience.leaders,
                        text="Later", send_at=now + timedelta(days=1))))
    await session.commit()
    return BroadcastWorld(program, sent.id or 0, scheduled.id or 0)


def manage(ok: int) -> dict[str, int]:
    return roles(ok, ok, 403, 403, 404, 404)


CASES: list[Case] = [
    Case("compose a broadcast", "POST", lambda w: "/api/v1/broadcasts", manage(202),
         body=lambda w: {"cohort_id": w.program.cohort.id, "audience": "leaders",
                         "text": "Hello"}),
    Case("compose for someone else's cohort", "POST", lambda w: "/api/v1/broadcasts",
         roles(202, 404, 404, 404, 403, 404),
         body=lambda w: {"cohort_id": w.program.other_cohort.id, "audience": "leaders",
                         "text": "Hello"}),
    Case("list broadcasts", "GET", lambda w: "/api/v1/broadcasts",
         roles(200, 200, 403, 403, 403, 200)),
    Case("get a broadcast", "GET", lambda w: f"/api/v1/broadcasts/{w.sent_id}", manage(200)),
    Case("cancel a broadcast", "POST", lambda w: f"/api/v1/broadcasts/{w.scheduled_id}/cancel",
         manage(200)),
    Case("read answers", "GET", lambda w: f"/api/v1/broadcasts/{w.sent_id}/answers",
         manage(200)),
    Case("answer", "PUT", lambda w: f"/api/v1/broadcasts/{w.sent_id}/answer",
         roles(403, 403, 404, 204, 404, 404), body=lambda w: {"answer": "yes"}),
]


def test_every_broadcast_route_is_in_the_matrix(app: FastAPI) -> None:
    paths = {(method.upper(), path) for path, operations in app.openapi()["paths"].items()
             if path.startswith("/api/v1/broadcasts") for method in operations}

    class Placeholders:
        sent_id = scheduled_id = "{broadcast_id}"
        program = None

    assert paths == {(case.method, case.path(Placeholders())) for case in CASES}  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name.replace(" ", "-"))
async def test_role_matrix(
    case: Case, client: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    world = await build_broadcast_world(session)
    got = {}
    for role in ROLES:
        response = await client.request(case.method, case.path(world), headers=world.keys[role],
                                         json=case.body(world) if case.body else None)
        got[role] = response.status_code
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
        if 200 <= response.status_code < 300 and case.method != "GET":
            # The next role must meet the world as it was, not as this write left it.
            await clean_database(engine)
            session.expunge_all()
            world = await build_broadcast_world(session)
    assert got == case.expect



