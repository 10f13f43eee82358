"""Where a due sweep tick spends its time: the worker's own CPU (and py-spy's view of it),
PostgreSQL's CPU per statement, and what the schema's foreign keys and indexes cost.

Used by bench/sweep.py (`--profile`), in the sweep's own process, after the timed runs.
Each measurement creates the due zones' occurrences and invitations in a transaction that
is rolled back, so every run starts from the same state; a what-if changes the schema
inside that transaction first (PostgreSQL DDL is transactional), so nothing outlives it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

SPY_RATE = 200
STATEMENTS = (("INSERT INTO checkin", "occurrences: INSERT … SELECT … ON CONFLICT"),
              ("INSERT INTO delivery", "invitations: INSERT … SELECT into the outbox"))
OTHER_STATEMENTS = "everything else (the transaction's other statements)"
AS_BUILT = "as built"
WHAT_IFS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (AS_BUILT, ()),
    ("with an index on member(timezone)",
     ("CREATE INDEX bench_member_timezone ON member (timezone)", "ANALYZE member")),
    ("with the former index on checkin(member_id)",
     ("CREATE INDEX bench_checkin_member ON checkin (member_id)",)),
    ("without the two foreign keys to member", (
        "ALTER TABLE checkin DROP CONSTRAINT fk_checkin_member_id_member",
        "ALTER TABLE delivery DROP CONSTRAINT fk_delivery_member_id_member")),
    ("without any of the five foreign keys", (
        "ALTER TABLE checkin DROP CONSTRAINT fk_checkin_member_id_member",
        "ALTER TABLE delivery DROP CONSTRAINT fk_delivery_member_id_member",
        "ALTER TABLE checkin DROP CONSTRAINT fk_checkin_workspace_id_workspace",
        "ALTER TABLE delivery DROP CONSTRAINT fk_delivery_workspace_id_workspace",
        "ALTER TABLE checkin DROP CONSTRAINT fk_checkin_schedule_id_checkin_schedule")),
)
# py-spy frames are "function (path:line)"; a sample counts for its innermost frame's layer.
LAYERS = (
    ("asyncpg (driver, protocol)", ("(asyncpg/",)),
    ("SQLAlchemy (Core, ORM, pool)", ("(sqlalchemy/",)),
    ("SQLModel / pydantic", ("(sqlmodel/", "(pydantic/", "(pydantic_core/")),
    ("Coachbot (services/)", ("(services/",)),
    ("event loop, sockets", ("(asyncio/", "(selectors.py")),
)
OTHER_LAYER = "other (stdlib, zoneinfo, ...)"
_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


class _StatementClock:
    """Wall and server CPU per statement of one connection (its backend's /proc entry)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.backend: int | None = None
        self.spent: defaultdict[str, float] = defaultdict(float)
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self._started: tuple[float, float] = (0.0, 0.0)
        event.listen(engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(engine.sync_engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        server = _cpu(self.backend) if self.backend else 0.0
        self._started = (time.perf_counter(), server)

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        label = next((name for prefix, name in STATEMENTS if statement.startswith(prefix)),
                     OTHER_STATEMENTS)
        self.spent[label] += time.perf_counter() - self._started[0]
        if self.backend:
            self.cpu[label] += _cpu(self.backend) - self._started[1]

    def reset(self, backend: int) -> None:
        self.backend = backend
        self.spent.clear()
        self.cpu.clear()


async def _due_work(sessions: Any, due: datetime) -> tuple[Any, list[Any]]:
    """The schedule and the (zone, date) groups that fall due at `due`, after the tick a
    minute earlier has created every other open occurrence."""
    from services.checkins.jobs import CheckinSweep
    from services.checkins.sweep import SweepResult, candidates_for, load_plans

    await CheckinSweep().tick(sessions=sessions, now=due - timedelta(minutes=1))
    async with sessions() as session:
        (plan,) = await load_plans(session=session, now=due)
    found = candidates_for(plan, now=due, result=SweepResult())
    return plan, [c for c in found if c.occurrence.due_at == due]


async def _vacuum(engine: Any) -> None:
    """Clear the rolled-back rows out of the tables and their indexes, so that every run
    meets the same tables (dead index entries would slow the unique-key checks)."""
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM checkin, delivery"))


async def _measure(sessions: Any, clock: _StatementClock, plan: Any, candidates: list[Any],
                   due: datetime, ddl: tuple[str, ...]) -> dict[str, Any]:
    from services.checkins.sweep import sweep_schedule

    await _vacuum(clock.engine)
    async with sessions() as session:
        await session.begin()
        for statement in ddl:
            await session.exec(text(statement))
        backend = int((await session.exec(text("SELECT pg_backend_pid()"))).scalar_one())
        clock.reset(backend)
        client, server = time.process_time(), _cpu(backend)
        started = time.perf_counter()
        result = await sweep_schedule(session=session, plan=plan, now=due,
                                      candidates=candidates)
        wall = time.perf_counter() - started
        measured = {"wall": wall, "client_cpu": time.process_time() - client,
                    "server_cpu": _cpu(backend) - server, "created": result.created,
                    "statements": {name: {"wall": clock.spent[name], "cpu": clock.cpu[name]}
                                   for name in clock.spent}}
        await session.rollback()
    return measured


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    names = {name for run in runs for name in run["statements"]}
    return {
        **{key: statistics.median(run[key] for run in runs)
           for key in ("wall", "client_cpu", "server_cpu")},
        "created": runs[0]["created"],
        "statements": {name: {part: statistics.median(
            run["statements"].get(name, {}).get(part, 0.0) for run in runs)
            for part in ("wall", "cpu")} for name in names},
    }


def _start_spy(out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy sampling this process until it is interrupted (see _collect)."""
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        return None
    command = [str(py_spy), "record", "--pid", str(os.getpid()), "--rate", str(SPY_RATE),
               "--format", "raw", "--nonblocking", "--output", str(out)]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    time.sleep(1.0)  # py-spy attaches before the runs start
    return spy


def _collect(spy: subprocess.Popen[bytes] | None, out: Path, runs: int) -> dict[str, float]:
    """py-spy's samples per run by layer, once it has finished."""
    if spy is None:
        return {}
    spy.send_signal(signal.SIGINT)  # py-spy writes what it has sampled, and exits
    spy.wait()
    if not out.exists():
        return {}
    layers = {name: ms / runs for name, ms in _layers(out).items()}
    out.unlink()
    return layers


def _layers(out: Path) -> dict[str, float]:
    """Milliseconds of on-CPU samples by layer (py-spy leaves idle frames out)."""
    layers: defaultdict[str, float] = defaultdict(float)
    for line in out.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        innermost = stack.rsplit(";", 1)[-1]
        layer = next((name for name, marks in LAYERS if any(m in innermost for m in marks)),
                     OTHER_LAYER)
        layers[layer] += int(count) * 1000 / SPY_RATE
    return dict(layers)


async def profile(engine: Any, sessions: Any, due: datetime, repeats: int) -> dict[str, Any]:
    """Median measurements of the due work as built and under each what-if, and py-spy's
    on-CPU samples of this process during the as-built runs."""
    plan, candidates = await _due_work(sessions, due)
    clock = _StatementClock(engine)
    # Runs under py-spy first (sampling slows the worker a little), then the what-ifs in
    # turn, round after round, so that each sees the same mix of host load and table state.
    out = Path(f"/tmp/coachbot-sweep-spy-{os.getpid()}.txt")
    spy = await asyncio.to_thread(_start_spy, out)
    for _ in range(repeats):
        await _measure(sessions, clock, plan, candidates, due, ())
    layers = await asyncio.to_thread(_collect, spy, out, repeats)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in WHAT_IFS}
    for _ in range(repeats):
        for name, ddl in WHAT_IFS:
            runs[name].append(await _measure(sessions, clock, plan, candidates, due, ddl))
    return {"repeats": repeats, "spy_ms_per_run": layers, "spy": spy is not None,
            "variants": {name: _median(measured) for name, measured in runs.items()}}


def markdown(found: dict[str, Any]) -> str:
    """The profile as a section of docs/benchmarks-sweep.md."""
    built = found["variants"][AS_BUILT]
    server = built["server_cpu"]
    statements = "\n".join(
        f"| {name} | {data['wall'] * 1000:,.0f} ms | {data['cpu'] * 1000:,.0f} ms |"
        for name, data in sorted(built["statements"].items(), key=lambda item: -item[1]["cpu"]))
    what_ifs = "\n".join(
        f"| {name} | {data['server_cpu'] * 1000:,.0f} ms | "
        f"{(data['server_cpu'] - server) * 1000:+,.0f} ms | {data['wall'] * 1000:,.0f} ms |"
        for name, data in found["variants"].items())
    spy = found["spy_ms_per_run"]
    layers = "\n".join(f"| {name} | {ms:,.1f} ms |"
                       for name, ms in sorted(spy.items(), key=lambda item: -item[1]))
    spy_part = (f"""py-spy on the worker during those runs, per run, by the layer of the innermost
frame. It counts a sample whenever the worker is not blocked on I/O, so on a busy host it
also counts time spent waiting for a CPU: an upper bound of the worker's share.

| Layer | Samples per run, as time |
|---|---|
{layers}
""" if spy else "py-spy was not available, so there is no sampling profile of the worker.\n")
    return f"""## Where the time goes (`--profile`)

The due work ({built['created']:,} occurrences and their invitations) measured again in
the same process, {found['repeats']} times per schema below, each in a transaction that is
rolled back; medians. As built, the worker used {built['client_cpu'] * 1000:,.0f} ms of CPU
per run and PostgreSQL {server * 1000:,.0f} ms.

| Statement | Wall | PostgreSQL CPU |
|---|---|---|
{statements}

{spy_part}
What the schema costs: the same work after changing the schema inside the measuring
transaction.

| Schema | PostgreSQL CPU | Against as built | Wall |
|---|---|---|---|
{what_ifs}
"""
