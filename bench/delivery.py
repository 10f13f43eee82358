"""Benchmark the delivery outbox: 5,000 DMs through the messenger against the sandbox.

Run from the repository root (PostgreSQL on this machine by default):

    .venv/bin/python bench/delivery.py
    .venv/bin/python bench/delivery.py --database-url sqlite

The sandbox enforces Slack's pace (1 message/s per channel, 50 messages/s per workspace)
and answers 1% of all calls with an HTTP 500. Every message goes to a different person,
so the workspace limit sets the floor: 5,000 / 50 = 100 s. Goal: elapsed ≤ 1.1 × floor,
fewer than 1% of calls answered 429, no duplicates, none lost.

`--database-url` names a server: a scratch database is created on it, migrated, and
dropped afterwards (`sqlite` uses a scratch file). The sandbox runs in a process of its
own, as Slack is not in ours. Results go to
docs/benchmarks-delivery.md, with a chart as docs/benchmarks-delivery.png when
matplotlib is installed (an ASCII chart is always in the document).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import services.models  # noqa: F401  (every table on the metadata)
from bot.messenger import EVENT_TYPE, SlackMessenger, slack_client
from bot.pacing import WorkspacePacer
from bot.render import default_renderers
from bot.sandbox import DEFAULT_TOKEN, Fault, RateLimits, SlackSandbox
from bot.worker import DeliveryWorker
from services.db import create_engine, create_sessionmaker, transaction
from services.delivery import service
from services.delivery.models import Delivery, DeliveryState
from services.delivery.service import NewDelivery
from services.people.models import Member, Workspace
from services.schema import upgrade_async

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DONE = (DeliveryState.sent, DeliveryState.dead, DeliveryState.cancelled)


@dataclass
class Result:
    messages: int
    floor: float
    elapsed: float = 0.0
    timeline: list[tuple[float, int]] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    duplicates: int = 0
    lost: int = 0
    wrong_ts: int = 0
    states: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    retried_rows: int = 0
    reconciled: int = 0
    deferred: int = 0

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def ratio(self) -> float:
        return self.elapsed / self.floor


# --- scratch database -------------------------------------------------------------------


def _asyncpg_dsn(url: str, database: str) -> str:
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(
        hide_password=False)


@asynccontextmanager
async def scratch_database(server: str) -> AsyncIterator[str]:
    """A new, migrated database on `server` (or a scratch SQLite file), dropped afterwards."""
    if server == "sqlite" or server.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="coachbot-bench-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            await upgrade_async(url)
            yield url
        return
    base = make_url(server)
    name = f"coachbot_bench_{uuid.uuid4().hex[:10]}"
    admin = _asyncpg_dsn(server, base.database or "postgres")
    connection = await asyncpg.connect(admin)
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
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


async def seed(sessions: async_sessionmaker[AsyncSession], messages: int) -> None:
    """A workspace with one member per message and one broadcast DM queued for each."""
    async with transaction(sessions) as session:
        workspace = Workspace(slack_team_id="T0BENCH", name="Bench")
        session.add(workspace)
        await session.flush()
        members = [Member(workspace_id=workspace.id or 0, slack_user_id=f"U{n:07d}",
                          name=f"Leader {n}") for n in range(messages)]
        session.add_all(members)
        await session.flush()
        await service.enqueue_many(session=session, deliveries=[
            NewDelivery(workspace_id=workspace.id or 0, delivery_key=f"bench:{n}",
                        kind="broadcast", member_id=member.id,
                        intent={"kind": "broadcast", "title": "Week 3 reflection",
                                "text": f"What did you delegate this week, leader {n}?",
                                "sender": "The Leadership Lab"})
            for n, member in enumerate(members)])


# --- the sandbox, in a process of its own, as Slack is not in ours -------------------------


def serve_sandbox(conn: Connection, limits: RateLimits, failure_rate: float, seed: int) -> None:
    """Child process: run the sandbox, answer "progress" and "report" requests."""
    asyncio.run(_serve_sandbox(conn, limits, failure_rate, seed))


async def _serve_sandbox(conn: Connection, limits: RateLimits, failure_rate: float,
                         seed: int) -> None:
    async with SlackSandbox(rate_limits=limits, auto_users=True, seed=seed) as sandbox:
        sandbox.faults.randomly("*", probability=failure_rate, fault=Fault.http_error(500))
        conn.send(sandbox.base_url)
        while True:
            request = await asyncio.to_thread(conn.recv)
            conn.send(_summary(sandbox, full=request == "report"))
            if request == "report":
                return


def _summary(sandbox: SlackSandbox, *, full: bool) -> dict[str, Any]:
    calls = sandbox.calls()
    summary: dict[str, Any] = {"calls": Counter(call.method for call in calls),
                               "statuses": Counter(call.status for call in calls)}
    if full:
        posted: dict[str, list[str]] = {}
        for conversation in sandbox.workspace.conversations.values():
            for message in conversation.messages:
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") == EVENT_TYPE:
                    key = metadata["event_payload"]["delivery_key"]
                    posted.setdefault(key, []).append(message["ts"])
        summary["posted"] = posted
    return summary


class RemoteSandbox:
    """The parent's handle on the sandbox process."""

    def __init__(self, limits: RateLimits, failure_rate: float, seed: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve_sandbox, daemon=True,
                                        args=(child, limits, failure_rate, seed))
        self._process.start()
        self.base_url: str = self._conn.recv()

    async def ask(self, request: str) -> dict[str, Any]:
        def exchange() -> dict[str, Any]:
            self._conn.send(request)
            answer: dict[str, Any] = self._conn.recv()
            return answer

        return await asyncio.to_thread(exchange)

    def close(self) -> None:
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()


# --- the run ------------------------------------------------------------------------------


async def unfinished(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        counts = await service.count_by_state(session=session)
    return sum(count for state, count in counts.items() if state not in DONE)


async def deliver_all(args: argparse.Namespace, url: str, result: Result) -> None:
    engine = create_engine(url, pool_size=args.pool_size)
    sessions = create_sessionmaker(engine)
    limits = RateLimits(channel_rate=1.0, channel_burst=3, workspace_rate=args.workspace_rate,
                        workspace_burst=int(args.workspace_rate))
    sandbox = RemoteSandbox(limits, args.failure_rate, args.seed)
    try:
        print(f"seeding {args.messages:,} members and deliveries ...", file=sys.stderr)
        await seed(sessions, args.messages)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as http:
            client = slack_client(token=DEFAULT_TOKEN, base_url=sandbox.base_url, session=http)
            pacer = WorkspacePacer(rate=args.rate, burst=args.burst, channel_interval=1.0)
            messenger = SlackMessenger(client=client, renderers=default_renderers(),
                                       sessions=sessions, pacer=pacer)
            worker = DeliveryWorker(sessions=sessions, messenger=messenger,
                                    concurrency=args.concurrency, idle_interval=0.2)
            started_wall = time.time()
            started = time.monotonic()
            await worker.start()
            try:
                await watch(sessions, sandbox, worker, result, started)
            finally:
                await worker.stop()
            await tally(sessions, await sandbox.ask("report"), worker, result, started_wall)
    finally:
        sandbox.close()
        await engine.dispose()


async def watch(sessions: async_sessionmaker[AsyncSession], sandbox: RemoteSandbox,
                worker: DeliveryWorker, result: Result, started: float) -> None:
    """Poll until the outbox is empty, printing progress every five seconds."""
    last_print = 0.0
    while True:
        await asyncio.sleep(1.0)
        elapsed = time.monotonic() - started
        result.timeline.append((elapsed, worker.stats.sent))
        left = await unfinished(sessions)
        if elapsed - last_print >= 5.0 or not left:
            last_print = elapsed
            statuses = (await sandbox.ask("progress"))["statuses"]
            failed = sum(count for status, count in statuses.items() if status >= 500)
            print(f"{elapsed:6.1f} s  {worker.stats.sent:>6,} sent  "
                  f"{worker.stats.sent / elapsed:5.1f}/s  {left:>6,} left  "
                  f"429s {statuses.get(429, 0)}  500s {failed}  "
                  f"retried {worker.stats.retried}  reconciled {worker.stats.reconciled}",
                  file=sys.stderr)
        if not left:
            return


async def tally(sessions: async_sessionmaker[AsyncSession], summary: dict[str, Any],
                worker: DeliveryWorker, result: Result, started_wall: float) -> None:
    """Compare what Slack holds with what the outbox recorded."""
    result.calls = summary["calls"]
    result.statuses = summary["statuses"]
    posted: dict[str, list[str]] = summary["posted"]
    result.duplicates = sum(len(stamps) - 1 for stamps in posted.values())
    async with sessions() as session:
        rows = (await session.exec(select(Delivery))).all()
        last_sent = (await session.exec(select(func.max(Delivery.sent_at)))).one()
    result.lost = sum(1 for row in rows if row.delivery_key not in posted)
    result.wrong_ts = sum(1 for row in rows if row.state == DeliveryState.sent
                          and row.slack_ts not in posted.get(row.delivery_key, []))
    result.states = dict(Counter(str(row.state) for row in rows))
    result.attempts = sum(row.attempts for row in rows)
    result.retried_rows = sum(1 for row in rows if row.attempts)
    result.reconciled = worker.stats.reconciled
    result.deferred = worker.stats.deferred
    result.elapsed = (last_sent.timestamp() - started_wall) if last_sent else float("nan")


# --- the report ---------------------------------------------------------------------------


def ascii_chart(result: Result, width: int = 50) -> str:
    """Messages delivered by time, every 10 s, against the pacing floor."""
    lines = ["  time   delivered  (█ delivered, │ where the floor pace would be)"]
    per_second = result.messages / result.floor
    marks: list[tuple[float, int]] = []
    for at, sent in result.timeline:
        if not marks or int(at // 10) > int(marks[-1][0] // 10):
            marks.append((at, sent))
    if result.timeline and marks[-1] != result.timeline[-1]:
        marks.append(result.timeline[-1])
    for at, sent in marks:
        bar = int(width * sent / result.messages)
        ideal = min(width, int(width * at * per_second / result.messages))
        cells = ["█" if i < bar else " " for i in range(width)]
        if ideal < width and cells[ideal] == " ":
            cells[ideal] = "│"
        lines.append(f"{at:5.0f} s  {''.join(cells)} {sent:>6,}")
    return "\n".join(lines)


def png_chart(result: Result, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    times = [0.0] + [at for at, _ in result.timeline]
    sent = [0] + [count for _, count in result.timeline]
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.plot(times, sent, label="delivered (this run)")
    rate = result.messages / result.floor
    axes.plot([0, result.floor], [0, result.messages], linestyle="--",
              label=f"pacing floor ({rate:.0f}/s)")
    axes.axvline(result.floor * 1.1, color="grey", linestyle=":", label="goal: 1.1 × floor")
    axes.set_xlabel("seconds")
    axes.set_ylabel("messages delivered")
    axes.set_title(f"{result.messages:,} DMs through the outbox, 1% of calls failing with 500")
    axes.legend(loc="lower right")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def verdicts(result: Result) -> list[tuple[str, str, str, bool]]:
    limited = result.statuses.get(429, 0)
    rate = limited / max(1, result.total_calls)
    return [
        ("elapsed / floor", f"{result.elapsed:.1f} s / {result.floor:.0f} s = "
         f"{result.ratio:.3f}", "≤ 1.1", result.ratio <= 1.1),
        ("calls answered 429", f"{limited} of {result.total_calls:,} ({rate:.2%})", "< 1%",
         rate < 0.01),
        ("duplicates", str(result.duplicates), "0", result.duplicates == 0),
        ("lost", str(result.lost), "0", result.lost == 0),
    ]


def environment(database: str) -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return (f"{platform.python_implementation()} {platform.python_version()} on "
            f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; database: "
            f"{database}; commit {commit}. The sandbox runs in a process of its own.")


def report(args: argparse.Namespace, result: Result, database: str, chart: bool) -> str:
    command = shlex.join([".venv/bin/python", "bench/delivery.py", *sys.argv[1:]])
    rows = "\n".join(f"| {name} | {value} | {goal} | {'yes' if ok else '**no**'} |"
                     for name, value, goal, ok in verdicts(result))
    calls = ", ".join(f"{method} {count:,}" for method, count in result.calls.most_common())
    statuses = ", ".join(f"{status}: {count:,}" for status, count in
                         sorted(result.statuses.items()))
    png = ("\n![delivered over time](benchmarks-delivery.png)\n" if chart else "")
    return f"""# Delivery benchmark

{args.messages:,} DMs, one per person, through the outbox, the delivery worker and
`SlackMessenger` against the Slack sandbox. The sandbox enforces 1 message/s per channel
(burst 3) and {args.workspace_rate:.0f} messages/s per workspace, and answers
{args.failure_rate:.0%} of all calls (any method) with an HTTP 500. The pacing floor is
{args.messages:,} / {args.workspace_rate:.0f} = {result.floor:.0f} s.

Command (from the repository root):

```
{command}
```

Environment: {environment(database)}

## Result

| measure | this run | goal | met |
|---|---|---|---|
{rows}

- Elapsed runs from the worker's start to the last row recorded as sent.
- Outbox rows: {", ".join(f"{state} {count:,}" for state, count in sorted(result.states.items()))}.
  Sent rows whose `slack_ts` is not that of the message carrying their key: {result.wrong_ts}.
- Attempts: {result.attempts} failed tries over {result.retried_rows} rows (429s are not
  counted); {result.reconciled} rows were found already posted when reconciled;
  {result.deferred} were handed back untried.
- Calls: {calls}. HTTP statuses: {statuses}.
- The bot paces itself at {args.rate:.0f}/s with a burst of {args.burst}, below the
  sandbox's burst of {int(args.workspace_rate)}: the headroom absorbs requests that reach
  Slack a little earlier than they were paced (with equal bursts an occasional 429 appears).
- The tail past the floor is the last rows that met a 500: they wait out their backoff,
  and are looked for in history before they are posted again.
{png}
```
{ascii_chart(result)}
```

## How it works

Each row carries a unique `delivery_key`, which rides in the message metadata. A row
that failed without a definite answer (a 500, a timeout) is retried with exponential
backoff and jitter, and before it is posted again the messenger reads the channel's
recent history for a message carrying its key, so a post that landed is recorded, not
repeated. A 429 holds the whole workspace for its Retry-After and retries the same row
without counting an attempt.
"""


async def run(args: argparse.Namespace) -> tuple[Result, str]:
    """Deliver everything once; returns the result and a description of the database."""
    result = Result(messages=args.messages, floor=args.messages / args.workspace_rate)
    database = "SQLite (scratch file)"
    async with scratch_database(args.database_url) as url:
        if url.startswith("postgresql"):
            connection = await asyncpg.connect(_asyncpg_dsn(url, make_url(url).database or ""))
            try:
                version = await connection.fetchval("SHOW server_version")
            finally:
                await connection.close()
            database = f"PostgreSQL {version} (scratch database)"
        await deliver_all(args, url, result)
    return result, database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_SERVER,
                        help="server to create a scratch database on, or 'sqlite'")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--failure-rate", type=float, default=0.01)
    parser.add_argument("--workspace-rate", type=float, default=50.0)
    parser.add_argument("--rate", type=float, default=50.0, help="the bot's own pace")
    parser.add_argument("--burst", type=int, default=10, help="the bot's own burst")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks-delivery.md"),
                        help="where to write the report ('' to skip)")
    args = parser.parse_args(argv)

    result, database = asyncio.run(run(args))
    for name, value, goal, ok in verdicts(result):
        print(f"{name:>20}: {value}  (goal {goal}: {'met' if ok else 'NOT MET'})")
    if args.output:
        output = Path(args.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        chart = png_chart(result, output.with_suffix(".png"))
        output.write_text(report(args, result, database, chart), encoding="utf-8")
        print(f"wrote {output}" + (f" and {output.with_suffix('.png')}" if chart else ""))
    return 0 if all(ok for *_, ok in verdicts(result)) else 1


if __name__ == "__main__":
    sys.exit(main())
