"""Test databases: a SQLite file, or a fresh PostgreSQL database per run (dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

BACKEND = os.environ.get("COACHBOT_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get("COACHBOT_TEST_POSTGRES_URL")


def _asyncpg_dsn(url: str, database: str) -> str:
    parsed = make_url(url).set(drivername="postgresql", database=database)
    return parsed.render_as_string(hide_password=False)


async def create_database(tmp_dir: Path) -> str:
    """A new, empty database on the backend under test; returns its SQLAlchemy URL."""
    if BACKEND == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_dir / f'coachbot-{uuid.uuid4().hex[:8]}.db'}"
    if BACKEND != "postgres" or not POSTGRES_URL:
        raise RuntimeError("COACHBOT_TEST_DATABASE=postgres needs COACHBOT_TEST_POSTGRES_URL")
    base = make_url(POSTGRES_URL)
    name = f"coachbot_test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL, base.database or "postgres"))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return base.set(drivername="postgresql+asyncpg", database=name).render_as_string(
        hide_password=False
    )


async def drop_database(url: str) -> None:
    """Drop a database made by create_database (SQLite files go with the tmp dir)."""
    if not url.startswith("postgresql") or not POSTGRES_URL:
        return
    name = make_url(url).database
    base = make_url(POSTGRES_URL)
    connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL, base.database or "postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def clean_database(engine: AsyncEngine) -> None:
    """Delete every row, keeping the schema (much faster than re-migrating per test).

    DELETE beats TRUNCATE here: the tables hold a handful of rows, and TRUNCATE rewrites
    every table's files on PostgreSQL.
    """
    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
    async with engine.begin() as connection:
        for name in tables:
            await connection.execute(text(f'DELETE FROM "{name}"'))
