"""Every endpoint × every role: each read or write a role must not have is refused.

Rows a caller cannot see answer 404 (their existence would leak); kinds of data a role may
never read (plan content, for admins and owners) answer 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.api.world import World, build_world
from tests.database import clean_database

ROLES = ("admin", "owner", "coach", "leader", "other_leader", "foreign_admin")


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: Callable[[World], str]
    expect: dict[str, int]
    body: Callable[[World], Any] | None = None


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def content(*, coach: int, leader: int, other: int = 404) -> dict[str, int]:
    """Plan content: admins and owners never; the coach by assignment; the leader always."""
    return {
        "admin": 403,
        "owner": 403,
        "foreign_admin": 403,
        "coach": coach,
        "leader": leader,
        "other_leader": other,
    }


def roles(
    admin: int, owner: int, coach: int, leader: int, other: int, foreign: int
) -> dict[str, int]:
    return dict(zip(ROLES, (admin, owner, coach, leader, other, foreign), strict=True))


CASES = [
    Case("list cohorts", "GET", lambda w: "/api/v1/cohorts", everyone(200)),
    Case(
        "get cohort",
        "GET",
        lambda w: f"/api/v1/cohorts/{w.cohort.id}",
        roles(200, 200, 200, 200, 404, 404),
    ),
    Case(
        "create cohort",
        "POST",
        lambda w: "/api/v1/cohorts",
        roles(201, 403, 403, 403, 403, 201),
        body=lambda w: {"name": "New cohort"},
    ),
    Case(
        "update cohort",
        "PATCH",
        lambda w: f"/api/v1/cohorts/{w.cohort.id}",
        roles(200, 200, 403, 403, 404, 404),
        body=lambda w: {"name": "Renamed"},
    ),
    Case(
        "update someone else's cohort",
        "PATCH",
        lambda w: f"/api/v1/cohorts/{w.other_cohort.id}",
        roles(200, 404, 404, 404, 403, 404),
        body=lambda w: {"name": "Renamed"},
    ),
    Case(
        "delete cohort",
        "DELETE",
        lambda w: f"/api/v1/cohorts/{w.cohort.id}",
        roles(204, 403, 403, 403, 404, 404),
    ),
    Case("list members", "GET", lambda w: "/api/v1/members", everyone(200)),
    Case(
        "get leader",
        "GET",
        lambda w: f"/api/v1/members/{w.leader.id}",
        roles(200, 200, 200, 200, 404, 404),
    ),
    Case(
        "get leader outside the owner's cohort",
        "GET",
        lambda w: f"/api/v1/members/{w.other_leader.id}",
        roles(200, 404, 404, 404, 200, 404),
    ),
    Case(
        "create member",
        "POST",
        lambda w: "/api/v1/members",
        roles(201, 201, 403, 403, 403, 201),
        body=lambda w: {"slack_user_id": "UNEW00001", "name": "New Person"},
    ),
    Case(
        "update member",
        "PATCH",
        lambda w: f"/api/v1/members/{w.leader.id}",
        roles(200, 200, 403, 200, 404, 404),
        body=lambda w: {"title": "VP"},
    ),
    Case(
        "delete member",
        "DELETE",
        lambda w: f"/api/v1/members/{w.leader.id}",
        roles(204, 403, 403, 403, 404, 404),
    ),
    Case("list enrollments", "GET", lambda w: "/api/v1/enrollments", everyone(200)),
    Case(
        "get enrollment",
        "GET",
        lambda w: f"/api/v1/enrollments/{w.enrollment_id}",
        roles(200, 200, 404, 200, 404, 404),
    ),
    Case(
        "enrol",
        "POST",
        lambda w: "/api/v1/enrollments",
        roles(201, 201, 403, 403, 403, 404),
        body=lambda w: {"cohort_id": w.cohort.id, "member_id": w.other_leader.id},
    ),
    Case(
        "pause enrollment",
        "PATCH",
        lambda w: f"/api/v1/enrollments/{w.enrollment_id}",
        roles(200, 200, 404, 403, 404, 404),
        body=lambda w: {"status": "paused"},
    ),
    Case(
        "delete enrollment",
        "DELETE",
        lambda w: f"/api/v1/enrollments/{w.enrollment_id}",
        roles(204, 204, 404, 403, 404, 404),
    ),
    Case("list coach assignments", "GET", lambda w: "/api/v1/coach-assignments", everyone(200)),
    Case(
        "get coach assignment",
        "GET",
        lambda w: f"/api/v1/coach-assignments/{w.assignment_id}",
        roles(200, 200, 200, 200, 404, 404),
    ),
    # 409 means the caller passed every permission check and hit the existing assignment.
    Case(
        "assign coach",
        "POST",
        lambda w: "/api/v1/coach-assignments",
        roles(409, 409, 403, 403, 403, 404),
        body=lambda w: {"cohort_id": w.cohort.id, "coach_id": w.coach.id, "leader_id": w.leader.id},
    ),
    Case(
        "unassign coach",
        "DELETE",
        lambda w: f"/api/v1/coach-assignments/{w.assignment_id}",
        roles(204, 204, 403, 403, 404, 404),
    ),
    Case(
        "read plan",
        "GET",
        lambda w: f"/api/v1/members/{w.leader.id}/plan",
        content(coach=200, leader=200),
    ),
    Case(
        "list goals",
        "GET",
        lambda w: f"/api/v1/members/{w.leader.id}/goals",
        content(coach=200, leader=200),
    ),
    Case(
        "add goal",
        "POST",
        lambda w: f"/api/v1/members/{w.leader.id}/goals",
        content(coach=403, leader=201),
        body=lambda w: {"title": "New goal"},
    ),
    Case(
        "get shared goal",
        "GET",
        lambda w: f"/api/v1/goals/{w.shared_goal.id}",
        content(coach=200, leader=200),
    ),
    Case(
        "get private goal",
        "GET",
        lambda w: f"/api/v1/goals/{w.private_goal.id}",
        content(coach=404, leader=200),
    ),
    Case(
        "get another leader's goal",
        "GET",
        lambda w: f"/api/v1/goals/{w.other_goal.id}",
        content(coach=404, leader=404, other=200),
    ),
    Case(
        "get goal in another workspace",
        "GET",
        lambda w: f"/api/v1/goals/{w.foreign_goal.id}",
        content(coach=404, leader=404, other=404),
    ),
    Case(
        "update goal",
        "PATCH",
        lambda w: f"/api/v1/goals/{w.shared_goal.id}",
        content(coach=403, leader=200),
        body=lambda w: {"status": "at_risk"},
    ),
    Case(
        "delete goal",
        "DELETE",
        lambda w: f"/api/v1/goals/{w.shared_goal.id}",
        content(coach=403, leader=204),
    ),
    Case(
        "list milestones",
        "GET",
        lambda w: f"/api/v1/goals/{w.shared_goal.id}/milestones",
        content(coach=200, leader=200),
    ),
    Case(
        "list private milestones",
        "GET",
        lambda w: f"/api/v1/goals/{w.private_goal.id}/milestones",
        content(coach=404, leader=200),
    ),
    Case(
        "add milestone",
        "POST",
        lambda w: f"/api/v1/goals/{w.shared_goal.id}/milestones",
        content(coach=403, leader=201),
        body=lambda w: {"title": "Next step"},
    ),
    Case(
        "reorder milestones",
        "PUT",
        lambda w: f"/api/v1/goals/{w.shared_goal.id}/milestones/order",
        content(coach=403, leader=200),
        body=lambda w: {"milestone_ids": [w.shared_milestone.id]},
    ),
    Case(
        "get milestone",
        "GET",
        lambda w: f"/api/v1/milestones/{w.shared_milestone.id}",
        content(coach=200, leader=200),
    ),
    Case(
        "get private milestone",
        "GET",
        lambda w: f"/api/v1/milestones/{w.private_milestone.id}",
        content(coach=404, leader=200),
    ),
    Case(
        "update milestone",
        "PATCH",
        lambda w: f"/api/v1/milestones/{w.shared_milestone.id}",
        content(coach=403, leader=200),
        body=lambda w: {"title": "Renamed"},
    ),
    Case(
        "complete milestone",
        "POST",
        lambda w: f"/api/v1/milestones/{w.shared_milestone.id}/complete",
        content(coach=403, leader=200),
    ),
    Case(
        "delete milestone",
        "DELETE",
        lambda w: f"/api/v1/milestones/{w.shared_milestone.id}",
        content(coach=403, leader=204),
    ),
    Case(
        "list progress",
        "GET",
        lambda w: f"/api/v1/goals/{w.shared_goal.id}/progress",
        content(coach=200, leader=200),
    ),
    Case(
        "list private progress",
        "GET",
        lambda w: f"/api/v1/goals/{w.private_goal.id}/progress",
        content(coach=404, leader=200),
    ),
    Case(
        "log progress",
        "POST",
        lambda w: f"/api/v1/goals/{w.shared_goal.id}/progress",
        content(coach=403, leader=201),
        body=lambda w: {"note": "Did it", "confidence": 4},
    ),
    Case(
        "get progress",
        "GET",
        lambda w: f"/api/v1/progress/{w.shared_progress.id}",
        content(coach=200, leader=200),
    ),
    Case(
        "edit progress",
        "PATCH",
        lambda w: f"/api/v1/progress/{w.shared_progress.id}",
        content(coach=403, leader=200),
        body=lambda w: {"confidence": 2},
    ),
    Case(
        "delete progress",
        "DELETE",
        lambda w: f"/api/v1/progress/{w.shared_progress.id}",
        content(coach=403, leader=204),
    ),
    Case(
        "export",
        "GET",
        lambda w: f"/api/v1/members/{w.leader.id}/export",
        roles(403, 403, 403, 200, 404, 404),
    ),
    Case(
        "erase",
        "DELETE",
        lambda w: f"/api/v1/members/{w.leader.id}/data",
        roles(200, 403, 403, 200, 404, 404),
    ),
    Case("who am I", "GET", lambda w: "/api/v1/me", everyone(200)),
]


def test_every_route_is_in_the_matrix(app: Any) -> None:
    """A new route must be added to the role matrix before it can ship."""
    # This matrix covers people, plans and privacy; each other domain has its own.
    from services.people.routes import router as people
    from services.plans.routes import router as plans
    from services.privacy.routes import router as privacy

    ours = {f"/api/v1{route.path}" for r in (people, plans, privacy) for route in r.routes}
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path in ours
        for method in operations
    }
    covered = set()
    for case in CASES:
        path = case.path(_PlaceholderWorld())
        covered.add((case.method, path))
    assert routes - covered == set()


class _PlaceholderWorld:
    """Renders each case's path with `{…}` placeholders, to compare with the route table."""

    def __getattr__(self, name: str) -> Any:
        return _Placeholder(name)


class _Placeholder:
    TEMPLATES = {
        "cohort": "{cohort_id}",
        "other_cohort": "{cohort_id}",
        "leader": "{member_id}",
        "other_leader": "{member_id}",
        "enrollment_id": "{enrollment_id}",
        "assignment_id": "{assignment_id}",
        "shared_goal": "{goal_id}",
        "private_goal": "{goal_id}",
        "other_goal": "{goal_id}",
        "foreign_goal": "{goal_id}",
        "shared_milestone": "{milestone_id}",
        "private_milestone": "{milestone_id}",
        "shared_progress": "{update_id}",
    }

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def id(self) -> str:
        return self.TEMPLATES[self.name]

    def __format__(self, spec: str) -> str:
        return self.TEMPLATES[self.name]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name.replace(" ", "-"))
async def test_role_matrix(
    case: Case, client: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    world = await build_world(session)
    got = {}
    for role in ROLES:
        response = await client.request(
            case.method,
            case.path(world),
            headers=world.keys[role],
            json=case.body(world) if case.body else None,
        )
        got[role] = response.status_code
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
        if 200 <= response.status_code < 300 and case.method != "GET":
            # The next role must meet the world as it was, not as this write left it.
            await clean_database(engine)
            session.expunge_all()
            world = await build_world(session)
    assert got == case.expect
