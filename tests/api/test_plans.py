"""Plans through the API: goals, milestones, progress, the whole plan, and who reads it."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db import utcnow
from services.plans.service import RECENT_PROGRESS_PER_GOAL
from services.privacy.models import AuditEvent
from tests.api.world import build_world
from tests.factories.plans import make_progress


async def test_leader_builds_a_plan_and_reads_it_in_one_call(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    me = world.keys["leader"]
    goal = (
        await client.post(
            f"/api/v1/members/{world.leader.id}/goals",
            headers=me,
            json={"title": "Coach my successor", "competency": "delegation", "visibility": "coach"},
        )
    ).json()
    yesterday = (utcnow() - timedelta(days=2)).date().isoformat()
    first = (
        await client.post(
            f"/api/v1/goals/{goal['id']}/milestones",
            headers=me,
            json={"title": "Pick a successor", "due_date": yesterday},
        )
    ).json()
    second = (
        await client.post(
            f"/api/v1/goals/{goal['id']}/milestones",
            headers=me,
            json={"title": "Hand over the budget"},
        )
    ).json()
    assert (first["position"], second["position"]) == (0, 1)
    assert first["overdue"] is True

    reordered = await client.put(
        f"/api/v1/goals/{goal['id']}/milestones/order",
        headers=me,
        json={"milestone_ids": [second["id"], first["id"]]},
    )
    assert [m["id"] for m in reordered.json()] == [second["id"], first["id"]]

    done = (await client.post(f"/api/v1/milestones/{first['id']}/complete", headers=me)).json()
    assert done["status"] == "done" and done["done_at"] and done["overdue"] is False
    again = (await client.post(f"/api/v1/milestones/{first['id']}/complete", headers=me)).json()
    assert again["done_at"] == done["done_at"]

    await client.post(
        f"/api/v1/goals/{goal['id']}/progress",
        headers=me,
        json={"note": "Shadowed me in two meetings", "confidence": 4, "milestone_id": second["id"]},
    )
    plan = (await client.get(f"/api/v1/members/{world.leader.id}/plan", headers=me)).json()
    mine = next(g for g in plan["goals"] if g["id"] == goal["id"])
    assert [m["title"] for m in mine["milestones"]] == ["Hand over the budget", "Pick a successor"]
    assert mine["recent_progress"][0]["note"] == "Shadowed me in two meetings"
    assert {g["title"] for g in plan["goals"]} == {"Coach may see", "Only me", "Coach my successor"}


async def test_coach_sees_only_coach_visible_goals_and_each_read_is_audited(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    plan = (
        await client.get(f"/api/v1/members/{world.leader.id}/plan", headers=world.keys["coach"])
    ).json()
    assert [g["title"] for g in plan["goals"]] == ["Coach may see"]
    assert "secret note" not in str(plan)
    await client.get(f"/api/v1/members/{world.leader.id}/plan", headers=world.keys["leader"])

    events = (await session.exec(select(AuditEvent))).all()
    assert [(e.action, e.actor_member_id, e.subject_member_id, e.object_type) for e in events] == [
        ("read", world.coach.id, world.leader.id, "plan")
    ]


async def test_goal_visibility_change_hides_it_from_the_coach(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    path = f"/api/v1/goals/{world.shared_goal.id}"
    assert (await client.get(path, headers=world.keys["coach"])).status_code == 200
    await client.patch(path, headers=world.keys["leader"], json={"visibility": "private"})
    assert (await client.get(path, headers=world.keys["coach"])).status_code == 404


async def test_lists_paginate_with_a_cursor_and_filter(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    me = world.keys["leader"]
    for n in range(5):
        await client.post(
            f"/api/v1/members/{world.leader.id}/goals",
            headers=me,
            json={
                "title": f"Goal {n}",
                "status": "at_risk" if n % 2 else "on_track",
                "cohort_id": world.cohort.id,
            },
        )
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, "cohort_id": world.cohort.id}
        if cursor:
            params["cursor"] = cursor
        page = (
            await client.get(f"/api/v1/members/{world.leader.id}/goals", headers=me, params=params)
        ).json()
        seen += [goal["id"] for goal in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen)
    at_risk = (
        await client.get(
            f"/api/v1/members/{world.leader.id}/goals", headers=me, params={"status": "at_risk"}
        )
    ).json()
    assert [g["title"] for g in at_risk["items"]] == ["Goal 1", "Goal 3"]


async def test_reorder_must_name_every_milestone_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    path = f"/api/v1/goals/{world.shared_goal.id}/milestones/order"
    ids = [world.shared_milestone.id]
    for bad in ([], ids + ids, [world.private_milestone.id]):
        response = await client.put(path, headers=world.keys["leader"], json={"milestone_ids": bad})
        assert response.status_code == 422, bad


async def test_progress_cannot_cite_a_milestone_of_another_goal(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    response = await client.post(
        f"/api/v1/goals/{world.shared_goal.id}/progress",
        headers=world.keys["leader"],
        json={"note": "x", "milestone_id": world.private_milestone.id},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "milestone_id"


async def test_export_holds_everything_and_erasure_keeps_only_counts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    me = world.keys["leader"]
    export = (await client.get(f"/api/v1/members/{world.leader.id}/export", headers=me)).json()
    assert export["member"]["name"] == "Lee Leader"
    assert {g["title"] for g in export["goals"]} == {"Coach may see", "Only me"}
    assert {p["note"] for p in export["progress_updates"]} == {"Made progress", "secret note"}
    assert len(export["milestones"]) == 2

    erased = await client.delete(
        f"/api/v1/members/{world.leader.id}/data", headers=world.keys["admin"]
    )
    assert erased.json()["erased"] == {
        "goals": 2, "milestones": 2, "progress_updates": 2, "checkin_answers": 0,
        "review_replies": 0,
        "circle_commitments": 0, "circle_blocks": 0, "nudges": 0, "broadcast_answers": 0,
    }
    member = (
        await client.get(f"/api/v1/members/{world.leader.id}", headers=world.keys["admin"])
    ).json()
    assert member["name"] == "[erased]" and member["email"] is None and member["erased"] is True
    # The leader's own key was revoked with the data.
    assert (await client.get("/api/v1/me", headers=me)).status_code == 401
    # Counts survive: the goals are still there, without their words.
    goals = (
        await client.get(f"/api/v1/members/{world.leader.id}/goals", headers=world.keys["coach"])
    ).json()["items"]
    assert [g["title"] for g in goals] == ["[erased]"]


async def test_the_plan_lists_each_goals_newest_progress_first_and_no_more_than_the_limit(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(session)
    # Interleaved writes to two goals, and progress of another leader in between.
    for n in range(RECENT_PROGRESS_PER_GOAL + 3):
        await make_progress(session, world.shared_goal, note=f"shared {n}")
        await make_progress(session, world.other_goal, note=f"other leader {n}")
        if n < 2:
            await make_progress(session, world.private_goal, note=f"private {n}")
    await session.commit()
    plan = (await client.get(f"/api/v1/members/{world.leader.id}/plan",
                             headers=world.keys["leader"])).json()
    notes = {g["title"]: [p["note"] for p in g["recent_progress"]] for g in plan["goals"]}
    newest = range(RECENT_PROGRESS_PER_GOAL + 2, 2, -1)
    assert notes["Coach may see"] == [f"shared {n}" for n in newest]
    assert notes["Only me"][:2] == ["private 1", "private 0"]
    assert not any("other leader" in note for notes_ in notes.values() for note in notes_)
