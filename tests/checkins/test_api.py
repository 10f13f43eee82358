"""The check-in API's behaviour beyond the role matrix: bad input, answering rules,
what a coach may read, and k-anonymous response rates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.checkins.models import CheckinStatus
from services.db import utcnow
from services.people.models import EnrollmentRole
from services.privacy.models import AuditEvent
from tests.checkins.factories import make_checkin, make_leader, make_program, make_schedule
from tests.checkins.world import CheckinWorld, build_checkin_world
from tests.factories.people import make_key


@pytest.fixture
async def world(session: AsyncSession) -> CheckinWorld:
    return await build_checkin_world(session)


def url(path: str) -> str:
    return f"/api/v1{path}"


@pytest.mark.parametrize(("body", "field"), [
    ({"weekdays": []}, "at least one weekday"),
    ({"weekdays": [7]}, "0 (Monday) to 6"),
    ({"local_time": "09:00+02:00"}, "own timezone"),
    ({"end_date": "2029-01-01"}, "end_date is before start_date"),
    ({"reminder_after_minutes": 1440}, "before the check-in closes"),
    ({"local_time": "25:00"}, "time"),
    ({"local_time": 32400}, "HH:MM"),
    ({"max_reminders": True}, "max_reminders is a number, not true"),
])
async def test_bad_schedules_are_refused_with_a_reason(
    world: CheckinWorld, client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    payload = {"name": "Weekly", "weekdays": [0], "local_time": "09:00",
               "start_date": "2030-01-01", **body}
    response = await client.post(url(f"/cohorts/{world.cohort.id}/checkin-schedules"),
                                 json=payload, headers=world.keys["admin"])
    assert response.status_code == 422
    assert field in response.text


async def test_a_schedule_cannot_use_another_cohorts_template(
    world: CheckinWorld, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    created = await client.post(url("/checkin-templates"), headers=world.keys["admin"], json={
        "name": "Theirs", "cohort_id": world.other_cohort.id,
        "questions": [{"id": "q1", "kind": "choice", "text": "Pick", "choices": ["a", "b"]}]})
    assert created.status_code == 201
    response = await client.post(
        url(f"/cohorts/{world.cohort.id}/checkin-schedules"), headers=world.keys["admin"],
        json={"name": "W", "weekdays": [0], "local_time": "09:00", "start_date": "2030-01-01",
              "template_id": created.json()["id"]})
    assert response.status_code == 422 and "template" in response.text


@pytest.mark.parametrize("questions", [
    [],
    [{"id": "q1", "kind": "choice", "text": "Pick", "choices": ["only one"]}],
    [{"id": "q1", "kind": "text", "text": "A"}, {"id": "q1", "kind": "text", "text": "B"}],
    [{"id": "q1", "kind": "scale", "text": "A", "choices": ["x", "y"]}],
    [{"id": "Q 1", "kind": "text", "text": "A"}],
])
async def test_bad_templates_are_refused(
    world: CheckinWorld, client: httpx.AsyncClient, questions: list[dict[str, Any]]
) -> None:
    response = await client.post(url("/checkin-templates"), headers=world.keys["admin"],
                                 json={"name": "Bad", "questions": questions})
    assert response.status_code == 422


async def test_a_value_of_the_wrong_json_type_is_named_inside_a_list(
    world: CheckinWorld, client: httpx.AsyncClient
) -> None:
    questions = [{"id": "q1", "kind": "text", "text": "A"},
                 {"id": "q2", "kind": "text", "text": "B", "required": "yes"}]
    response = await client.post(url("/checkin-templates"), headers=world.keys["admin"],
                                 json={"name": "Typed", "questions": questions})
    assert response.status_code == 422
    assert response.json()["field"] == "questions[1].required"
    assert "true or false" in response.json()["detail"]


async def test_a_schema_error_names_its_field_the_same_way(
    world: CheckinWorld, client: httpx.AsyncClient
) -> None:
    questions = [{"id": "q1", "kind": "text", "text": "A"}, {"id": "q2", "kind": "dial"}]
    response = await client.post(url("/checkin-templates"), headers=world.keys["admin"],
                                 json={"name": "Typed", "questions": questions})
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "questions[1].kind"
    assert body["detail"].startswith("questions[1].kind: Input should be ")
    assert body["detail"].endswith("(and 1 more)")  # the missing text is listed too
    assert [e["field"] for e in body["errors"]] == ["questions[1].kind", "questions[1].text"]


async def test_answering_rules(
    world: CheckinWorld, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    leader = world.keys["leader"]
    answers = {"answers": [{"question_id": "week", "number": 9},
                           {"question_id": "nope", "text": "?"}]}
    bad = await client.post(url(f"/checkins/{world.checkin.id}/answers"), json=answers,
                            headers=leader)
    assert bad.status_code == 422 and "1 to 5" in bad.text and "nope" in bad.text
    foreign = await client.post(url(f"/checkins/{world.other_checkin.id}/answers"),
                                json={"answers": []}, headers=leader)
    assert foreign.status_code == 404
    # Past its expiry an answer is still taken, and marked late.
    world.checkin.expires_at = utcnow() - timedelta(minutes=5)
    world.checkin.status = CheckinStatus.expired
    session.add(world.checkin)
    await session.commit()
    good = {"answers": [{"question_id": "week", "number": 2},
                        {"question_id": "learned", "text": "Busy"}]}
    first = await client.post(url(f"/checkins/{world.checkin.id}/answers"), json=good,
                              headers=leader)
    assert first.status_code == 201 and first.json()["late"] is True
    again = await client.post(url(f"/checkins/{world.checkin.id}/answers"), json=good,
                              headers=leader)
    assert again.status_code == 409 and "already answered" in again.text
    skip = await client.post(url(f"/checkins/{world.checkin.id}/skip"), headers=leader)
    assert skip.status_code == 409


async def test_a_coach_reads_only_shared_answers_and_the_read_is_audited(
    world: CheckinWorld, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    path = url(f"/checkins/{world.answered.id}/answers")
    mine = await client.get(path, headers=world.keys["leader"])
    theirs = await client.get(path, headers=world.keys["coach"])
    assert {a["question_id"] for a in mine.json()} == {"week", "learned"}
    assert [a["question_id"] for a in theirs.json()] == ["week"]
    audit = (await session.exec(select(AuditEvent).where(
        AuditEvent.actor_member_id == world.coach.id))).all()
    assert {a.object_type for a in audit} == {"checkin"}


async def test_response_rates_respect_the_k_anonymity_minimum(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    program = await make_program(session)
    program.cohort.k_anonymity_min = 3
    schedule = await make_schedule(session, program.cohort, at=time(9))
    this_monday = utcnow().date() - timedelta(days=utcnow().weekday())
    weeks = {this_monday - timedelta(weeks=1): 3, this_monday: 2}
    for n in range(3):
        leader = await make_leader(session, program.workspace, program.cohort, timezone="UTC")
        for monday, size in weeks.items():
            if n >= size:
                continue
            due = datetime.combine(monday, time(9), tzinfo=UTC)
            status = CheckinStatus.answered if n < 2 else CheckinStatus.expired
            await make_checkin(session, schedule, leader, due_at=due, local_date=monday,
                               expires_at=due + timedelta(days=1), status=status)
    owner = await make_leader(session, program.workspace, program.cohort, timezone="UTC",
                              role=EnrollmentRole.owner)
    headers = await make_key(session, program.workspace, Role.owner, member=owner)
    await session.commit()
    response = await client.get(url(f"/cohorts/{program.cohort.id}/checkin-rates?weeks=3"),
                                headers=headers)
    assert response.status_code == 200
    rates = {date.fromisoformat(w["week_start"]): w for w in response.json()["weeks"]}
    last_week = rates[this_monday - timedelta(weeks=1)]
    assert (last_week["leaders"], last_week["sent"], last_week["answered"]) == (3, 3, 2)
    assert last_week["response_rate"] == pytest.approx(0.6667)
    assert rates[this_monday]["suppressed"] and rates[this_monday]["sent"] is None
    assert rates[this_monday - timedelta(weeks=2)]["suppressed"]
