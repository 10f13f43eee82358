"""Composition root: settings → engine → REST API (and, with it, the Slack transport)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.api.app import create_api
from services.config import Settings
from services.db import create_engine


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the whole web application from settings."""
    settings = settings or Settings()
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    app = create_api(settings, engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app.router.lifespan_context = lifespan
    return app
