"""Benchmark a cohort broadcast: 5,000 leaders, Slack-like pacing, the worker killed once.

Run from the repository root (PostgreSQL on this machine by default):

    .venv/bin/python bench/broadcast.py
    .venv/bin/python bench/broadcast.py --database-url sqlite --leaders 1000

An owner broadcasts a question to a cohort of 5,000 leaders (`create_broadcast`, which
fans out one outbox intent per leader in the request's transaction). A delivery worker,
in a process of its own and already running, sends them through `SlackMessenger` to the
Slack sandbox, which enforces 1 message/s per channel and 50 messages/s per workspace:
the pacing floor is 5,000 / 50 = 100 s. Two runs, each on a fresh database and sandbox:

- baseline: the worker runs undisturbed;
- killed: the worker process gets SIGKILL once half the messages are sent, and a new one
  is started at once (it reclaims the rows the dead one left mid-send after
  `--stale-after` seconds and reconciles them against the channel's history).

Measured: elapsed (broadcast created → last message recorded sent) against the floor,
for both runs, and the killed run against the baseline. Goal: killed ≤ 1.15 × floor,
no duplicates, none lost. Results go to docs/benchmarks-broadcast.md (with a PNG chart
when matplotlib is installed; an ASCII chart is always in the document).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy.ext.asyncio import async_sessionmaker  # noqa: E402
from sqlmodel import col, select  # noqa: E402
from sqlmodel.ext.asyncio.session import AsyncSession  # noqa: E402

import services.models  # noqa: E402, F401  (every table on the metadata)
from bench.delivery import DEFAULT_SERVER, RemoteSandbox, scratch_database  # noqa: E402
from bot.messenger import SlackMessenger, slack_client  # noqa: E402
from bot.pacing import WorkspacePacer  # noqa: E402
from bot.runtime import all_renderers  # noqa: E402
from bot.sandbox import DEFAULT_TOKEN, RateLimits  # noqa: E402
from bot.worker import DeliveryWorker  # noqa: E402
from services.auth.models import Role  # noqa: E402
from services.auth.service import actor_for  # noqa: E402
from services.broadcasts.jobs import broadcast_tick  # noqa: E402
from services.broadcasts.models import Audience, Broadcast, BroadcastCreate  # noqa: E402
from services.broadcasts.service import create_broadcast  # noqa: E402
from services.db import create_engine, create_sessionmaker, transaction, utcnow  # noqa: E402
from services.delivery.models import Delivery, DeliveryState  # noqa: E402
from services.people.models import (  # noqa: E402
    Cohort,
    Enrollment,
    EnrollmentRole,
    Member,
    Workspace,
)


@dataclass
class Run:
    name: str
    leaders: int
    floor: float
    fan_out: float = 0.0
    elapsed: float = 0.0
    killed_at: float | None = None
    killed_sent: int = 0
    restarted_in: float = 0.0
    timeline: list[tuple[float, int]] = field(default_factory=list)
    duplicates: int = 0
    lost: int = 0
    states: dict[str, int] = field(default_factory=dict)
    reclaimed: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    broadcast_status: str = ""

    @property
    def ratio(self) -> float:
        return self.elapsed / self.floor


# --- the delivery worker, in a process of its own ---------------------------------------


def serve_worker(url: str, base_url: str, options: dict[str, Any], ready: Any) -> None:
    """Child process: deliver until killed; `ready` is set once it is about to claim."""
    asyncio.run(_serve_worker(url, base_url, options, ready))


async def _serve_worker(url: str, base_url: str, options: dict[str, Any], ready: Any) -> None:
    engine = create_engine(url, pool_size=options["pool_size"])
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as http:
        messenger = SlackMessenger(
            client=slack_client(token=DEFAULT_TOKEN, base_url=base_url, session=http),
            renderers=all_renderers(), sessions=create_sessionmaker(engine),
            pacer=WorkspacePacer(rate=options["rate"], burst=options["burst"],
                                 channel_interval=1.0))
        worker = DeliveryWorker(sessions=create_sessionmaker(engine), messenger=messenger,
                                concurrency=options["concurrency"], idle_interval=0.2,
                                stale_after=timedelta(seconds=options["stale_after"]))
        ready.set()
        await worker.run(asyncio.Event())  # never set: the process runs until it is killed


@dataclass
class WorkerProcess:
    process: Any
    ready: Any

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=10)

    async def wait_ready(self) -> None:
        await asyncio.to_thread(self.ready.wait, 60)


def start_worker(url: str, base_url: str, args: argparse.Namespace) -> WorkerProcess:
    context = multiprocessing.get_context("spawn")
    options = {"pool_size": args.pool_size, "rate": args.rate, "burst": args.burst,
               "concurrency": args.concurrency, "stale_after": args.stale_after}
    ready = context.Event()
    process = context.Process(target=serve_worker, args=(url, base_url, options, ready),
                              daemon=True)
    process.start()
    return WorkerProcess(process, ready)


# --- seeding and measuring --------------------------------------------------------------


async def seed(sessions: async_sessionmaker[AsyncSession], leaders: int) -> tuple[int, int, int]:
    """A workspace with a cohort of `leaders` leaders and its owner: their three ids."""
    async with transaction(sessions) as session:
        workspace = Workspace(slack_team_id="T0BENCH", name="Bench")
        session.add(workspace)
        await session.flush()
        wid = workspace.id or 0
        cohort = Cohort(workspace_id=wid, name="Leadership Lab", timezone="Europe/London")
        owner = Member(workspace_id=wid, slack_user_id="U0OWNER", name="Olivia Owner")
        session.add_all([cohort, owner])
        await session.flush()
        members = [Member(workspace_id=wid, slack_user_id=f"U{n:07d}", name=f"Leader {n}")
                   for n in range(leaders)]
        session.add_all(members)
        await session.flush()
        session.add(Enrollment(workspace_id=wid, cohort_id=cohort.id or 0,
                               member_id=owner.id or 0, role=EnrollmentRole.owner))
        session.add_all(Enrollment(workspace_id=wid, cohort_id=cohort.id or 0,
                                   member_id=m.id or 0, role=EnrollmentRole.leader)
                        for m in members)
    return wid, cohort.id or 0, owner.id or 0


async def broadcast(sessions: async_sessionmaker[AsyncSession], ids: tuple[int, int, int]) -> None:
    """What `POST /broadcasts` does: the broadcast and all its intents in one transaction."""
    workspace_id, cohort_id, owner_id = ids
    async with transaction(sessions) as session:
        actor = await actor_for(session=session, workspace_id=workspace_id, role=Role.owner,
                                member_id=owner_id)
        await create_broadcast(session=session, actor=actor, now=utcnow(), data=BroadcastCreate(
            cohort_id=cohort_id, audience=Audience.leaders,
            text="Week 3 of the Leadership Lab: this week is about delegation.\n\n"
                 "Pick one task you still do yourself and hand it over by Friday.",
            question="What will you hand over?"))


async def sent_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int((await session.exec(select(func.count()).where(
            col(Delivery.state) == DeliveryState.sent))).one())


async def deliver(args: argparse.Namespace, url: str, run: Run) -> None:
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    limits = RateLimits(channel_rate=1.0, channel_burst=3, workspace_rate=args.workspace_rate,
                        workspace_burst=int(args.workspace_rate))
    sandbox = RemoteSandbox(limits, 0.0, args.seed)
    worker = None
    try:
        print(f"[{run.name}] seeding {run.leaders:,} leaders ...", file=sys.stderr)
        ids = await seed(sessions, run.leaders)
        worker = start_worker(url, sandbox.base_url, args)
        await worker.wait_ready()  # the worker is up and idle, as in production
        started_wall, started = time.time(), time.monotonic()
        await broadcast(sessions, ids)
        run.fan_out = time.monotonic() - started
        print(f"[{run.name}] fanned out in {run.fan_out:.2f} s", file=sys.stderr)
        worker = await watch(args, url, sandbox, sessions, run, worker, started)
        await tally(sessions, await sandbox.ask("report"), run, started_wall)
    finally:
        if worker is not None:
            worker.kill()
        sandbox.close()
        await engine.dispose()


async def watch(args: argparse.Namespace, url: str, sandbox: RemoteSandbox,
                sessions: async_sessionmaker[AsyncSession], run: Run, worker: WorkerProcess,
                started: float) -> WorkerProcess:
    """Poll until every message is sent, killing the worker once on the way if asked."""
    last_print = 0.0
    while True:
        await asyncio.sleep(0.5)
        elapsed = time.monotonic() - started
        sent = await sent_count(sessions)
        run.timeline.append((elapsed, sent))
        if args.kill_at and run.killed_at is None and sent >= run.leaders * args.kill_at:
            worker.kill()  # SIGKILL: no shutdown, no grace, sends cut off mid-flight
            run.killed_at, run.killed_sent = elapsed, sent
            restart = time.monotonic()
            worker = start_worker(url, sandbox.base_url, args)
            asyncio.get_running_loop().create_task(_note_ready(worker, run, restart))
            print(f"[{run.name}] killed the worker at {elapsed:.1f} s ({sent:,} sent); "
                  "started a new one", file=sys.stderr)
        if elapsed - last_print >= 5.0 or sent >= run.leaders:
            last_print = elapsed
            print(f"[{run.name}] {elapsed:6.1f} s  {sent:>6,} sent  {sent / elapsed:5.1f}/s",
                  file=sys.stderr)
        if sent >= run.leaders:
            return worker


async def _note_ready(worker: WorkerProcess, run: Run, since: float) -> None:
    await worker.wait_ready()
    run.restarted_in = time.monotonic() - since


async def tally(sessions: async_sessionmaker[AsyncSession], summary: dict[str, Any], run: Run,
                started_wall: float) -> None:
    posted: dict[str, list[str]] = summary["posted"]
    run.duplicates = sum(len(stamps) - 1 for stamps in posted.values())
    run.calls = dict(summary["calls"])
    run.statuses = dict(summary["statuses"])
    async with sessions() as session:
        rows = (await session.exec(select(Delivery))).all()
    run.lost = sum(1 for row in rows if row.delivery_key not in posted)
    run.states = {}
    for row in rows:
        run.states[str(row.state)] = run.states.get(str(row.state), 0) + 1
    run.reclaimed = sum(1 for row in rows if row.attempts)
    last = max((row.sent_at for row in rows if row.sent_at), default=None)
    run.elapsed = last.timestamp() - started_wall if last else float("nan")
    await broadcast_tick(sessions=sessions, now=utcnow())
    async with sessions() as session:
        run.broadcast_status = str((await session.exec(select(Broadcast.status))).one())


async def measure(args: argparse.Namespace, name: str, kill_at: float) -> Run:
    run = Run(name=name, leaders=args.leaders, floor=args.leaders / args.workspace_rate)
    options = argparse.Namespace(**{**vars(args), "kill_at": kill_at})
    async with scratch_database(args.database_url) as url:
        await deliver(options, url, run)
    return run


async def run_all(args: argparse.Namespace) -> list[Run]:
    runs = []
    if not args.no_baseline:
        runs.append(await measure(args, "baseline", 0.0))
    runs.append(await measure(args, "killed", args.kill_at))
    return runs


def main(argv: list[str] | None = None) -> int:
    from bench.broadcast_report import print_verdicts, write_report

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_SERVER,
                        help="server to create scratch databases on, or 'sqlite'")
    parser.add_argument("--leaders", type=int, default=5000)
    parser.add_argument("--workspace-rate", type=float, default=50.0)
    parser.add_argument("--rate", type=float, default=50.0, help="the bot's own pace")
    parser.add_argument("--burst", type=int, default=10, help="the bot's own burst")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--kill-at", type=float, default=0.5,
                        help="kill the worker once this share of messages is sent")
    parser.add_argument("--stale-after", type=float, default=10.0,
                        help="seconds before a row left mid-send is taken again")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks-broadcast.md"),
                        help="where to write the report ('' to skip)")
    args = parser.parse_args(argv)
    runs = asyncio.run(run_all(args))
    ok = print_verdicts(runs)
    if args.output:
        write_report(args, runs, Path(args.output), argv if argv is not None else sys.argv[1:])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
