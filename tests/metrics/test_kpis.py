"""Business KPI import (API and command line): per-row validation with line numbers,
nothing written unless every row is good (or bad ones are skipped), and the before/after
comparison beside the engagement metrics."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.metrics.cli import import_kpi_file
from services.metrics.models import KpiValue
from tests.metrics.test_kanon import metrics
from tests.metrics.world import Cohorts, build_cohort

TODAY = date(2025, 3, 12)


@pytest.fixture
async def world(session: AsyncSession) -> Cohorts:
    world = await build_cohort(session, leaders=6)
    for n, member in enumerate(world.leaders):
        member.email = f"leader{n}@example.com"
        session.add(member)
    await session.commit()
    return world


async def stored(session: AsyncSession) -> int:
    return int((await session.exec(select(func.count()).select_from(KpiValue))).one())


def good_file(world: Cohorts) -> str:
    lee, ann = world.leaders[0], world.leaders[1]
    return (
        "cohort_id,member,metric,date,value,unit\n"
        f"{world.cohort.id},,engagement score,2025-01-15,60,points\n"
        f"{world.cohort.id},,engagement score,2025-02-28,72.5,points\n"
        f",{lee.slack_user_id},revenue,2025-01-31,125000,USD\n"
        f",{ann.email},revenue,2025-01-31,98000,USD\n"
    )


async def post(client: httpx.AsyncClient, world: Cohorts, text: str,
               query: str = "") -> httpx.Response:
    return await client.post(f"/api/v1/kpis/import{query}", content=text.encode(),
                             headers={**world.keys["owner"], "Content-Type": "text/csv"})


async def test_a_good_file_is_imported_and_a_second_import_replaces_same_day_values(
    client: httpx.AsyncClient, world: Cohorts, session: AsyncSession
) -> None:
    response = await post(client, world, good_file(world))
    assert response.status_code == 200, response.text
    assert response.json() == {"rows": 4, "written": 4, "skipped": 0, "errors": []}
    again = await post(client, world, good_file(world).replace("72.5", "75"))
    assert again.json()["written"] == 4
    assert await stored(session) == 4
    values = (await session.exec(select(KpiValue.value).where(
        col(KpiValue.day) == date(2025, 2, 28)))).all()
    assert values == [75.0]


BAD_ROWS = [
    ("{c},,score,2025-13-01,1,points", "date", "'2025-13-01' is not a date"),
    ("{c},,score,01/02/2025,1,points", "date", "written YYYY-MM-DD"),
    ("{c},,score,2099-01-01,1,points", "date", "in the future"),
    ("{c},,score,2025-01-01,12%,points", "value", "not a plain number"),
    ("{c},,score,2025-01-01,\"1,200\",points", "value", "thousands separators"),
    ("{c},,score,2025-01-01,$5,points", "value", "currency signs"),
    ("{c},,score,2025-01-01,nan,points", "value", "not a plain number"),
    ("{c},,score,2025-01-01,5,kg", "unit", "differs from 'points'"),
    ("{c},,score,2025-01-01,5,", "unit", "differs from 'points'"),
    ("{c},,score,2025-01-01,5,<script>", "unit", "must be 1-30"),
    ("{c},{m},score,2025-01-01,5,points", "cohort_id", "exactly one"),
    (",,score,2025-01-01,5,points", "cohort_id", "exactly one"),
    ("999999,,score,2025-01-01,5,points", "cohort_id", "cohort 999999 not found"),
    (",U0NOBODY,score,2025-01-01,5,points", "member", "not found"),
    (",not a person,score,2025-01-01,5,points", "member", "neither a Slack user id"),
    ("{c},,,2025-01-01,5,points", "metric", "metric ''"),
    ("{c},,score,2025-01-02,5,points", "date", "repeats line 2"),
]


@pytest.mark.parametrize(("row", "field", "says"), BAD_ROWS,
                         ids=[f"{case[1]}-{n}" for n, case in enumerate(BAD_ROWS)])
async def test_one_bad_row_stops_the_whole_file_with_its_line_number(
    client: httpx.AsyncClient, world: Cohorts, session: AsyncSession,
    row: str, field: str, says: str,
) -> None:
    text = ("cohort_id,member,metric,date,value,unit\n"
            f"{world.cohort.id},,score,2025-01-02,4,points\n"
            + row.format(c=world.cohort.id, m=world.leaders[0].slack_user_id) + "\n"
            f"{world.cohort.id},,score,2025-01-03,6,points\n")
    response = await post(client, world, text)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"] == "1 invalid row(s); nothing was imported"
    [error] = body["errors"]
    assert error["line"] == 3 and error["field"] == field
    assert says in error["message"]
    assert await stored(session) == 0


async def test_skip_invalid_writes_the_good_rows_and_reports_the_bad(
    client: httpx.AsyncClient, world: Cohorts, session: AsyncSession
) -> None:
    text = good_file(world) + f"{world.cohort.id},,engagement score,someday,1,points\n"
    refused = await post(client, world, text)
    assert refused.status_code == 422
    response = await post(client, world, text, "?skip_invalid=true")
    assert response.status_code == 200
    report = response.json()
    assert (report["rows"], report["written"], report["skipped"]) == (5, 4, 1)
    assert report["errors"][0]["line"] == 6
    assert await stored(session) == 4


@pytest.mark.parametrize(("text", "says"), [
    ("metric,date,value\nx,2025-01-01,1\n", "cohort_id or member"),
    ("cohort_id,metric,date,value,colour\n1,x,2025-01-01,1,red\n", "unknown column(s): colour"),
    ("", "missing column(s)"),
])
async def test_a_file_with_the_wrong_columns_is_refused(
    client: httpx.AsyncClient, world: Cohorts, text: str, says: str
) -> None:
    response = await post(client, world, text)
    assert response.status_code == 422
    assert says in response.json()["detail"]


async def test_an_owner_cannot_import_for_cohorts_or_people_out_of_reach(
    client: httpx.AsyncClient, world: Cohorts, session: AsyncSession
) -> None:
    other = await build_cohort(session, leaders=1)
    text = (f"cohort_id,member,metric,date,value\n{other.cohort.id},,x,2025-01-01,1\n"
            f",{other.leaders[0].slack_user_id},x,2025-01-01,1\n")
    response = await post(client, world, text)
    assert [e["message"] for e in response.json()["errors"]] == [
        f"cohort {other.cohort.id} not found",
        f"member {other.leaders[0].slack_user_id!r} not found"]


async def test_the_command_line_import(
    world: Cohorts, sessions: async_sessionmaker[AsyncSession], session: AsyncSession,
    tmp_path: Path,
) -> None:
    path = tmp_path / "kpis.csv"
    path.write_text(good_file(world) + f"{world.cohort.id},,engagement score,2025-02-30,1,"
                    "points\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    status = await import_kpi_file(sessions=sessions, path=path, team_id=None,
                                   skip_invalid=False, today=TODAY, out=out, err=err)
    assert status == 1
    assert f"{path}:6: date '2025-02-30' is not a date written YYYY-MM-DD" in err.getvalue()
    assert "nothing imported" in err.getvalue()
    assert await stored(session) == 0
    status = await import_kpi_file(sessions=sessions, path=path,
                                   team_id=world.workspace.slack_team_id, skip_invalid=True,
                                   today=TODAY, out=out, err=err)
    assert status == 0
    assert "4 value(s) written, 1 row(s) skipped" in out.getvalue()
    assert await stored(session) == 4


async def test_kpis_before_and_after_the_start_beside_the_engagement_metrics(
    client: httpx.AsyncClient, world: Cohorts, session: AsyncSession
) -> None:
    lines = ["cohort_id,member,metric,date,value,unit",
             f"{world.cohort.id},,engagement score,2025-01-15,60,points",
             f"{world.cohort.id},,engagement score,2025-02-28,72,points"]
    # Revenue for four leaders before the start (too few to show), six after.
    for n, member in enumerate(world.leaders):
        if n < 4:
            lines.append(f",{member.slack_user_id},revenue,2025-01-31,{100 + n},USD")
        lines.append(f",{member.slack_user_id},revenue,2025-03-01,{110 + n},USD")
    response = await post(client, world, "\n".join(lines) + "\n")
    assert response.status_code == 200, response.text
    result = await metrics(session, world)
    kpis = {(k.metric, k.level): k for k in result.kpis}
    score = kpis[("engagement score", "cohort")]
    assert (score.before.mean, score.after.mean, score.change) == (60.0, 72.0, 12.0)
    revenue = kpis[("revenue", "members")]
    assert revenue.unit == "USD"
    assert revenue.before.suppressed and revenue.before.mean is None
    assert revenue.after.members == 6 and revenue.after.mean == 112.5
    assert revenue.change is None
