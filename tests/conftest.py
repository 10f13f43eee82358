"""Shared fixtures: a migrated database per test session, cleaned after every test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

import services.models  # noqa: F401  (every table on the metadata)
from services.api.app import create_api
from services.config import Settings
from services.db import create_engine, create_sessionmaker
from services.schema import upgrade
from tests.database import BACKEND, clean_database, create_database, drop_database


def pytest_report_header() -> str:
    return f"coachbot test database: {BACKEND}"


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    url = await create_database(tmp_path_factory.mktemp("db"))
    await asyncio.to_thread(upgrade, url)
    yield url
    await drop_database(url)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sessions(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A sessionmaker on the test database; every row is gone again after the test."""
    yield create_sessionmaker(engine)
    await clean_database(engine)


@pytest.fixture
async def session(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session for arranging and checking rows; commit what the app must see."""
    async with sessions() as session:
        yield session


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(COACHBOT_DATABASE_URL=database_url, COACHBOT_ENV="test")


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine, sessions: object) -> FastAPI:
    return create_api(settings, engine)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://coachbot.test") as client:
        yield client


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path
