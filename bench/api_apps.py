"""ASGI factories the API benchmark serves with uvicorn (`--app-dir bench --factory`).

`create_bare_app` is the yardstick: a FastAPI app with one route returning a small JSON
dict, no middleware, no database. `create_coachbot_api` is Coachbot's REST API exactly as
`services.api.app.create_api` builds it, on the engine `bot.main` would make from the same
settings; the Slack transport that `bot.main:create_app` mounts beside it (and its local
Slack stand-in) is left out, so the figures are the API's alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import create_api
from services.config import Settings
from services.db import create_engine


def create_bare_app() -> FastAPI:
    """FastAPI with one JSON route: the ceiling any endpoint served the same way can reach."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"status": "ok", "service": "bare"}

    return app


def serve(settings: Settings, engine: AsyncEngine) -> FastAPI:
    """The REST API on `engine`, which is disposed of when the server stops."""
    app = create_api(settings, engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app.router.lifespan_context = lifespan
    return app


def create_coachbot_api() -> FastAPI:
    """Coachbot's REST API from the environment's settings, as the product configures it."""
    settings = Settings()
    return serve(
        settings, create_engine(settings.database_url, pool_size=settings.database_pool_size)
    )
