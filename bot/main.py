"""Composition root: settings → engine → REST API + Slack transport (+ in-process delivery)."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime import BackgroundWork, startup_objects_frozen
from bot.transport import SlackTransport, mount_slack
from services.api.app import create_api
from services.config import Settings
from services.db import create_engine

log = logging.getLogger("coachbot")


def create_app(settings: Settings | None = None, *, console: TextIO | None = sys.stdout) -> FastAPI:
    """Build the whole web application from settings."""
    settings = settings or Settings()
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    app = create_api(settings, engine)
    transport = SlackTransport(
        settings, engine=engine, sessions=app.state.sessions, console=console
    )
    app.state.slack = transport
    mount_slack(app, transport)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await transport.start()
        background = _background_work(settings, transport, engine)
        app.state.background = background
        if background is not None:
            await background.start()
        try:
            with startup_objects_frozen():
                yield
        finally:
            if background is not None:
                await background.stop()
            await transport.stop()
            await engine.dispose()

    app.router.lifespan_context = lifespan
    return app


def _background_work(
    settings: Settings, transport: SlackTransport, engine: AsyncEngine
) -> BackgroundWork | None:
    if not settings.runs_worker_in_process:
        return None
    if transport.bot_token is None:
        log.warning("OAuth installs: run `coachbot worker` per workspace token for delivery")
        return None
    return BackgroundWork(
        settings,
        engine=engine,
        sessions=transport.sessions,
        token=transport.bot_token,
        api_url=transport.api_url,
    )
