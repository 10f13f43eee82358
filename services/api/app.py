"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.deps import forbid_unknown_query, json_types_match
from services.api.limits import BodySizeLimit
from services.api.problems import PROBLEM_RESPONSES, install_problem_handlers, problem
from services.broadcasts.routes import router as broadcasts_router
from services.checkins.routes import router as checkins_router
from services.circles.routes import router as circles_router
from services.config import Settings
from services.db import create_sessionmaker
from services.metrics.routes import router as metrics_router
from services.nudges.routes import router as nudges_router
from services.people.routes import router as people_router
from services.plans.routes import router as plans_router
from services.privacy.routes import router as privacy_router

API_PREFIX = "/api/v1"


def create_api(settings: Settings, engine: AsyncEngine) -> FastAPI:
    """Build the REST API on the given engine; the caller owns the engine's lifetime."""
    app = FastAPI(
        title="Coachbot API",
        version="1.0.0",
        description="Action plans, cohorts and people for leadership-development programs.",
        responses=PROBLEM_RESPONSES,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = create_sessionmaker(engine)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    routers = (
        people_router,
        plans_router,
        privacy_router,
        checkins_router,
        circles_router,
        nudges_router,
        broadcasts_router,
        metrics_router,
    )
    checks = [Depends(forbid_unknown_query), Depends(json_types_match)]
    for router in routers:
        app.include_router(router, prefix=API_PREFIX, dependencies=checks)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], response_model=None)
    async def readyz() -> object:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # any database failure means "not ready", never a crash
            return problem(503, "the database is not reachable")
        return {"status": "ready"}

    return app
