"""Broadcast fixtures: the REST API with the broadcast routes (until the API factory
includes them) and a client for it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import create_api
from services.config import Settings
from tests.broadcasts.world import with_broadcast_routes


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine, sessions: object) -> FastAPI:
    return with_broadcast_routes(create_api(settings, engine))
