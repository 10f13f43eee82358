"""Bad input gets a clear problem+json error with the right status, and nothing is written."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.plans.models import Goal
from tests.api.world import build_world


async def _goal_count(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(Goal))).one()


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 422),
        (b'{"title": "ok", "unknown_field": 1}', "application/json", 422),
        (b'{"title": 42}', "application/json", 422),
        (b'{"title": ""}', "application/json", 422),
        (b'{"title": "ok", "status": "flying"}', "application/json", 422),
        (b'{"title": "ok", "cohort_id": 999999}', "application/json", 422),
        (b"[]", "application/json", 422),
        (b"title=ok", "application/x-www-form-urlencoded", 422),
    ],
)
async def test_malformed_goal_bodies_write_nothing(
    client: httpx.AsyncClient, session: AsyncSession, body: bytes, content_type: str, status: int
) -> None:
    world = await build_world(session)
    before = await _goal_count(session)
    response = await client.post(
        f"/api/v1/members/{world.leader.id}/goals",
        content=body,
        headers={**world.keys["leader"], "Content-Type": content_type},
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["detail"]
    assert await _goal_count(session) == before


async def test_oversized_body_is_refused_with_413(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    response = await client.post(
        f"/api/v1/members/{world.leader.id}/goals",
        headers=world.keys["leader"],
        content=b'{"title": "' + b"x" * 1_100_000 + b'"}',
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert await _goal_count(session) == 4


async def test_streamed_oversized_body_without_length_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * 100_000

    response = await client.post(
        f"/api/v1/members/{world.leader.id}/goals", headers=world.keys["leader"], content=chunks()
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer nonsense",
        "Basic dXNlcjpwYXNz",
        "Bearer cb_abc_def",
        "Bearer cb_ffffffffffff_notarealsecretatall",
    ],
)
async def test_missing_or_bad_keys_get_401(
    client: httpx.AsyncClient, session: AsyncSession, authorization: str | None
) -> None:
    await build_world(session)
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.get("/api/v1/cohorts", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_revoked_key_stops_working(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from services.auth.models import ApiKey
    from services.auth.service import revoke_key

    world = await build_world(session)
    assert (await client.get("/api/v1/me", headers=world.keys["admin"])).status_code == 200
    admins = select(ApiKey).where(ApiKey.role == "admin").order_by(ApiKey.id)  # type: ignore[arg-type]
    key = (await session.exec(admins)).first()
    assert key is not None
    await revoke_key(session=session, key_id=key.id or 0)
    await session.commit()
    response = await client.get("/api/v1/me", headers=world.keys["admin"])
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


@pytest.mark.parametrize(
    "params",
    [{"limit": 101}, {"limit": 0}, {"cursor": "!!!"}, {"cursor": "aWQ6eA"}, {"status": "unknown"}],
)
async def test_bad_list_parameters_are_422(
    client: httpx.AsyncClient, session: AsyncSession, params: dict[str, object]
) -> None:
    world = await build_world(session)
    response = await client.get(
        f"/api/v1/members/{world.leader.id}/goals", headers=world.keys["leader"], params=params
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_routes_and_methods_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = await client.put("/api/v1/cohorts")
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_duplicate_member_is_a_conflict_and_leaves_one_row(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    body = {"slack_user_id": "UDUP00001", "name": "Dup"}
    first = await client.post("/api/v1/members", headers=world.keys["admin"], json=body)
    second = await client.post("/api/v1/members", headers=world.keys["admin"], json=body)
    assert (first.status_code, second.status_code) == (201, 409)


async def test_unknown_timezone_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    response = await client.post(
        "/api/v1/members",
        headers=world.keys["admin"],
        json={"slack_user_id": "UTZ000001", "name": "T", "timezone": "Mars/Olympus"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "timezone"
    assert body["detail"].startswith("timezone: ") and "Mars/Olympus" in body["detail"]
    assert not body["detail"].startswith("timezone: Value error")


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/members/{member_id}/plan" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200
