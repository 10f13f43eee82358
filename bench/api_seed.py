"""The API benchmark's scratch PostgreSQL database: create, migrate, seed, drop."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel.ext.asyncio.session import AsyncSession

import services.models  # noqa: F401  (every table on the metadata)
from services.auth.models import Role
from services.auth.service import create_key
from services.db import create_engine, create_sessionmaker
from services.people.models import Cohort, Enrollment, EnrollmentRole, Member, Workspace
from services.plans.models import Goal, Milestone, ProgressUpdate
from services.schema import upgrade

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
GOALS = 5
MILESTONES_PER_GOAL = 5
PROGRESS_PER_GOAL = 5
TODAY = date(2026, 3, 2)


@dataclass(frozen=True)
class Seeded:
    """What the load scenarios need: the leader, one of their goals, and their bearer key."""

    member_id: int
    goal_id: int
    raw_key: str
    leaders: int


def scratch_url(admin_url: str) -> tuple[str, str]:
    """A fresh database name on the admin URL's server and the app's URL for it."""
    base = make_url(admin_url)
    if base.host not in LOOPBACK_HOSTS:
        raise SystemExit(f"the benchmark only targets loopback, not {base.host!r}")
    name = f"coachbot_bench_{secrets.token_hex(6)}"
    url = base.set(drivername="postgresql+asyncpg", database=name)
    return name, url.render_as_string(hide_password=False)


def _admin_dsn(admin_url: str) -> str:
    return make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(_admin_dsn(admin_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(_admin_dsn(admin_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def _goal(workspace_id: int, member_id: int, goal_no: int) -> Goal:
    return Goal(
        workspace_id=workspace_id,
        member_id=member_id,
        title=f"Goal {goal_no + 1}: delegate decisions to the team",
        why="My team waits for me on calls they could make themselves.",
        competency="delegation",
    )


async def seed_leader_with_plan(
    session: AsyncSession, workspace: Workspace, cohort: Cohort, n: int
) -> tuple[int, int]:
    member = Member(
        workspace_id=workspace.id or 0,
        slack_user_id=f"U{n:08d}",
        name=f"Leader {n}",
        timezone="Europe/London",
    )
    session.add(member)
    await session.flush()
    session.add(
        Enrollment(
            workspace_id=workspace.id or 0,
            cohort_id=cohort.id or 0,
            member_id=member.id or 0,
            role=EnrollmentRole.leader,
        )
    )
    goals = [_goal(workspace.id or 0, member.id or 0, g) for g in range(GOALS)]
    session.add_all(goals)
    await session.flush()
    for goal in goals:
        for m in range(MILESTONES_PER_GOAL):
            session.add(
                Milestone(
                    workspace_id=goal.workspace_id,
                    goal_id=goal.id or 0,
                    title=f"Milestone {m + 1}",
                    position=m,
                    due_date=TODAY + timedelta(days=14 * (m - 1)),
                )
            )
        for p in range(PROGRESS_PER_GOAL):
            session.add(
                ProgressUpdate(
                    workspace_id=goal.workspace_id,
                    goal_id=goal.id or 0,
                    member_id=member.id or 0,
                    note=f"Week {p + 1}: handed the weekly review to my deputy.",
                    confidence=3 + p % 3,
                )
            )
    await session.flush()
    return member.id or 0, goals[0].id or 0


async def seed(url: str, *, leaders: int) -> Seeded:
    """Migrate and fill the database: `leaders` leaders, each with 5 goals × 5 milestones."""
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            workspace = Workspace(slack_team_id="TBENCH0001", name="Bench")
            session.add(workspace)
            await session.flush()
            cohort = Cohort(workspace_id=workspace.id or 0, name="Bench cohort")
            session.add(cohort)
            await session.flush()
            member_id, goal_id = await seed_leader_with_plan(session, workspace, cohort, 1)
            for n in range(2, leaders + 1):
                await seed_leader_with_plan(session, workspace, cohort, n)
            _, raw = await create_key(
                session=session,
                workspace_id=workspace.id or 0,
                role=Role.leader,
                member_id=member_id,
                label="bench",
            )
            await session.commit()
        async with engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
        return Seeded(member_id=member_id, goal_id=goal_id, raw_key=raw, leaders=leaders)
    finally:
        await engine.dispose()


def _app_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def server_version(url: str) -> str:
    connection = await asyncpg.connect(_app_dsn(url))
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


async def progress_rows(url: str) -> tuple[int, int]:
    """How many progress updates there are, and the highest id."""
    connection = await asyncpg.connect(_app_dsn(url))
    try:
        row = await connection.fetchrow(
            "SELECT count(*), coalesce(max(id), 0) FROM progress_update"
        )
        assert row is not None
        return int(row[0]), int(row[1])
    finally:
        await connection.close()


async def reset_progress(url: str, *, keep_up_to: int) -> None:
    """Drop the updates a write scenario added, so every round reads the same tables."""
    connection = await asyncpg.connect(_app_dsn(url))
    try:
        await connection.execute("DELETE FROM progress_update WHERE id > $1", keep_up_to)
        await connection.execute("VACUUM ANALYZE progress_update")
    finally:
        await connection.close()


async def grow_progress(url: str, *, rows: int, spare_member_id: int) -> None:
    """Add about `rows` progress updates to other leaders' goals, none to the measured plan."""
    connection = await asyncpg.connect(_app_dsn(url))
    try:
        goals = int(
            await connection.fetchval(
                "SELECT count(*) FROM goal WHERE member_id <> $1", spare_member_id
            )
        )
        if not goals or rows <= 0:
            return
        await connection.execute(
            """
            INSERT INTO progress_update
                (workspace_id, goal_id, member_id, note, confidence, source, created_at)
            SELECT goal.workspace_id, goal.id, goal.member_id,
                   'Bulk update ' || step, 3, 'api', now()
            FROM generate_series(1, $1::int) AS step
            CROSS JOIN goal
            WHERE goal.member_id <> $2
            """,
            max(1, rows // goals),
            spare_member_id,
        )
        await connection.execute("VACUUM ANALYZE progress_update")
    finally:
        await connection.close()
