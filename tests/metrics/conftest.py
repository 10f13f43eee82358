"""Metrics fixtures: the REST API with the metrics routes (until the API factory includes
them)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import create_api
from services.config import Settings
from tests.metrics.world import with_metric_routes


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine, sessions: object) -> FastAPI:
    return with_metric_routes(create_api(settings, engine))
