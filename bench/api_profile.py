"""Where a plan read spends its time: SQL per request, CPU per phase, and py-spy by layer."""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import TypeAdapter
from sqlalchemy import event

from services.api.app import create_api
from services.auth.service import authenticate
from services.config import Settings
from services.db import create_engine, create_sessionmaker
from services.plans import service as plans_service
from services.plans.models import PlanPublic

# py-spy frames are "function (path:line)"; a sample goes to the innermost frame's layer.
LAYERS = (
    ("asyncpg (PostgreSQL driver)", ("(asyncpg/",)),
    ("SQLAlchemy (ORM, Core, pool)", ("(sqlalchemy/",)),
    ("SQLModel / pydantic (validation, models)", ("(sqlmodel/", "(pydantic/", "(pydantic_core/")),
    ("Coachbot code (own lines)", ("(services/", "(bot/")),
    ("FastAPI / Starlette (routing, dependencies, middleware)", ("(fastapi/", "(starlette/")),
    ("uvicorn, event loop, sockets, greenlet", ("(uvicorn/", "(asyncio/", "(greenlet/")),
)
OTHER_LAYER = "other (stdlib: zoneinfo, json, re, ...)"
INCLUSIVE = (
    ("services.auth authenticate()", "authenticate (", "(services/auth/service.py"),
    (
        "services.plans get_plan() (outside ORM greenlets)",
        "get_plan (",
        "(services/plans/service.py",
    ),
    ("FastAPI dependency solving", "solve_dependencies (", "(fastapi/"),
    ("FastAPI response validation + serialisation", "serialize_response (", "(fastapi/"),
)
GREENLET = "ORM statement execution (stacks on SQLAlchemy's greenlet)"
HOTTEST = 12
SPY_RATE = 200


@dataclass
class SpyProfile:
    samples: int = 0
    expected: int = 0
    layers: dict[str, float] = field(default_factory=dict)
    inclusive: dict[str, float] = field(default_factory=dict)
    hottest: list[tuple[str, float]] = field(default_factory=list)
    error: str | None = None


def _layer(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, markers in LAYERS:
            if any(marker in frame for marker in markers):
                return name
    return OTHER_LAYER


def read_spy(raw: str, expected: int) -> SpyProfile:
    """Aggregate py-spy's collapsed stacks into shares per layer and a few inclusive shares."""
    layers: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples, frames = int(count), stack.split(";")
        total += samples
        layers[_layer(frames)] += samples
        leaves[frames[-1].rsplit(":", 1)[0] + ")"] += samples
        if "runpy" not in frames[0]:  # the ORM runs its sync code on a greenlet of its own
            inclusive[GREENLET] += samples
        for label, function, path in INCLUSIVE:
            if any(frame.startswith(function) and path in frame for frame in frames):
                inclusive[label] += samples
    share = {name: count / total for name, count in layers.most_common()} if total else {}
    return SpyProfile(
        samples=total,
        expected=expected,
        layers=share,
        inclusive={
            label: inclusive[label] / total for label in [GREENLET, *(i[0] for i in INCLUSIVE)]
        }
        if total
        else {},
        hottest=[(frame, count / total) for frame, count in leaves.most_common(HOTTEST)],
    )


def start_spy(
    py_spy: str, pid: int, seconds: int, out: Path, rate: int = SPY_RATE
) -> subprocess.Popen[bytes]:
    command = [
        py_spy,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(seconds),
        "--rate",
        str(rate),
        "--format",
        "raw",
        "--nonblocking",
        "--output",
        str(out),
    ]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )


def finish_spy(process: subprocess.Popen[bytes], out: Path, expected: int) -> SpyProfile:
    log, _ = process.communicate(timeout=120)
    if process.returncode != 0 or not out.exists():
        return SpyProfile(error=log.decode(errors="replace").strip()[-300:] or "py-spy failed")
    return read_spy(out.read_text(), expected)


# --- in-process phases, one request at a time ------------------------------------------


@dataclass(frozen=True)
class Phase:
    label: str
    cpu_ms: float
    wall_ms: float


@dataclass
class Phases:
    phases: list[Phase]
    statements: dict[str, list[str]]  # request label -> SQL statements it sent, first line
    checkouts: dict[str, int]  # request label -> pool checkouts (each one pings)
    query_wall_ms: dict[str, float]  # request label -> wall time inside cursor execute
    explain: list[str]  # PostgreSQL's plan for the plan read's recent-progress statement
    ranked: tuple[str, Any] | None = None  # that statement and its parameters, as sent
    explain_big: list[str] = field(default_factory=list)  # its plan once the table has grown


async def _time(
    label: str, action: Callable[[], Awaitable[Any]], *, repeat: int, batches: int = 5
) -> Phase:
    for _ in range(max(5, repeat // 10)):
        await action()
    cpu, wall = [], []
    for _ in range(batches):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for _ in range(repeat):
            await action()
        cpu.append((time.process_time() - cpu0) / repeat * 1000)
        wall.append((time.perf_counter() - wall0) / repeat * 1000)
    return Phase(label, statistics.median(cpu), statistics.median(wall))


class _SqlTap:
    """Counts statements, pool checkouts and time inside the driver for one request."""

    def __init__(self, engine: Any) -> None:
        self.statements: list[str] = []
        self.checkouts = 0
        self.query_s = 0.0
        self._started = 0.0
        self._engine = engine
        self.ranked: tuple[str, Any] | None = None  # the recent-progress statement, as sent
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._before)
        event.listen(sync, "after_cursor_execute", self._after)
        event.listen(sync.pool, "checkout", self._checkout)

    def _before(self, _c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.statements.append(" ".join(statement.split())[:90])
        if "row_number()" in statement:
            self.ranked = (statement, parameters)
        self._started = time.perf_counter()

    def _after(self, *_: Any) -> None:
        self.query_s += time.perf_counter() - self._started

    def _checkout(self, *_: Any) -> None:
        self.checkouts += 1

    def detach(self) -> None:
        sync = self._engine.sync_engine
        event.remove(sync, "before_cursor_execute", self._before)
        event.remove(sync, "after_cursor_execute", self._after)
        event.remove(sync.pool, "checkout", self._checkout)

    def reset(self) -> None:
        self.statements, self.checkouts, self.query_s = [], 0, 0.0


async def measure_phases(
    *, url: str, raw_key: str, member_id: int, goal_id: int, repeat: int = 100
) -> Phases:
    """Time each layer of a plan read in-process (no HTTP socket, asyncio loop)."""
    settings = Settings(COACHBOT_DATABASE_URL=url)
    engine = create_engine(url, pool_size=settings.database_pool_size)
    app = create_api(settings, engine)
    sessions = create_sessionmaker(engine)
    tap = _SqlTap(engine)
    auth = {"Authorization": f"Bearer {raw_key}"}
    plan_path = f"/api/v1/members/{member_id}/plan"
    body = {"note": "Profiled update", "confidence": 4}
    statements: dict[str, list[str]] = {}
    checkouts: dict[str, int] = {}
    query_ms: dict[str, float] = {}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            requests = {
                "GET plan": lambda: client.get(plan_path, headers=auth),
                "POST progress": lambda: client.post(
                    f"/api/v1/goals/{goal_id}/progress", headers=auth, json=body
                ),
            }
            for label, send in requests.items():
                await send()
                tap.reset()
                await send()
                statements[label], checkouts[label] = list(tap.statements), tap.checkouts
                query_ms[label] = tap.query_s * 1000
            tap.detach()
            explain = await _explain(engine, tap.ranked)
            phases = [
                await _time(
                    "whole GET plan through the ASGI app", requests["GET plan"], repeat=repeat
                ),
                await _time(
                    "GET /healthz through the ASGI app (no database)",
                    lambda: client.get("/healthz"),
                    repeat=repeat,
                ),
            ]
        phases += await _service_phases(sessions, raw_key, member_id, repeat)
    finally:
        await engine.dispose()
    return Phases(phases, statements, checkouts, query_ms, explain, tap.ranked)


async def explain_on(url: str, ranked: tuple[str, Any] | None) -> list[str]:
    """EXPLAIN ANALYZE a captured statement on a fresh engine."""
    engine = create_engine(url)
    try:
        return await _explain(engine, ranked)
    finally:
        await engine.dispose()


async def _explain(engine: Any, ranked: tuple[str, Any] | None) -> list[str]:
    if ranked is None:
        return []
    statement, parameters = ranked
    async with engine.connect() as connection:
        rows = await connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + statement, parameters
        )
        return [str(row[0]) for row in rows]


async def _service_phases(sessions: Any, raw_key: str, member_id: int, repeat: int) -> list[Phase]:
    async def session_only() -> None:
        async with sessions() as session:
            await session.commit()

    async def with_auth() -> Any:
        async with sessions() as session:
            actor = await authenticate(session=session, raw_key=raw_key)
            await session.commit()
            return actor

    actor = await with_auth()

    async def with_plan() -> PlanPublic:
        async with sessions() as session:
            await authenticate(session=session, raw_key=raw_key)
            plan = await plans_service.get_plan(session=session, actor=actor, member_id=member_id)
            await session.commit()
            return plan

    plan = await with_plan()
    plan_json = plan.model_dump_json()
    objects = 1 + sum(1 + len(goal.milestones) + len(goal.recent_progress) for goal in plan.goals)
    adapter = TypeAdapter(PlanPublic)

    async def serialise() -> bytes:
        return adapter.dump_json(adapter.validate_python(plan))

    async def build_models() -> PlanPublic:
        return PlanPublic.model_validate_json(plan_json)

    async def parse_only() -> object:
        return json.loads(plan_json)

    return [
        await _time("pool checkout + BEGIN/COMMIT, no query", session_only, repeat=repeat),
        await _time("... + authenticate() (1 query)", with_auth, repeat=repeat),
        await _time("... + plans.get_plan() (4 more queries)", with_plan, repeat=repeat),
        await _time("PlanPublic instance: validate + JSON dump", serialise, repeat=repeat * 5),
        await _time(
            f"PlanPublic from its JSON ({objects} SQLModel objects built)",
            build_models,
            repeat=repeat * 5,
        ),
        await _time("json.loads of the same JSON (floor)", parse_only, repeat=repeat * 5),
    ]
