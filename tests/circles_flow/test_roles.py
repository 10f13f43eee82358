"""Every circles endpoint × every role. Series are managed by admins and the cohort's
owners; attendance is counts for them only; circles, answers, participation and block
lists are each leader's own (other roles 403, another leader's rows 404)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from services.circles.routes import router
from tests.api.test_roles import ROLES, Case, everyone, roles
from tests.circles_flow.world import CircleWorld, build_circle_world, mount_circles
from tests.database import clean_database


def own(*, leader: int, other: int) -> dict[str, int]:
    """A leader's own circle data: no other role may touch it, whatever its reach."""
    return roles(403, 403, 403, leader, other, 403)


CASES: list[Case] = [
    Case("list series", "GET", lambda w: "/api/v1/circle-series", everyone(200)),
    Case(
        "create series",
        "POST",
        lambda w: "/api/v1/circle-series",
        roles(201, 201, 403, 403, 404, 404),
        body=lambda w: {"cohort_id": w.base.cohort.id, "name": "More circles",
                        "start_date": "2025-03-03"},
    ),
    Case(
        "get series",
        "GET",
        lambda w: f"/api/v1/circle-series/{w.series.id}",
        roles(200, 200, 200, 200, 404, 404),
    ),
    Case(
        "update series",
        "PATCH",
        lambda w: f"/api/v1/circle-series/{w.series.id}",
        roles(200, 200, 403, 403, 404, 404),
        body=lambda w: {"group_size": 4},
    ),
    Case(
        "delete series",
        "DELETE",
        lambda w: f"/api/v1/circle-series/{w.series.id}",
        roles(204, 204, 403, 403, 404, 404),
    ),
    Case(
        "attendance",
        "GET",
        lambda w: f"/api/v1/circle-series/{w.series.id}/attendance",
        roles(200, 200, 403, 403, 404, 404),
    ),
    Case("my circle", "GET", lambda w: "/api/v1/me/circle", own(leader=200, other=404)),
    Case("my circles", "GET", lambda w: "/api/v1/me/circles", own(leader=200, other=200)),
    Case(
        "answer the follow-up",
        "PATCH",
        lambda w: f"/api/v1/me/circles/{w.circle.id}",
        own(leader=200, other=404),
        body=lambda w: {"met": "yes"},
    ),
    Case("my series", "GET", lambda w: "/api/v1/me/circle-series", own(leader=200, other=200)),
    Case(
        "opt out",
        "PUT",
        lambda w: f"/api/v1/me/circle-series/{w.series.id}",
        own(leader=200, other=404),
        body=lambda w: {"status": "opted_out"},
    ),
    Case("my blocks", "GET", lambda w: "/api/v1/me/circle-blocks", own(leader=200, other=200)),
    Case(
        "block someone",
        "POST",
        lambda w: "/api/v1/me/circle-blocks",
        own(leader=201, other=201),
        body=lambda w: {"member_id": w.peers[0].id},
    ),
    Case(
        "unblock",
        "DELETE",
        lambda w: f"/api/v1/me/circle-blocks/{w.block.id}",
        own(leader=204, other=404),
    ),
]


@pytest.fixture
def circles_app(app: FastAPI) -> FastAPI:
    return mount_circles(app)


def test_every_circles_route_is_in_the_matrix(circles_app: FastAPI) -> None:
    """A new circles route must be added to the role matrix before it can ship."""
    paths = {
        (method, "/api/v1" + route.path)  # type: ignore[attr-defined]
        for route in router.routes
        for method in route.methods  # type: ignore[attr-defined]
    }
    covered = {(case.method, case.path(_Placeholders())) for case in CASES}
    assert paths == covered


class _Placeholders:
    """Renders each case's path with `{…}` placeholders, to compare with the routes."""

    series = type("S", (), {"id": "{series_id}"})()
    circle = type("C", (), {"id": "{circle_id}"})()
    block = type("B", (), {"id": "{block_id}"})()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name.replace(" ", "-"))
async def test_role_matrix(
    case: Case, circles_app: FastAPI, client: httpx.AsyncClient, session: AsyncSession,
    engine: AsyncEngine,
) -> None:
    world: CircleWorld = await build_circle_world(session)
    got = {}
    for role in ROLES:
        response = await client.request(
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
            world = await build_circle_world(session)
    assert got == case.expect
