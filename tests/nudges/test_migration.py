"""Migration 0006: nudges from before it get an outcome from what they kept, and back."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from services.db import create_engine
from services.schema import downgrade, upgrade
from tests.database import create_database, drop_database

CREATED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# source, model, attempts → outcome, llm_model
OLD_NUDGES = [
    ("llm", "gpt-4o-mini", 1, "ok", "gpt-4o-mini"),
    ("llm", "gpt-4o-mini", 2, "ok_after_retry", "gpt-4o-mini"),
    ("offline", "offline", 1, "offline", None),
    ("offline", "offline", 3, "fallback", None),
]


async def _execute(url: str, statement: str, rows: list[dict[str, Any]] | None = None) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement), rows or [{}])
    finally:
        await engine.dispose()


async def _fetch(url: str, statement: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in (await connection.execute(text(statement))).all()]
    finally:
        await engine.dispose()


async def _nudge_columns(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(lambda sync: inspect(sync).get_columns("nudge"))
    finally:
        await engine.dispose()
    return {column["name"] for column in columns}


async def _seed_old_nudges(url: str) -> None:
    await _execute(url, "INSERT INTO workspace (id, slack_team_id, name, created_at) "
                        "VALUES (1, 'T1', 'Acme', :at)", [{"at": CREATED}])
    await _execute(url, "INSERT INTO member (id, workspace_id, slack_user_id, name, timezone, "
                        "created_at, updated_at) "
                        "VALUES (1, 1, 'U1', 'Maya Patel', 'UTC', :at, :at)", [{"at": CREATED}])
    await _execute(
        url,
        "INSERT INTO nudge (id, workspace_id, member_id, dedupe_key, text, source, model, "
        "attempts, status, local_date, created_at) VALUES (:id, 1, 1, :key, 'Hi Maya', "
        ":source, :model, :attempts, 'sent', :day, :at)",
        [{"id": n, "key": f"old:{n}", "source": source, "model": model, "attempts": attempts,
          "day": date(2026, 11, 23), "at": CREATED}
         for n, (source, model, attempts, _, _) in enumerate(OLD_NUDGES, start=1)],
    )


async def test_old_nudges_get_an_outcome_and_the_downgrade_drops_it(tmp_path: Path) -> None:
    url = await create_database(tmp_path)
    try:
        await asyncio.to_thread(upgrade, url, "0005")
        await _seed_old_nudges(url)

        await asyncio.to_thread(upgrade, url, "0006")
        rows = await _fetch(url, "SELECT outcome, llm_model, attempt_log FROM nudge ORDER BY id")
        assert rows == [(outcome, llm_model, None) for *_, outcome, llm_model in OLD_NUDGES]

        await asyncio.to_thread(downgrade, url, "0005")
        assert {"outcome", "llm_model", "attempt_log"}.isdisjoint(await _nudge_columns(url))
        assert len(await _fetch(url, "SELECT id FROM nudge")) == len(OLD_NUDGES)
    finally:
        await drop_database(url)
