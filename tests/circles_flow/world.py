"""The API world of tests/api/world.py plus a circle series with one formed round, and the
circles API mounted on the app the way the composition root mounts it."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.app import API_PREFIX
from services.api.deps import forbid_unknown_query
from services.circles.models import (
    Circle,
    CircleBlock,
    CircleMember,
    CircleRound,
    CircleSeries,
    RoundStatus,
)
from services.circles.routes import router
from services.people.models import EnrollmentRole, Member, Workspace
from tests.api.world import World, build_world
from tests.circles_flow.factories import FIRST_ROUND, START
from tests.factories.people import enrol, make_member


def mount_circles(app: FastAPI) -> FastAPI:
    """Include the circles router under /api/v1, as create_api will."""
    if not any(getattr(r, "original_router", None) is router for r in app.routes):
        app.include_router(router, prefix=API_PREFIX, dependencies=[Depends(forbid_unknown_query)])
    return app


@dataclass
class CircleWorld:
    base: World
    workspace: Workspace
    series: CircleSeries
    circle: Circle
    peers: list[Member]
    block: CircleBlock

    @property
    def keys(self) -> dict[str, dict[str, str]]:
        return self.base.keys


async def build_circle_world(session: AsyncSession) -> CircleWorld:
    """`leader` and two peers share a circle in round 1 of the cohort's series; `leader`
    privately blocks a third leader of the cohort."""
    base = await build_world(session)
    workspace_id = base.cohort.workspace_id
    workspace = await session.get(Workspace, workspace_id)
    assert workspace is not None
    peers = []
    for name in ("Pia Peer", "Quin Peer", "Ray Elsewhere"):
        peer = await make_member(session, workspace, name=name)
        await enrol(session, base.cohort, peer, EnrollmentRole.leader)
        peers.append(peer)
    series = CircleSeries(
        workspace_id=workspace_id,
        cohort_id=base.cohort.id or 0,
        name="Lab circles",
        group_size=3,
        start_date=START,
    )
    session.add(series)
    await session.flush()
    circle_round = CircleRound(
        series_id=series.id or 0,
        number=1,
        scheduled_for=FIRST_ROUND,
        status=RoundStatus.formed,
        formed_at=FIRST_ROUND,
    )
    session.add(circle_round)
    await session.flush()
    circle = Circle(
        workspace_id=workspace_id,
        round_id=circle_round.id or 0,
        explanation="different teams (A, B)",
    )
    session.add(circle)
    await session.flush()
    session.add_all(
        CircleMember(circle_id=circle.id or 0, member_id=m.id or 0)
        for m in (base.leader, peers[0], peers[1])
    )
    block = CircleBlock(
        workspace_id=workspace_id, blocker_id=base.leader.id or 0, blocked_id=peers[2].id or 0
    )
    session.add(block)
    await session.commit()
    return CircleWorld(
        base=base, workspace=workspace, series=series, circle=circle, peers=peers, block=block
    )
