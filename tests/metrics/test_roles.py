"""Every metric endpoint × every role: owners and admins see cohort aggregates only (a
person's figures are 403 to them), coaches only their coachees, leaders only themselves."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.api.test_roles import ROLES, Case, content, roles
from tests.api.world import World, build_world
from tests.database import clean_database


def kpi_csv(world: World) -> str:
    return f"cohort_id,metric,date,value\n{world.cohort.id},engagement,2025-01-31,70\n"


AGGREGATES = roles(200, 200, 403, 403, 404, 404)
OTHER_COHORT = roles(200, 404, 404, 404, 403, 404)

CASES: list[Case] = [
    Case("cohort metrics", "GET", lambda w: f"/api/v1/cohorts/{w.cohort.id}/metrics",
         AGGREGATES),
    Case("cohort metrics by team", "GET",
         lambda w: f"/api/v1/cohorts/{w.cohort.id}/metrics?by=team", AGGREGATES),
    Case("cohort metrics as CSV", "GET",
         lambda w: f"/api/v1/cohorts/{w.cohort.id}/metrics.csv", AGGREGATES),
    Case("other cohort's metrics", "GET",
         lambda w: f"/api/v1/cohorts/{w.other_cohort.id}/metrics", OTHER_COHORT),
    Case("other cohort's metrics as CSV", "GET",
         lambda w: f"/api/v1/cohorts/{w.other_cohort.id}/metrics.csv", OTHER_COHORT),
    Case("a leader's metrics", "GET", lambda w: f"/api/v1/members/{w.leader.id}/metrics",
         content(coach=200, leader=200)),
    Case("a leader's metrics as CSV", "GET",
         lambda w: f"/api/v1/members/{w.leader.id}/metrics.csv",
         content(coach=200, leader=200)),
    Case("another leader's metrics", "GET",
         lambda w: f"/api/v1/members/{w.other_leader.id}/metrics",
         content(coach=404, leader=404, other=200)),
    # The foreign admin's file names a cohort of another workspace: a row error.
    Case("import KPIs", "POST", lambda w: "/api/v1/kpis/import",
         roles(200, 200, 403, 403, 403, 422), body=kpi_csv),
]

PLACEHOLDERS = {"/api/v1/cohorts/{cohort_id}/metrics", "/api/v1/cohorts/{cohort_id}/metrics.csv",
                "/api/v1/members/{member_id}/metrics", "/api/v1/members/{member_id}/metrics.csv",
                "/api/v1/kpis/import"}


def test_every_metric_route_is_in_the_matrix(app: FastAPI) -> None:
    paths = {path for path in app.openapi()["paths"]
             if (path.endswith(("/metrics", "/metrics.csv")) and "nudge" not in path)
             or path.startswith("/api/v1/kpis")}
    assert paths == PLACEHOLDERS
    covered = {case.path(_Placeholders()).split("?")[0] for case in CASES}  # type: ignore[arg-type]
    assert covered == PLACEHOLDERS


class _Placeholders:
    class _Cohort:
        id = "{cohort_id}"

    class _Member:
        id = "{member_id}"

    cohort = other_cohort = _Cohort
    leader = other_leader = _Member


async def _request(client: httpx.AsyncClient, case: Case, world: World,
                   headers: dict[str, str]) -> httpx.Response:
    if case.body is None:
        return await client.request(case.method, case.path(world), headers=headers)
    return await client.request(case.method, case.path(world), content=case.body(world),
                                headers={**headers, "Content-Type": "text/csv"})


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name.replace(" ", "-"))
async def test_role_matrix(
    case: Case, client: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    world = await build_world(session)
    got = {}
    for role in ROLES:
        response = await _request(client, case, world, world.keys[role])
        got[role] = response.status_code
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
        elif case.path(world).endswith(".csv"):
            assert response.headers["content-type"].startswith("text/csv")
        if 200 <= response.status_code < 300 and case.method != "GET":
            await clean_database(engine)
            session.expunge_all()
            world = await build_world(session)
    assert got == case.expect
