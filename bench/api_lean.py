"""What-if: how fast can a plan read be on this stack? The leader's own plan in one statement.

The app's plan read makes eight round trips (pre-ping, BEGIN, five SELECTs, COMMIT) and
builds ~55 ORM objects and ~55 SQLModel objects. This variant keeps the response model
and the privacy rule (a leader reads their own plan) and changes three things at once:

- the actor behind a key is cached in-process for `ACTOR_TTL` seconds (revocation then
  takes up to that long to bite, which is why it is only a what-if);
- PostgreSQL builds the whole plan as one JSON document (`json_agg`), in autocommit, so a
  read is one round trip and no ORM object is made (sent as text, parsed once by pydantic);
- pydantic validates that JSON straight into `PlanPublic` (on LEAN_PLAN_PATH), or the JSON
  goes out as PostgreSQL wrote it (on LEAN_RAW_PLAN_PATH: same content, other spelling of
  timestamps and key order).

Anything but a leader reading their own plan goes through the real service.
"""

from __future__ import annotations

import hashlib
import time
from typing import Annotated

from api_apps import serve
from api_whatif import engine_without_pre_ping
from fastapi import Depends, FastAPI, Response
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.deps import PathId, bearer
from services.auth.models import Role
from services.auth.service import Actor, authenticate
from services.config import Settings
from services.db import transaction
from services.errors import NotAuthenticated, NotFound
from services.plans import service as plans_service
from services.plans.models import PlanPublic

ACTOR_TTL = 30.0
# `p.id + 0`: with only single-column indexes, `ORDER BY p.id DESC LIMIT 5` tempts PostgreSQL
# into walking the primary key backwards past every newer row of other goals (650 ms at
# 200,000 rows, measured); the expression keeps it on the goal_id index. An index on
# (goal_id, id) would make the plain form safe.
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
LEAN_PLAN_PATH = "/bench/members/{member_id}/plan"
LEAN_RAW_PLAN_PATH = "/bench/members/{member_id}/plan-json"

PLAN_SQL = text("""
SELECT json_build_object('member_id', m.id, 'goals', coalesce((
  SELECT json_agg(g ORDER BY g.id) FROM (
    SELECT goal.title, goal.why, goal.competency, goal.status, goal.visibility, goal.cohort_id,
           goal.id, goal.member_id, goal.created_at, goal.updated_at,
           coalesce((SELECT json_agg(ms ORDER BY ms."position", ms.id) FROM (
               SELECT milestone.title, milestone.due_date, milestone.status, milestone.id,
                      milestone.goal_id, milestone."position", milestone.done_at,
                      milestone.created_at, milestone.updated_at,
                      (milestone.due_date IS NOT NULL
                       AND milestone.due_date < (now() AT TIME ZONE m.timezone)::date
                       AND milestone.status NOT IN ('done', 'skipped')) AS overdue
               FROM milestone WHERE milestone.goal_id = goal.id) ms), '[]') AS milestones,
           coalesce((SELECT json_agg(pu ORDER BY pu.id DESC) FROM (
               SELECT p.note, p.confidence, p.milestone_id, p.id, p.goal_id, p.member_id,
                      p.source, p.created_at
               FROM progress_update p WHERE p.goal_id = goal.id
               ORDER BY p.id + 0 DESC LIMIT :recent) pu), '[]') AS recent_progress
    FROM goal
    WHERE goal.member_id = m.id AND goal.workspace_id = :workspace_id) g), '[]'))::text
FROM member m
WHERE m.id = :member_id AND m.workspace_id = :workspace_id
""")


class ActorCache:
    """Raw key (hashed) -> actor, for a few seconds."""

    def __init__(self, app: FastAPI, ttl: float = ACTOR_TTL) -> None:
        self.app = app
        self.ttl = ttl
        self.known: dict[str, tuple[Actor, float]] = {}

    async def actor(self, credentials: HTTPAuthorizationCredentials | None) -> Actor:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise NotAuthenticated("send an API key as 'Authorization: Bearer <key>'")
        digest = hashlib.sha256(credentials.credentials.encode()).hexdigest()
        found = self.known.get(digest)
        if found is not None and found[1] > time.monotonic():
            return found[0]
        async with transaction(self.app.state.sessions) as session:
            actor = await authenticate(session=session, raw_key=credentials.credentials)
        self.known[digest] = (actor, time.monotonic() + self.ttl)
        return actor


async def plan_json(engine: AsyncEngine, actor: Actor, member_id: int) -> str:
    """The leader's own plan as PostgreSQL renders it, from one autocommit statement."""
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        raw = (
            await autocommit.execute(
                PLAN_SQL,
                {
                    "member_id": member_id,
                    "workspace_id": actor.workspace_id,
                    "recent": plans_service.RECENT_PROGRESS_PER_GOAL,
                },
            )
        ).scalar_one_or_none()
    if raw is None:
        raise NotFound(f"member {member_id} not found")
    return str(raw)


def add_lean_plan_route(app: FastAPI, engine: AsyncEngine) -> None:
    cache = ActorCache(app)

    async def real_plan(actor: Actor, member_id: int) -> PlanPublic:
        async with transaction(app.state.sessions) as session:
            return await plans_service.get_plan(session=session, actor=actor, member_id=member_id)

    @app.get(LEAN_PLAN_PATH, include_in_schema=False)
    async def plan(member_id: PathId, credentials: Credentials) -> PlanPublic:
        actor = await cache.actor(credentials)
        if actor.role is Role.leader and actor.is_self(member_id):
            return PlanPublic.model_validate_json(await plan_json(engine, actor, member_id))
        return await real_plan(actor, member_id)

    @app.get(LEAN_RAW_PLAN_PATH, include_in_schema=False, response_model=None)
    async def plan_passed_through(member_id: PathId, credentials: Credentials) -> Response:
        # PostgreSQL's JSON goes out as it is: no Python objects at all for the plan.
        actor = await cache.actor(credentials)
        if actor.role is Role.leader and actor.is_self(member_id):
            raw = await plan_json(engine, actor, member_id)
            return Response(raw, media_type="application/json")
        plan = await real_plan(actor, member_id)
        return Response(plan.model_dump_json(), media_type="application/json")


def create_app_with_lean_plan() -> FastAPI:
    """Coachbot (no pre-ping) plus the lean plan reads on LEAN_PLAN_PATH and LEAN_RAW_PLAN_PATH."""
    settings = Settings()
    engine = engine_without_pre_ping(settings)
    app = serve(settings, engine)
    add_lean_plan_route(app, engine)
    return app
