"""Broadcast fixtures: the Slack stand-in fixtures come from tests/slack; the REST API gets
the broadcast routes (until the API factory includes them)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import create_api
from services.config import Settings
from tests.broadcasts.world import with_broadcast_routes
from tests.slack.conftest import http, leader, sandbox, stranger, web

__all__ = ["http", "leader", "sandbox", "stranger", "web"]


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine, sessions: object) -> FastAPI:
    return with_broadcast_routes(create_api(settings, engine))
