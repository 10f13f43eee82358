"""Composing, following and cancelling broadcasts through the REST API, and bad input that
must leave nothing behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.broadcasts.jobs import broadcast_tick
from services.broadcasts.models import Broadcast
from services.db import utcnow
from services.delivery.models import Delivery, DeliveryState
from tests.broadcasts.world import Program, build_program, outbox, recipients


@pytest.fixture
async def program(session: AsyncSession) -> Program:
    return await build_program(session, leaders=6)


async def post(client: httpx.AsyncClient, program: Program, body: dict[str, Any],
               role: str = "owner") -> httpx.Response:
    return await client.post("/api/v1/broadcasts", json=body, headers=program.keys[role])


async def test_send_now_puts_one_intent_per_active_leader_in_the_outbox(
    client: httpx.AsyncClient, program: Program, sessions: async_sessionmaker[AsyncSession]
) -> None:
    response = await post(client, program, {"cohort_id": program.cohort.id,
                                            "audience": "leaders", "text": "Welcome!"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "sending"
    assert body["recipients"] == 6
    assert body["deliveries"] == {"queued": 6, "sent": 0, "failed": 0, "cancelled": 0}
    rows = await outbox(sessions, body["id"])
    # Paused leaders asked for quiet; the coach and the owner are not leaders.
    assert recipients(rows) == {m.id: 1 for m in program.leaders}
    assert {row.delivery_key for row in rows} == {
        f"broadcast:{body['id']}:{m.id}" for m in program.leaders}
    assert all(row.intent == {"kind": "broadcast_message", "broadcast_id": body["id"]}
               for row in rows)


@pytest.mark.parametrize(("audience", "expected"), [
    ("coaches", lambda p: {p.coach.id}),
    ("everyone", lambda p: {p.coach.id, *(m.id for m in p.leaders)}),
])
async def test_audiences(
    client: httpx.AsyncClient, program: Program, sessions: async_sessionmaker[AsyncSession],
    audience: str, expected: Any,
) -> None:
    response = await post(client, program, {"cohort_id": program.cohort.id,
                                            "audience": audience, "text": "Hello"})
    assert response.status_code == 202, response.text
    rows = await outbox(sessions, response.json()["id"])
    # The author (the owner) never gets their own broadcast.
    assert set(recipients(rows)) == expected(program)


async def test_a_scheduled_broadcast_waits_for_its_time_then_fans_out_once(
    client: httpx.AsyncClient, program: Program, sessions: async_sessionmaker[AsyncSession]
) -> None:
    send_at = utcnow() + timedelta(hours=2)
    response = await post(client, program, {
        "cohort_id": program.cohort.id, "audience": "leaders", "text": "Tomorrow's session",
        "question": "Will you join?", "send_at": send_at.isoformat()})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "scheduled"
    assert created["deliveries"]["queued"] == 0
    assert await broadcast_tick(sessions=sessions, now=utcnow()) == 0
    assert await outbox(sessions) == []
    later = send_at + timedelta(seconds=30)
    assert await broadcast_tick(sessions=sessions, now=later) == 1
    assert await broadcast_tick(sessions=sessions, now=later) == 0
    rows = await outbox(sessions, created["id"])
    assert len(rows) == 6
    assert all(row.next_attempt_at == send_at for row in rows)
    got = (await client.get(f"/api/v1/broadcasts/{created['id']}",
                            headers=program.keys["owner"])).json()
    assert got["status"] == "sending"
    assert got["recipients"] == 6


async def test_send_at_in_another_offset_is_the_same_instant(
    client: httpx.AsyncClient, program: Program
) -> None:
    at = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    local = at.astimezone(datetime.now().astimezone().tzinfo).isoformat()
    response = await post(client, program, {"cohort_id": program.cohort.id,
                                            "audience": "leaders", "text": "x",
                                            "send_at": local})
    assert response.status_code == 201
    assert datetime.fromisoformat(response.json()["send_at"]) == at.astimezone(UTC)


async def test_cancel_before_sending_and_after(
    client: httpx.AsyncClient, program: Program, sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers = program.keys["owner"]
    later = (utcnow() + timedelta(hours=1)).isoformat()
    scheduled = (await post(client, program, {"cohort_id": program.cohort.id,
                                              "audience": "leaders", "text": "x",
                                              "send_at": later})).json()
    response = await client.post(f"/api/v1/broadcasts/{scheduled['id']}/cancel",
                                 headers=headers)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    # Cancelling twice is harmless; the tick never sends a cancelled broadcast.
    again = await client.post(f"/api/v1/broadcasts/{scheduled['id']}/cancel", headers=headers)
    assert again.json()["status"] == "cancelled"
    assert await broadcast_tick(sessions=sessions, now=utcnow() + timedelta(hours=2)) == 0
    assert await outbox(sessions, scheduled["id"]) == []

    # Sending: the rows not yet handed to Slack are cancelled, the sent ones stay sent.
    sending = (await post(client, program, {"cohort_id": program.cohort.id,
                                            "audience": "leaders", "text": "y"})).json()
    rows = await outbox(sessions, sending["id"])
    async with sessions() as session:
        first = await session.get(Delivery, rows[0].id)
        assert first is not None
        first.state = DeliveryState.sent
        session.add(first)
        await session.commit()
    cancelled = await client.post(f"/api/v1/broadcasts/{sending['id']}/cancel",
                                  headers=headers)
    assert cancelled.json()["deliveries"] == {"queued": 0, "sent": 1, "failed": 0,
                                              "cancelled": 5}

    # Sent: too late.
    done = (await post(client, program, {"cohort_id": program.cohort.id,
                                         "audience": "coaches", "text": "z"})).json()
    async with sessions() as session:
        for row in await outbox(sessions, done["id"]):
            row.state = DeliveryState.sent
            session.add(row)
        await session.commit()
    assert await broadcast_tick(sessions=sessions, now=utcnow()) == 1
    late = await client.post(f"/api/v1/broadcasts/{done['id']}/cancel", headers=headers)
    assert late.status_code == 409
    status = (await client.get(f"/api/v1/broadcasts/{done['id']}", headers=headers)).json()
    assert status["status"] == "sent"


BAD_INPUT = [
    ("an empty cohort", lambda p: {"cohort_id": p.empty_cohort.id}, 422, "no active leaders"),
    ("a foreign cohort", lambda p: {"cohort_id": p.foreign_cohort.id}, 404, "not found"),
    ("a cohort the owner does not run", lambda p: {"cohort_id": p.other_cohort.id}, 404,
     "not found"),
    ("a cohort that does not exist", lambda p: {"cohort_id": 999_999}, 404, "not found"),
    ("a send time in the past",
     lambda p: {"send_at": (utcnow() - timedelta(hours=1)).isoformat()}, 422, "in the past"),
    ("a send time without an offset", lambda p: {"send_at": "2030-01-01T09:00:00"}, 422,
     "timezone offset"),
    ("a send time years away", lambda p: {"send_at": "2099-01-01T09:00:00Z"}, 422,
     "more than a year"),
    ("an audience that does not exist", lambda p: {"audience": "managers"}, 422, "audience"),
    ("a 40,000-character message", lambda p: {"text": "x" * 40_000}, 422, "3000"),
    ("a blank message", lambda p: {"text": "   "}, 422, "blank"),
    ("a 301-character question", lambda p: {"question": "q" * 301}, 422, "300"),
    ("an unknown field", lambda p: {"channel": "#general"}, 422, "channel"),
]


@pytest.mark.parametrize(("name", "change", "status", "says"), BAD_INPUT,
                         ids=[case[0].replace(" ", "-") for case in BAD_INPUT])
async def test_bad_input_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, program: Program, session: AsyncSession,
    name: str, change: Any, status: int, says: str,
) -> None:
    body = {"cohort_id": program.cohort.id, "audience": "leaders", "text": "Hello"}
    response = await post(client, program, body | change(program))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.text
    assert (await session.exec(select(func.count()).select_from(Broadcast))).one() == 0
    assert (await session.exec(select(func.count()).select_from(Delivery))).one() == 0


async def test_list_filters_and_pages(client: httpx.AsyncClient, program: Program) -> None:
    headers = program.keys["owner"]
    later = (utcnow() + timedelta(hours=1)).isoformat()
    for n in range(3):
        await post(client, program, {"cohort_id": program.cohort.id, "audience": "leaders",
                                     "text": f"note {n}", "send_at": later})
    await post(client, program, {"cohort_id": program.cohort.id, "audience": "coaches",
                                 "text": "now"})
    first = (await client.get("/api/v1/broadcasts?limit=2", headers=headers)).json()
    assert [item["text"] for item in first["items"]] == ["note 0", "note 1"]
    rest = (await client.get(f"/api/v1/broadcasts?limit=2&cursor={first['next_cursor']}",
                             headers=headers)).json()
    assert [item["text"] for item in rest["items"]] == ["note 2", "now"]
    scheduled = (await client.get("/api/v1/broadcasts?status=scheduled",
                                  headers=headers)).json()
    assert len(scheduled["items"]) == 3
    typo = await client.get("/api/v1/broadcasts?stauts=sent", headers=headers)
    assert typo.status_code == 422
