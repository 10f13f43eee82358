"""The nudge API: what each role's list holds, audit of coach reads, metrics and k-anonymity."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.app import create_api
from services.auth.models import Role
from services.config import Settings
from services.nudges.models import Nudge, NudgeFeedback, NudgeOutcome, NudgeStatus
from services.people.models import EnrollmentRole
from services.plans.models import Visibility
from services.privacy.models import AuditEvent
from tests.factories.people import enrol, make_cohort, make_key, make_member, make_workspace
from tests.factories.plans import make_goal
from tests.nudges.api_world import add_nudge, build_nudge_world, with_nudge_routes


@pytest.fixture
async def api(settings: Settings, engine: AsyncEngine, sessions: object) -> AsyncIterator[
    httpx.AsyncClient
]:
    app: FastAPI = with_nudge_routes(create_api(settings, engine))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://coachbot.test") as client:
        yield client


async def test_each_role_lists_only_what_it_may_read(
    api: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await build_nudge_world(session)
    leader = (await api.get("/api/v1/nudges", headers=w.keys["leader"])).json()
    assert [n["id"] for n in leader["items"]] == [w.sent.id]
    [sent] = leader["items"]
    assert (sent["outcome"], sent["llm_model"], sent["tokens_in"]) == ("ok", "stand-in-model", 400)
    assert sent["attempt_log"] == [{"model": "stand-in-model", "mode": "json_schema",
                                    "outcome": "ok", "tokens_in": 400, "tokens_out": 60,
                                    "latency_ms": 300}]
    coach = (await api.get("/api/v1/nudges", headers=w.keys["coach"])).json()
    assert [n["id"] for n in coach["items"]] == [w.draft.id]
    drafts = await api.get("/api/v1/nudges", params={"status": "draft"}, headers=w.keys["leader"])
    assert drafts.json()["items"] == []
    audit = (await session.exec(select(AuditEvent))).all()
    reads = [(a.actor_member_id, a.subject_member_id, a.object_type, a.object_id) for a in audit]
    assert reads == [(w.world.coach.id, w.world.leader.id, "nudge", w.draft.id)]


async def test_pages_and_filters(api: httpx.AsyncClient, session: AsyncSession) -> None:
    w = await build_nudge_world(session)
    for day in range(3):
        await add_nudge(session, w.world, member_id=w.world.leader.id or 0,
                        goal_id=w.world.shared_goal.id or 0, status=NudgeStatus.sent,
                        key=f"page:{day}")
    await session.commit()
    first = (await api.get("/api/v1/nudges", params={"limit": 2},
                           headers=w.keys["leader"])).json()
    second = (await api.get("/api/v1/nudges", params={"limit": 2, "cursor": first["next_cursor"]},
                            headers=w.keys["leader"])).json()
    assert len(first["items"]) == 2 and len(second["items"]) == 2 and second["next_cursor"] is None
    none = await api.get("/api/v1/nudges", params={"member_id": w.world.other_leader.id},
                         headers=w.keys["leader"])
    assert none.json()["items"] == []
    typo = await api.get("/api/v1/nudges", params={"stauts": "sent"}, headers=w.keys["leader"])
    assert typo.status_code == 422


async def test_an_edit_with_a_mention_is_refused_as_a_problem(
    api: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await build_nudge_world(session)
    response = await api.post(f"/api/v1/nudges/{w.draft.id}/edit", headers=w.keys["coach"],
                              json={"text": "Lee, please ask <!here> for help on the report."})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "mention" in response.json()["detail"]


async def cohort_with_leaders(session: AsyncSession, count: int) -> tuple[int, dict[str, str]]:
    workspace = await make_workspace(session)
    cohort = await make_cohort(session, workspace, k_anonymity_min=5)
    owner = await make_member(session, workspace, name="Olivia Owner")
    await enrol(session, cohort, owner, EnrollmentRole.owner)
    feedback = [NudgeFeedback.helpful, NudgeFeedback.helpful, NudgeFeedback.not_helpful, None,
                NudgeFeedback.snoozed, None]
    for index in range(count):
        leader = await make_member(session, workspace)
        await enrol(session, cohort, leader, EnrollmentRole.leader)
        goal = await make_goal(session, leader)
        session.add(Nudge(
            workspace_id=workspace.id or 0, member_id=leader.id or 0, cohort_id=cohort.id,
            dedupe_key=f"m:{index}", goal_id=goal.id, text="Hi there, one step today?",
            source="llm" if index % 2 == 0 else "offline",
            tokens_in=400 if index % 2 == 0 else None, tokens_out=50 if index % 2 == 0 else None,
            latency_ms=300 + index * 10,
            status=NudgeStatus.sent if index else NudgeStatus.rejected,
            reviewer_id=owner.id if index == 0 else None,
            original_text="Hi there, the first draft." if index == 1 else None,
            feedback=feedback[index % len(feedback)], local_date=goal.created_at.date(),
            **({1: {"outcome": NudgeOutcome.fallback_timeout},
                2: {"outcome": NudgeOutcome.ok_after_retry}}.get(index, {})),
        ))
    await session.flush()
    headers = await make_key(session, workspace, Role.owner, member=owner)
    await session.commit()
    return cohort.id or 0, headers


async def test_metrics_are_suppressed_below_k_leaders(
    api: httpx.AsyncClient, session: AsyncSession
) -> None:
    cohort_id, headers = await cohort_with_leaders(session, 4)
    metrics = (await api.get(f"/api/v1/cohorts/{cohort_id}/nudge-metrics", headers=headers)).json()
    assert metrics == {
        "cohort_id": cohort_id, "leaders": 4, "k_anonymity_min": 5, "suppressed": True,
        "nudges": None, "by_status": None, "by_source": None, "by_outcome": None,
        "by_feedback": None,
        "helpful_rate": None, "reviewed": None, "edited": None, "tokens_in_per_nudge": None,
        "tokens_out_per_nudge": None, "latency_ms_p50": None,
    }


async def test_metrics_from_k_leaders_on(api: httpx.AsyncClient, session: AsyncSession) -> None:
    cohort_id, headers = await cohort_with_leaders(session, 6)
    metrics = (await api.get(f"/api/v1/cohorts/{cohort_id}/nudge-metrics", headers=headers)).json()
    assert metrics["suppressed"] is False and metrics["leaders"] == 6 and metrics["nudges"] == 6
    assert metrics["by_status"] == {"draft": 0, "approved": 0, "rejected": 1, "sent": 5}
    assert metrics["by_source"] == {"llm": 3, "offline": 3}
    # Nudges stored without an outcome get the one their source implies (ok or offline).
    assert metrics["by_outcome"] == {"fallback_timeout": 1, "offline": 2, "ok": 2,
                                     "ok_after_retry": 1}
    assert metrics["by_feedback"] == {"helpful": 2, "not_helpful": 1, "snoozed": 1, "none": 2}
    assert metrics["helpful_rate"] == pytest.approx(2 / 3)
    assert metrics["reviewed"] == 1 and metrics["edited"] == 1
    assert metrics["tokens_in_per_nudge"] == 200 and metrics["tokens_out_per_nudge"] == 25
    assert metrics["latency_ms_p50"] == 325


async def test_drafts_awaiting_the_coach(session: AsyncSession) -> None:
    from services.nudges.reports import drafts_awaiting

    w = await build_nudge_world(session)
    assert await drafts_awaiting(session=session, coach_id=w.world.coach.id or 0) == 1
    assert await drafts_awaiting(session=session, coach_id=w.world.leader.id or 0) == 0
    w.world.shared_goal.visibility = Visibility.private  # no longer the coach's to read
    session.add(w.world.shared_goal)
    await session.flush()
    assert await drafts_awaiting(session=session, coach_id=w.world.coach.id or 0) == 0
