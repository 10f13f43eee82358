"""Check-in fixtures: the Slack stand-in fixtures come from tests/slack; the REST API gets
the check-in router (until the API factory includes it)."""

from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import create_api
from services.api.deps import forbid_unknown_query
from services.checkins.routes import router
from services.config import Settings
from tests.slack.conftest import http, leader, sandbox, stranger, web

__all__ = ["http", "leader", "sandbox", "stranger", "web"]


def with_checkins(app: FastAPI) -> FastAPI:
    """Include the check-in routes once."""
    # create_api already includes it; tests that build a bare app add it themselves.
    if not any(getattr(r, "original_router", None) is router for r in app.routes):
        app.include_router(router, prefix="/api/v1", dependencies=[Depends(forbid_unknown_query)])
    return app


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine, sessions: object) -> FastAPI:
    return with_checkins(create_api(settings, engine))
