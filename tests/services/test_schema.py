"""Migrations: upgrade → downgrade → upgrade on a fresh database, and no drift from the models."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import inspect

from services.db import create_engine
from services.schema import check, downgrade, upgrade
from tests.database import create_database, drop_database

EXPECTED_TABLES = {
    "workspace",
    "member",
    "cohort",
    "enrollment",
    "coach_assignment",
    "goal",
    "milestone",
    "progress_update",
    "api_key",
    "audit_event",
}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


async def test_upgrade_downgrade_upgrade_and_no_drift(tmp_path: Path) -> None:
    url = await create_database(tmp_path)
    try:
        await asyncio.to_thread(upgrade, url)
        assert await _tables(url) >= EXPECTED_TABLES
        await asyncio.to_thread(downgrade, url, "base")
        assert await _tables(url) == set()
        await asyncio.to_thread(upgrade, url)
        assert await _tables(url) >= EXPECTED_TABLES
        # Raises if autogenerate would find any difference between models and migrations.
        await asyncio.to_thread(check, url)
    finally:
        await drop_database(url)
