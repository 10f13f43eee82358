"""The circles API: series rules, participation, the private block list, follow-up answers
and attendance counts that respect the cohort's k-anonymity minimum."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.circles.models import CircleBlock, ParticipantStatus
from services.plans.models import ProgressSource, ProgressUpdate
from tests.circles_flow.conftest import Sessions, Tick, my_row
from tests.circles_flow.factories import FIRST_ROUND, Program, make_program, set_status
from tests.circles_flow.world import build_circle_world, mount_circles
from tests.factories.people import make_key
from tests.factories.plans import make_goal

API = "/api/v1"


@pytest.fixture
def circles_app(app: FastAPI) -> FastAPI:
    return mount_circles(app)


async def keys_for(session: AsyncSession, program: Program) -> dict[str, dict[str, str]]:
    keys = {"owner": await make_key(session, program.workspace, Role.owner, member=program.owner)}
    for index, leader in enumerate(program.leaders):
        keys[f"leader{index}"] = await make_key(session, program.workspace, Role.leader,
                                                member=leader)
    await session.commit()
    return keys


async def test_series_rules_are_checked_and_the_next_round_is_shown(
    circles_app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_circle_world(session)
    admin = world.keys["admin"]
    base = {"cohort_id": world.base.cohort.id, "name": "Pairs", "start_date": "2025-03-03"}
    for bad, reason in (({"group_size": 7}, "6"), ({"group_size": 1}, "2"), ({"weekday": 7}, "6"),
                        ({"cadence_weeks": 1, "followup_after_days": 8}, "before the next"),
                        ({"surprise": True}, "surprise"),
                        ({"seed": False}, "seed is a number, not false"),
                        ({"group_size": "4"}, "group_size is a number"),
                        ({"affinity": 0}, "affinity is true or false"),
                        ({"cadence_weeks": True}, "cadence_weeks is a number"),
                        ({"local_time": "10:00Z"}, "without an offset"),
                        ({"local_time": 36000}, "HH:MM")):
        response = await client.post(f"{API}/circle-series", json=base | bad, headers=admin)
        assert response.status_code == 422, bad
        assert reason in response.text, bad
    wrong_type = await client.post(f"{API}/circle-series", json=base | {"seed": False},
                                   headers=admin)
    assert wrong_type.json()["field"] == "seed"
    created = await client.post(f"{API}/circle-series", headers=admin,
                                json=base | {"group_size": 2, "weekday": 0})
    assert created.status_code == 201
    body = created.json()
    assert body["next_round_at"] is not None and body["history_window_rounds"] is None
    series = f"{API}/circle-series/{body['id']}"
    assert (await client.patch(series, json={"group_size": None}, headers=admin)
            ).status_code == 422
    assert (await client.patch(series, json={"followup_after_days": 30}, headers=admin)
            ).status_code == 422
    assert (await client.patch(series, json={"miss_limit": True}, headers=admin)
            ).status_code == 422
    changed = await client.patch(series, headers=admin, json={
        "history_window_rounds": 3, "active": False, "local_time": "18:30"})
    assert changed.json()["history_window_rounds"] == 3
    assert (await client.get(series, headers=admin)).json()["local_time"] == "18:30:00"
    assert changed.json()["next_round_at"] is None  # an inactive series has no next round


async def test_a_block_list_is_private_to_its_owner(
    circles_app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_circle_world(session)
    leader, blocked = world.keys["leader"], world.peers[2]
    blocked_key = await make_key(session, world.workspace, Role.leader,
                                 member=blocked)
    await session.commit()
    mine = (await client.get(f"{API}/me/circle-blocks", headers=leader)).json()
    assert [b["member_id"] for b in mine] == [blocked.id]
    # The person blocked sees nothing of it, and can block in return without learning it.
    assert (await client.get(f"{API}/me/circle-blocks", headers=blocked_key)).json() == []
    back = await client.post(f"{API}/me/circle-blocks", json={"member_id": world.base.leader.id},
                             headers=blocked_key)
    assert back.status_code == 201 and set(back.json()) == {"id", "member_id", "name",
                                                           "created_at"}
    assert (await client.delete(f"{API}/me/circle-blocks/{world.block.id}",
                                headers=blocked_key)).status_code == 404
    # Adding the same person twice changes nothing; blocking oneself or nobody is refused.
    again = await client.post(f"{API}/me/circle-blocks", json={"member_id": blocked.id},
                              headers=leader)
    assert again.json()["id"] == world.block.id
    by_slack = await client.post(f"{API}/me/circle-blocks", headers=leader,
                                 json={"slack_user_id": world.peers[0].slack_user_id})
    assert by_slack.json()["member_id"] == world.peers[0].id
    assert (await client.post(f"{API}/me/circle-blocks", json={"member_id": world.base.leader.id},
                              headers=leader)).status_code == 422
    assert (await client.post(f"{API}/me/circle-blocks", json={"slack_user_id": "UNOBODY"},
                              headers=leader)).status_code == 404
    assert (await client.post(f"{API}/me/circle-blocks", headers=leader,
                              json={"member_id": world.base.foreign_leader.id})).status_code == 404
    rows = (await session.exec(select(CircleBlock))).all()
    assert len(rows) == 3


async def test_a_leader_answers_the_followup_and_commits_through_the_api(
    circles_app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, tick: Tick,
    sessions: Sessions,
) -> None:
    program = await make_program(session)
    keys = await keys_for(session, program)
    goal = await make_goal(session, program.leaders[0])
    await session.commit()
    await tick(FIRST_ROUND)
    current = (await client.get(f"{API}/me/circle", headers=keys["leader0"])).json()
    assert current["round_number"] == 1 and len(current["members"]) == 3
    assert current["met"] is None and current["reflection"]
    answered = await client.patch(
        f"{API}/me/circles/{current['circle_id']}", headers=keys["leader0"],
        json={"met": "yes", "commitment": "Ask for feedback weekly", "goal_id": goal.id},
    )
    assert answered.status_code == 200
    assert answered.json()["met"] == "yes"
    row = await my_row(sessions, program.leaders[0], 1)
    update = await session.get(ProgressUpdate, row.progress_update_id)
    assert update is not None and update.source == ProgressSource.circle
    assert (await client.patch(f"{API}/me/circles/{current['circle_id']}", json={},
                               headers=keys["leader0"])).status_code == 422


async def test_pause_opt_out_and_back_in(
    circles_app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    program = await make_program(session)
    keys = await keys_for(session, program)
    path = f"{API}/me/circle-series/{program.series.id}"
    [listed] = (await client.get(f"{API}/me/circle-series", headers=keys["leader0"])).json()
    assert listed["status"] == "active" and listed["series_name"] == "Leadership Lab circles"
    past = await client.put(path, json={"status": "paused", "paused_until": "2000-01-01"},
                            headers=keys["leader0"])
    assert past.status_code == 422
    paused = await client.put(path, json={"status": "paused", "paused_until": "2999-01-01"},
                              headers=keys["leader0"])
    assert paused.json()["status"] == "paused"
    assert (await client.put(path, json={"status": "opted_out", "paused_until": "2999-01-01"},
                             headers=keys["leader0"])).status_code == 422
    back = await client.put(path, json={"status": "active"}, headers=keys["leader0"])
    assert (back.json()["status"], back.json()["paused_until"]) == ("active", None)


async def test_attendance_counts_hide_rounds_below_k_and_keep_them_out_of_totals(
    circles_app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, tick: Tick,
    sessions: Sessions,
) -> None:
    program = await make_program(session, k_anonymity_min=4, miss_limit=10)
    keys = await keys_for(session, program)
    await tick(FIRST_ROUND)
    for index in (0, 1):
        row = await my_row(sessions, program.leaders[index], 1)
        await client.patch(f"{API}/me/circles/{row.circle_id}", json={"met": "yes"},
                           headers=keys[f"leader{index}"])
    row = await my_row(sessions, program.leaders[2], 1)
    await client.patch(f"{API}/me/circles/{row.circle_id}", json={"met": "couldnt"},
                       headers=keys["leader2"])
    for leader in program.leaders[3:]:
        await set_status(session, program, leader, ParticipantStatus.opted_out)
    await tick(FIRST_ROUND + timedelta(weeks=1))  # three people: below k = 4

    report = (await client.get(f"{API}/circle-series/{program.series.id}/attendance",
                               headers=keys["owner"])).json()
    first, second = report["rounds"]
    assert (first["suppressed"], first["placed"], first["met"], first["couldnt"],
            first["no_answer"], first["circles"]) == (False, 6, 2, 1, 3, 2)
    assert second["suppressed"] is True and second["placed"] is None
    assert report["totals"] == {"rounds": 1, "circles": 2, "placed": 6, "met": 2,
                                "not_yet": 0, "couldnt": 1, "no_answer": 3}
    assert report["participants"] == {"active": 3, "opted_out": 3, "paused": 0}
    assert "member" not in str(report)


async def test_attendance_for_a_small_cohort_shows_nothing(
    circles_app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, tick: Tick
) -> None:
    program = await make_program(session, k_anonymity_min=10)
    keys = await keys_for(session, program)
    await tick(FIRST_ROUND)
    report = (await client.get(f"{API}/circle-series/{program.series.id}/attendance",
                               headers=keys["owner"])).json()
    assert [r["suppressed"] for r in report["rounds"]] == [True]
    assert report["totals"] is None and report["participants"] is None
