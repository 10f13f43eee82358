"""What-if variants of the Coachbot API, served by the benchmark next to the real thing.

Each factory builds the real app through `create_api(settings, engine)` and changes one
thing the profile points at, so the benchmark can put a number on a suggested fix before
anyone edits the application. They are experiments, not the product: the main results
always come from `api_apps:create_coachbot_api`.
"""

from __future__ import annotations

from collections import defaultdict

from api_apps import serve
from fastapi import FastAPI
from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.config import Settings
from services.db import create_engine
from services.plans import service as plans_service
from services.plans.models import ProgressUpdate, ProgressUpdatePublic


def engine_without_pre_ping(settings: Settings) -> AsyncEngine:
    size = settings.database_pool_size
    return create_async_engine(
        settings.database_url, pool_size=size, max_overflow=size, pool_pre_ping=False
    )


async def _recent_progress_by_goal(
    session: AsyncSession, goal_ids: list[int | None]
) -> dict[int, list[ProgressUpdatePublic]]:
    # The window ranks whole rows of the wanted goals only: no `id IN (subquery)` semi-join,
    # which PostgreSQL answers with a sequential scan of every workspace's progress updates.
    if not goal_ids:
        return {}
    ranked = (
        core_select(
            ProgressUpdate,
            func.row_number()
            .over(partition_by=col(ProgressUpdate.goal_id), order_by=col(ProgressUpdate.id).desc())
            .label("rank"),
        )
        .where(col(ProgressUpdate.goal_id).in_(goal_ids))
        .subquery()
    )
    recent = (
        core_select(ranked)
        .where(ranked.c.rank <= plans_service.RECENT_PROGRESS_PER_GOAL)
        .order_by(ranked.c.id.desc())
    )
    rows = (await session.execute(recent)).mappings().all()
    grouped: dict[int, list[ProgressUpdatePublic]] = defaultdict(list)
    for row in rows:
        grouped[row["goal_id"]].append(ProgressUpdatePublic.model_validate(dict(row)))
    return grouped


def create_app_without_pre_ping() -> FastAPI:
    """Coachbot with `pool_pre_ping=False`: no extra round trip per pool checkout."""
    settings = Settings()
    return serve(settings, engine_without_pre_ping(settings))


def create_app_with_indexed_recent_progress() -> FastAPI:
    """Coachbot whose plan read fetches recent progress through the goal_id index only."""
    plans_service._recent_progress = _recent_progress_by_goal
    settings = Settings()
    return serve(
        settings, create_engine(settings.database_url, pool_size=settings.database_pool_size)
    )


def create_app_with_both() -> FastAPI:
    """Both changes above together."""
    plans_service._recent_progress = _recent_progress_by_goal
    settings = Settings()
    return serve(settings, engine_without_pre_ping(settings))
