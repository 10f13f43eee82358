"""Composition root: settings → engine → REST API + Slack transport (+ in-process delivery)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

from fastapi import FastAPI

from bot.transport import SlackTransport, mount_slack
from services.api.app import create_api
from services.config import Settings
from services.db import create_engine


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
        try:
            yield
        finally:
            await transport.stop()
            await engine.dispose()

    app.router.lifespan_context = lifespan
    return app
