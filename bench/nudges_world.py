"""The nudge benchmark's world: a seeded scratch database, the model stand-in in a process
of its own, and the cost of validating a draft. See bench/nudges.py."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
import re
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import services.models  # noqa: E402,F401  (every table on the metadata)
from services.db import transaction  # noqa: E402
from services.delivery.models import Delivery  # noqa: E402
from services.llm import (  # noqa: E402
    DATA_FENCE,
)
from services.nudges.models import Nudge, NudgePolicy  # noqa: E402
from services.nudges.schema import NudgeContext, NudgeDraft  # noqa: E402
from services.nudges.validation import validate_draft  # noqa: E402
from services.people.models import (  # noqa: E402
    Cohort,
    Enrollment,
    EnrollmentRole,
    Member,
    NudgeMode,
    Workspace,
)
from services.plans.models import (  # noqa: E402
    Goal,
    GoalStatus,
    Milestone,
    ProgressUpdate,
    Visibility,
)
from services.schema import upgrade_async  # noqa: E402
from tests.llm.openai_stand_in import (  # noqa: E402
    OpenAIStandIn,
    _prompt_tokens,
    completion_json,
)

DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2025, 3, 11, 9, 45, tzinfo=UTC)  # a Tuesday, after the default 09:30 slot
TODAY = NOW.date()
FENCE = re.compile(rf"<{DATA_FENCE}>\n(.*)\n</{DATA_FENCE}>", re.DOTALL)
FIRST = ("Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Indy",
         "Jordan", "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese",
         "Sage", "Taylor", "Umi", "Vale", "Wren", "Xan", "Yael")
LAST = ("Abbott", "Baptiste", "Chen", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad",
        "Ibrahim", "Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel",
        "Quispe", "Rossi", "Silva", "Tanaka", "Ueda", "Varga", "Wagner", "Xu", "Yilmaz",
        "Zhou", "Andersen", "Bauer", "Costa", "Dimitrov", "Evans", "Ferreira", "Gupta",
        "Hansen", "Ivanova", "Jovanovic", "Kim", "Larsen", "Mendes", "Novak")


# --- the cost of validating one draft ------------------------------------------------------


def validation_cost(prepared: list[NudgeContext], *, samples: int = 200) -> float:
    """Milliseconds to validate one grounded draft against a context of this workspace."""
    drafts = [
        NudgeDraft(text=f"Hi {context.leader_first_name}, a small step on your goal today keeps "
                        "it moving. What is the first ten minutes of it?",
                   cited_goal_id=context.goals[0].id, cited_milestone_id=None,
                   rationale="Nearest open milestone.", suggested_action="Ten minutes.")
        for context in prepared[:samples]
    ]
    started = time.perf_counter()
    for draft, context in zip(drafts, prepared, strict=False):
        assert validate_draft(draft=draft, context=context) == []
    return (time.perf_counter() - started) / len(drafts) * 1000


# --- the model stand-in, in its own process ----------------------------------------------


def serve_stand_in(conn: Connection, latency: float, bad_rate: float, seed: int) -> None:
    """Process entry: run the stand-in until told to stop, then report what it served."""
    asyncio.run(_serve(conn, latency, bad_rate, seed))


async def _serve(conn: Connection, latency: float, bad_rate: float, seed: int) -> None:
    rng = random.Random(seed)

    async def grounded(body: dict[str, Any], server: OpenAIStandIn) -> web.StreamResponse:
        await asyncio.sleep(latency)
        match = FENCE.search(str(body["messages"][1]["content"]))
        data = json.loads(match.group(1)) if match else {}
        goal = (data.get("goals") or [{"id": 0, "title": "?"}])[0]
        milestone = next((m for m in data.get("milestones", [])
                          if m["goal_id"] == goal["id"] and m["status"] != "done"), None)
        bad = rng.random() < bad_rate
        draft = {
            "text": f"Hi {data.get('leader_first_name', 'there')}, a small step on your goal "
                    f"today keeps it moving. What is the first ten minutes of it?",
            "cited_goal_id": 999_999_999 if bad else goal["id"],
            "cited_milestone_id": milestone["id"] if milestone and not bad else None,
            "rationale": "Nearest open milestone on an open goal.",
            "suggested_action": "Block ten minutes in your calendar for it today.",
        }
        return web.json_response(completion_json(content=json.dumps(draft),
                                                 prompt_tokens=_prompt_tokens(body)))

    server = OpenAIStandIn(default=grounded)
    conn.send(await server.start())
    while True:
        command = await asyncio.to_thread(conn.recv)
        if command == "stats":
            conn.send({"requests": len(server.chat_requests),
                       "max_in_flight": server.max_in_flight})
            server.requests.clear()
            server.max_in_flight = 0
        else:
            break
    await server.close()


class StandIn:
    def __init__(self, *, latency: float, bad_rate: float, seed: int = 7) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve_stand_in,
                                        args=(child, latency, bad_rate, seed), daemon=True)
        self._process.start()
        self.base_url: str = self._conn.recv()

    def stats(self) -> dict[str, int]:
        self._conn.send("stats")
        result: dict[str, int] = self._conn.recv()
        return result

    def stop(self) -> None:
        self._conn.send("stop")
        self._process.join(timeout=10)


# --- scratch database and seed -----------------------------------------------------------


@asynccontextmanager
async def scratch_database(server: str) -> AsyncIterator[str]:
    """A new, migrated database on `server` (or a scratch SQLite file), dropped afterwards."""
    if server.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="coachbot-bench-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            await upgrade_async(url)
            yield url
        return
    base = make_url(server)
    name = f"coachbot_bench_{uuid.uuid4().hex[:10]}"
    admin = base.set(drivername="postgresql", database=base.database or "postgres")
    dsn = admin.render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = base.set(drivername="postgresql+asyncpg", database=name).render_as_string(
        hide_password=False)
    try:
        await upgrade_async(url)
        yield url
    finally:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


async def seed(sessions: async_sessionmaker[AsyncSession], leaders: int) -> None:
    """One auto-mode cohort of `leaders` leaders, each with two goals, milestones and a note."""
    async with transaction(sessions) as session:
        workspace = Workspace(slack_team_id="T0BENCH", name="Bench")
        session.add(workspace)
        await session.flush()
        wid = workspace.id or 0
        cohort = Cohort(workspace_id=wid, name="Bench cohort", nudge_mode=NudgeMode.auto)
        session.add(cohort)
        await session.flush()
        session.add(NudgePolicy(cohort_id=cohort.id or 0, weekday=1,
                                local_time=clock_time(9, 30)))
        members = [
            Member(workspace_id=wid, slack_user_id=f"U{index:08d}",
                   name=f"{FIRST[index % len(FIRST)]} {LAST[index // len(FIRST) % len(LAST)]}",
                   timezone="Europe/London")
            for index in range(leaders)
        ]
        session.add_all(members)
        await session.flush()
        session.add_all([Enrollment(workspace_id=wid, cohort_id=cohort.id or 0,
                                    member_id=m.id or 0, role=EnrollmentRole.leader)
                         for m in members])
        goals = []
        for m in members:
            goals += [
                Goal(workspace_id=wid, member_id=m.id or 0, cohort_id=cohort.id,
                     title="Delegate the weekly operations report", status=GoalStatus.at_risk,
                     why="I spend Friday afternoons on it and the team never sees it whole.",
                     competency="delegation", visibility=Visibility.coach),
                Goal(workspace_id=wid, member_id=m.id or 0, cohort_id=cohort.id,
                     title="Speak up earlier in executive reviews", status=GoalStatus.on_track,
                     visibility=Visibility.private),
            ]
        session.add_all(goals)
        await session.flush()
        session.add_all([
            Milestone(workspace_id=wid, goal_id=g.id or 0, title=title, due_date=due,
                      position=position)
            for g in goals
            for position, (title, due) in enumerate(
                [("Write hand-over notes", TODAY - timedelta(days=3)),
                 ("Shadow the first hand-over", TODAY + timedelta(days=10))]
                if g.status == GoalStatus.at_risk else
                [("Prepare one question before the review", TODAY + timedelta(days=4))])
        ])
        session.add_all([
            ProgressUpdate(workspace_id=wid, goal_id=g.id or 0, member_id=g.member_id,
                           note="Asked a colleague to pair on it; slipped again this week.",
                           confidence=3, created_at=NOW - timedelta(days=2))
            for g in goals if g.status == GoalStatus.at_risk
        ])


async def reset(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessions) as session:
        await session.exec(delete(Delivery))
        await session.exec(delete(Nudge))


