"""The `coachbot` command line, run as a person would run it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from services.db import create_engine
from tests.database import create_database, drop_database

ROSTER_HEADER = "slack_user_id,email,name,timezone,team,level,region,role\n"


@pytest.fixture
async def cli_db(tmp_path: Path) -> AsyncIterator[str]:
    url = await create_database(tmp_path)
    yield url
    await drop_database(url)


async def coachbot(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COACHBOT_DATABASE_URL": url}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def scalar(url: str, query: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text(query))).scalar())
    finally:
        await engine.dispose()


async def count(url: str, table: str) -> int:
    return await scalar(url, f"SELECT count(*) FROM {table}")


async def test_migrate_demo_and_keys(cli_db: str) -> None:
    assert (await coachbot(cli_db, "migrate")).returncode == 0
    first = await coachbot(cli_db, "demo")
    second = await coachbot(cli_db, "demo")
    assert "created" in first.stdout and "already present" in second.stdout
    assert await count(cli_db, "member") == 15
    assert await count(cli_db, "enrollment") == 15
    assert await count(cli_db, "coach_assignment") == 12
    assert await count(cli_db, "goal") == 24

    created = await coachbot(cli_db, "keys", "create", "--role", "leader", "--member", "4")
    assert created.returncode == 0, created.stderr
    raw = created.stdout.strip().splitlines()[-1].split()[-1]
    assert raw.startswith("cb_")
    listed = await coachbot(cli_db, "keys", "list")
    assert "leader" in listed.stdout and raw not in listed.stdout
    assert (await coachbot(cli_db, "keys", "revoke", "1")).returncode == 0
    assert "revoked" in (await coachbot(cli_db, "keys", "list")).stdout

    refused = await coachbot(cli_db, "keys", "create", "--role", "coach")
    assert refused.returncode == 2 and "needs --member" in refused.stderr


async def test_import_reports_bad_rows_by_line_and_writes_nothing(
    cli_db: str, tmp_path: Path
) -> None:
    await coachbot(cli_db, "migrate")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        ROSTER_HEADER
        + "U0000001,a@example.com,Ana,Europe/Paris,Sales,L4,EMEA,leader\n"
        + "U0000002,not-an-email,Ben,Europe/Paris,Ops,L4,EMEA,leader\n"
        + "U0000003,c@example.com,Cy,Mars/Base,Ops,L5,EMEA,coach\n"
        + "U0000001,d@example.com,Dup,UTC,Ops,L5,EMEA,leader\n"
        + "U0000005,e@example.com,Eve,Asia/Kathmandu,Ops,L5,APAC,pilot\n"
    )
    result = await coachbot(cli_db, "import", str(roster))
    assert result.returncode == 1
    for line in (3, 4, 5, 6):
        assert f"roster.csv:{line}:" in result.stderr
    assert "nothing imported" in result.stderr
    assert await count(cli_db, "member") == 0

    skipped = await coachbot(cli_db, "import", str(roster), "--skip-invalid")
    assert skipped.returncode == 0, skipped.stderr
    assert "1 created" in skipped.stdout and "4 skipped" in skipped.stdout
    assert "importing" in skipped.stderr  # the progress bar
    assert await count(cli_db, "member") == 1


async def test_import_into_a_cohort_updates_existing_members(cli_db: str, tmp_path: Path) -> None:
    await coachbot(cli_db, "migrate")
    await coachbot(cli_db, "demo")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        ROSTER_HEADER
        + "UDEMOLEAD01,ada@example.com,Ada Renamed,Europe/Lisbon,Sales,L5,EMEA,leader\n"
        + "UNEWCOACH1,nc@example.com,New Coach,America/Chicago,,,AMER,coach\n"
    )
    result = await coachbot(cli_db, "import", str(roster), "--cohort", "1")
    assert result.returncode == 0, result.stderr
    assert "1 created, 1 updated, 1 enrolled" in result.stdout
    assert await count(cli_db, "enrollment") == 16


async def test_circles_preview_prints_rounds_as_json(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "slack_user_id,email,name,timezone,team,level,region\n"
        + "".join(
            f"U{n:07d},p{n}@example.com,P{n},Europe/London,T{n % 3},L{n % 2},EMEA\n"
            for n in range(9)
        )
    )
    result = await coachbot(
        "sqlite+aiosqlite:///unused.db",
        "circles",
        "preview",
        "--roster",
        str(roster),
        "--rounds",
        "3",
        "--size",
        "2",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    rounds = json.loads(result.stdout)["rounds"]
    assert len(rounds) == 3
    for groups in rounds:
        placed = sorted(member for group in groups for member in group)
        assert placed == [f"U{n:07d}" for n in range(9)]  # nobody left out, nobody twice
    # The preview never touches the database.
    assert not await asyncio.to_thread(Path("unused.db").exists)


async def test_nudge_draft_and_kpi_import_run_from_the_command_line(
    cli_db: str, tmp_path: Path
) -> None:
    await coachbot(cli_db, "migrate")
    await coachbot(cli_db, "demo")
    leader = await scalar(cli_db, "SELECT id FROM member WHERE slack_user_id = 'UDEMOLEAD01'")
    drafted = await coachbot(cli_db, "nudges", "draft", "--member", str(leader))
    assert drafted.returncode == 0, drafted.stdout + drafted.stderr
    assert "Source: offline" in drafted.stdout and "Not sent" in drafted.stdout
    assert await count(cli_db, "nudge") == 0  # a draft without --send stores nothing

    kpis = tmp_path / "kpis.csv"
    kpis.write_text(
        "cohort_id,member,metric,date,value,unit\n"
        "1,,engagement score,2026-01-05,71,points\n"
        "1,,engagement score,not-a-date,72,points\n"
    )
    refused = await coachbot(cli_db, "kpis", "import", str(kpis))
    assert refused.returncode == 1
    assert f"{kpis}:3:" in refused.stderr and "nothing imported" in refused.stderr
    kept = await coachbot(cli_db, "kpis", "import", str(kpis), "--skip-invalid")
    assert kept.returncode == 0, kept.stderr
    assert await count(cli_db, "kpi_value") == 1
