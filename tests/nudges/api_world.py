"""The API test world (tests/api/world.py) plus nudges, and the API with the nudge routes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.app import API_PREFIX
from services.api.deps import forbid_unknown_query
from services.nudges.models import Nudge, NudgeOutcome, NudgeStatus
from services.nudges.routes import router
from tests.api.world import World, build_world
from tests.nudges.factories import TODAY


def with_nudge_routes(app: FastAPI) -> FastAPI:
    """Include the nudge router the way create_api includes every router."""
    if not any(getattr(r, "original_router", None) is router for r in app.routes):
        app.include_router(router, prefix=API_PREFIX, dependencies=[Depends(forbid_unknown_query)])
    return app


@dataclass
class NudgeWorld:
    world: World
    sent: Nudge  # auto mode, sent to the leader (cites the goal shared with the coach)
    draft: Nudge  # waiting for the leader's coach
    other: Nudge  # sent to another leader

    @property
    def keys(self) -> dict[str, dict[str, str]]:
        return self.world.keys


async def add_nudge(
    session: AsyncSession,
    world: World,
    *,
    member_id: int,
    goal_id: int,
    status: NudgeStatus,
    key: str,
    cohort_id: int | None = None,
    **fields: object,
) -> Nudge:
    records: dict[str, object] = {
        "model": "stand-in-model",
        "prompt_version": "nudges/system@1+nudges/user@1",
        "outcome": NudgeOutcome.ok,
        "llm_model": "stand-in-model",
        "tokens_in": 400,
        "tokens_out": 60,
        "latency_ms": 300,
        "attempt_log": [{"model": "stand-in-model", "mode": "json_schema", "outcome": "ok",
                         "tokens_in": 400, "tokens_out": 60, "latency_ms": 300}],
    }
    nudge = Nudge(
        workspace_id=world.cohort.workspace_id,
        member_id=member_id,
        cohort_id=cohort_id or world.cohort.id,
        dedupe_key=key,
        goal_id=goal_id,
        text="Hi Lee, the next step on your goal is close. What could you do today?",
        rationale="Nearest open milestone.",
        suggested_action="Take 20 minutes today.",
        source="llm",
        status=status,
        local_date=TODAY,
        **(records | fields),
    )
    session.add(nudge)
    await session.flush()
    return nudge


async def build_nudge_world(session: AsyncSession) -> NudgeWorld:
    world = await build_world(session)
    shared = world.shared_goal.id or 0
    sent = await add_nudge(
        session,
        world,
        member_id=world.leader.id or 0,
        goal_id=shared,
        status=NudgeStatus.sent,
        key="w:sent",
    )
    draft = await add_nudge(
        session,
        world,
        member_id=world.leader.id or 0,
        goal_id=shared,
        status=NudgeStatus.draft,
        key="w:draft",
    )
    other = await add_nudge(
        session,
        world,
        member_id=world.other_leader.id or 0,
        goal_id=world.other_goal.id or 0,
        status=NudgeStatus.sent,
        key="w:other",
        cohort_id=world.other_cohort.id,
    )
    await session.commit()
    return NudgeWorld(world=world, sent=sent, draft=draft, other=other)
