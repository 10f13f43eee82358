"""Answers to a broadcast question: given by recipients, shown to owners as counts, with an
answer's words only when at least k recipients gave it."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.people.models import Workspace
from tests.broadcasts.world import Program, build_program
from tests.factories.people import make_key


@pytest.fixture
async def program(session: AsyncSession) -> Program:
    return await build_program(session, leaders=6)


async def send(client: httpx.AsyncClient, program: Program, question: str | None) -> int:
    body = {"cohort_id": program.cohort.id, "audience": "leaders", "text": "Offsite on Friday"}
    if question:
        body["question"] = question
    response = await client.post("/api/v1/broadcasts", json=body, headers=program.keys["owner"])
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


async def leader_keys(session: AsyncSession, program: Program) -> list[dict[str, str]]:
    home = await session.get(Workspace, program.cohort.workspace_id)
    assert home is not None
    keys = [await make_key(session, home, Role.leader, member=m) for m in program.leaders]
    await session.commit()
    return keys


async def test_answers_are_counted_and_only_common_answers_are_shown(
    client: httpx.AsyncClient, program: Program, session: AsyncSession
) -> None:
    broadcast_id = await send(client, program, "Will you come?")
    keys = await leader_keys(session, program)
    answers = ["Yes", "yes ", "YES", "Yes", "No — my daughter's recital", "maybe"]
    for key, answer in zip(keys, answers, strict=True):
        response = await client.put(f"/api/v1/broadcasts/{broadcast_id}/answer",
                                    json={"answer": answer}, headers=key)
        assert response.status_code == 204, response.text
    summary = (await client.get(f"/api/v1/broadcasts/{broadcast_id}/answers",
                                headers=program.keys["owner"])).json()
    # Four "yes" are fewer than k = 5: no words at all, only how many answered.
    assert summary == {"broadcast_id": broadcast_id, "question": "Will you come?",
                       "k_anonymity_min": 5, "recipients": 6, "answered": 6,
                       "response_rate": 1.0, "common_answers": [], "other_answers": 6}
    changed = await client.put(f"/api/v1/broadcasts/{broadcast_id}/answer",
                               json={"answer": " yes"}, headers=keys[5])
    assert changed.status_code == 204
    summary = (await client.get(f"/api/v1/broadcasts/{broadcast_id}/answers",
                                headers=program.keys["admin"])).json()
    assert summary["answered"] == 6
    assert summary["common_answers"] == [{"answer": "yes", "count": 5}]
    assert summary["other_answers"] == 1
    assert "recital" not in str(summary)
    status = (await client.get(f"/api/v1/broadcasts/{broadcast_id}",
                               headers=program.keys["owner"])).json()
    assert status["answered"] == 6


async def test_who_may_answer(
    client: httpx.AsyncClient, program: Program, session: AsyncSession
) -> None:
    broadcast_id = await send(client, program, "Will you come?")
    path = f"/api/v1/broadcasts/{broadcast_id}/answer"
    body = {"answer": "yes"}
    assert (await client.put(path, json=body, headers=program.keys["leader"])).status_code == 204
    # Not a recipient: the owner who sent it may not answer it; others do not see it.
    assert (await client.put(path, json=body, headers=program.keys["owner"])).status_code == 403
    assert (await client.put(path, json=body, headers=program.keys["admin"])).status_code == 403
    for role in ("coach", "other_leader", "foreign_admin"):
        response = await client.put(path, json=body, headers=program.keys[role])
        assert response.status_code == 404, role
    blank = await client.put(path, json={"answer": "  "}, headers=program.keys["leader"])
    assert blank.status_code == 422
    long = await client.put(path, json={"answer": "x" * 1001}, headers=program.keys["leader"])
    assert long.status_code == 422
    no_question = await send(client, program, None)
    response = await client.put(f"/api/v1/broadcasts/{no_question}/answer", json=body,
                                headers=program.keys["leader"])
    assert response.status_code == 422
    assert "asks no question" in response.text
