"""Benchmark the nudge sweep: 1,000 leaders against a local OpenAI-compatible stand-in.

Run from the repository root (PostgreSQL on this machine by default):

    .venv/bin/python bench/nudges.py
    .venv/bin/python bench/nudges.py --database-url sqlite --concurrency 4,16

The stand-in (tests/llm/openai_stand_in.py, in a process of its own) answers every chat
completion after 300 ms with a grounded draft built from the leader data it was sent.
For each configured drafter concurrency C (`COACHBOT_LLM_CONCURRENCY`, 4 by default) the
script runs:

* a baseline: the bare OpenAI drafter over the same 1,000 contexts (built beforehand), C at
  a time: the model-bound floor this machine reaches;
* the sweep: `nudge_tick` from the database, wired as `coachbot worker` wires it — who is
  due, each leader's context, the draft, validation, the nudge row and its outbox intent,
  one transaction each side of the model.

Goal: sweep elapsed ≤ 1.2 × (1,000 × 0.3 s ÷ C), 100% of sent nudges grounded (re-checked
from the stored rows), and the model's token use per nudge reported. `--bad-rate` makes
the stand-in answer that share of requests with another leader's goal, to show the retry
and offline fallback under load. Results go to docs/benchmarks-nudges.md, with a chart as
docs/benchmarks-nudges.png when matplotlib is installed (an ASCII chart is always there).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from nudges_report import Run, write_report  # noqa: E402
from nudges_world import (  # noqa: E402
    DEFAULT_SERVER,
    NOW,
    TODAY,
    StandIn,
    reset,
    scratch_database,
    seed,
    validation_cost,
)

import services.models  # noqa: E402,F401  (every table on the metadata)
from services.config import Settings  # noqa: E402
from services.db import create_engine, create_sessionmaker, transaction  # noqa: E402
from services.delivery.models import Delivery  # noqa: E402
from services.llm import (  # noqa: E402
    DraftResult,
    NudgeDrafter,
    OpenAIDrafter,
    create_llm_drafter,
    nudge_messages,
)
from services.nudges.context import Audience  # noqa: E402
from services.nudges.jobs import leaders_at_once, nudge_tick  # noqa: E402
from services.nudges.models import Nudge  # noqa: E402
from services.nudges.schema import NudgeContext  # noqa: E402
from services.nudges.sources import load_context, other_people, workspace_names  # noqa: E402
from services.nudges.timing import due_leaders  # noqa: E402
from services.nudges.validation import content_problems  # noqa: E402
from services.people.models import (  # noqa: E402
    Member,
)
from services.plans.models import (  # noqa: E402
    OPEN_GOAL_STATUSES,
    Goal,
    Milestone,
)
from tests.llm.openai_stand_in import (  # noqa: E402
    MODEL,
)

# --- runs --------------------------------------------------------------------------------


class Progress:
    """Counts finished drafts, prints every 100 and keeps a timeline for the chart."""

    def __init__(self, drafter: NudgeDrafter, label: str, total: int) -> None:
        self.drafter = drafter
        self.label = label
        self.total = total
        self.done = 0
        self.started = time.perf_counter()
        self.timeline: list[tuple[float, int]] = [(0.0, 0)]

    async def draft(self, *, context: NudgeContext) -> DraftResult:
        result = await self.drafter.draft(context=context)
        self.done += 1
        elapsed = time.perf_counter() - self.started
        self.timeline.append((elapsed, self.done))
        if self.done % 100 == 0:
            print(f"  {self.label}: {self.done}/{self.total} drafts, {elapsed:6.1f} s",
                  flush=True)
        return result


def bench_settings(base_url: str, concurrency: int) -> Settings:
    return Settings(_env_file=None, COACHBOT_ENV="test",
                    OPENAI_BASE_URL=base_url, OPENAI_API_KEY="sk-bench",
                    COACHBOT_LLM_MODEL=MODEL, COACHBOT_LLM_CONCURRENCY=concurrency)


def drafter_for(settings: Settings) -> OpenAIDrafter:
    """The drafter `coachbot worker` builds from these settings (no client retries here)."""
    drafter = create_llm_drafter(settings=settings, timeout_seconds=10.0, max_retries=0)
    assert drafter is not None
    return drafter


async def contexts(sessions: async_sessionmaker[AsyncSession]) -> list[NudgeContext]:
    async with sessions() as session:
        members = (await session.exec(select(Member).order_by(Member.id))).all()  # type: ignore[arg-type]
        names = await workspace_names(session=session, workspace_id=members[0].workspace_id)
        return [await load_context(session=session, member=m, local_date=TODAY, now=NOW,
                                   audience=Audience.leader, names=names) for m in members]


async def sweep_setup_cost(sessions: async_sessionmaker[AsyncSession]) -> tuple[float, float]:
    """Wall and CPU seconds of what every sweep does once: who is due, and everyone's names."""
    started, cpu = time.perf_counter(), time.process_time()
    async with transaction(sessions) as session:
        due = await due_leaders(session=session, now=NOW)
        await workspace_names(session=session, workspace_id=due[0].workspace_id)
    return time.perf_counter() - started, time.process_time() - cpu


async def cpu_cost(sessions: async_sessionmaker[AsyncSession], stand_in: StandIn,
                   prepared: list[NudgeContext], *, sample: int = 100) -> dict[str, float]:
    """Milliseconds per leader with a model that answers at once, one leader at a time; the
    sweep's fixed start (who is due among all leaders) is measured apart and taken out."""
    async with drafter_for(bench_settings(stand_in.base_url, 1)) as drafter:
        started, cpu = time.perf_counter(), time.process_time()
        for context in prepared[:sample]:
            await drafter.draft(context=context)
        draft_ms = (time.perf_counter() - started) / sample * 1000
        draft_cpu = (time.process_time() - cpu) / sample * 1000
        await reset(sessions)
        setup_wall, setup_cpu = await sweep_setup_cost(sessions)
        started, cpu = time.perf_counter(), time.process_time()
        await nudge_tick(sessions=sessions, now=NOW, drafter=drafter, parallel=1, batch=sample)
        leader_ms = (time.perf_counter() - started - setup_wall) / sample * 1000
        leader_cpu = (time.process_time() - cpu - setup_cpu) / sample * 1000
    await reset(sessions)
    return {"draft_ms": draft_ms, "draft_cpu": draft_cpu, "leader_ms": leader_ms,
            "leader_cpu": leader_cpu, "setup_s": setup_wall}


async def run_one(sessions: async_sessionmaker[AsyncSession], stand_in: StandIn, *,
                  leaders: int, concurrency: int, latency: float, bad_rate: float,
                  prepared: list[NudgeContext]) -> Run:
    settings = bench_settings(stand_in.base_url, concurrency)
    run = Run(concurrency=concurrency, bad_rate=bad_rate, ideal=leaders * latency / concurrency)
    print(f"C={concurrency}, bad answers {bad_rate:.0%}: ideal {run.ideal:.1f} s", flush=True)
    async with drafter_for(settings) as drafter:
        progress = Progress(drafter, "baseline", leaders)
        started = time.perf_counter()
        await asyncio.gather(*(progress.draft(context=c) for c in prepared))
        run.baseline = time.perf_counter() - started
    stand_in.stats()
    await reset(sessions)
    async with drafter_for(settings) as drafter:
        progress = Progress(drafter, "sweep", leaders)
        started = time.perf_counter()
        run.recorded = await nudge_tick(sessions=sessions, now=NOW, drafter=progress,
                                        parallel=leaders_at_once(settings.llm_concurrency),
                                        batch=leaders)
        run.sweep = time.perf_counter() - started
        run.timeline = progress.timeline
    served = stand_in.stats()
    run.model_calls, run.max_in_flight = served["requests"], served["max_in_flight"]
    await check(sessions, run, prepared)
    print(f"  baseline {run.baseline:.1f} s, sweep {run.sweep:.1f} s "
          f"({run.ratio_to_ideal:.2f} × ideal, {run.ratio_to_baseline:.2f} × baseline), "
          f"{run.grounded}/{run.recorded} grounded, outcomes {run.by_outcome}", flush=True)
    return run


async def check(sessions: async_sessionmaker[AsyncSession], run: Run,
                prepared: list[NudgeContext]) -> None:
    """Re-check every stored nudge from the database: its own open goal, nothing unsafe."""
    async with sessions() as session:
        nudges = (await session.exec(select(Nudge))).all()
        goals = {g.id: g for g in (await session.exec(select(Goal))).all()}
        milestones = {m.id: m for m in (await session.exec(select(Milestone))).all()}
        names = await workspace_names(session=session, workspace_id=nudges[0].workspace_id)
        run.outbox = len((await session.exec(select(Delivery.id))).all())
    for nudge in nudges:
        goal = goals.get(nudge.goal_id)
        milestone = milestones.get(nudge.milestone_id) if nudge.milestone_id else None
        context = NudgeContext(leader_first_name=names[nudge.member_id].split()[0],
                               local_date=TODAY,
                               other_people=frozenset(other_people(names,
                                                                   leader_id=nudge.member_id)))
        own = goal is not None and goal.member_id == nudge.member_id
        open_goal = own and goal is not None and goal.status in OPEN_GOAL_STATUSES
        milestone_ok = nudge.milestone_id is None or (
            milestone is not None and milestone.goal_id == nudge.goal_id)
        safe = not content_problems(text=nudge.text, context=context)
        if open_goal and milestone_ok and safe:
            run.grounded += 1
    run.by_outcome = dict(Counter(str(nudge.outcome) for nudge in nudges))
    run.tokens_in = sum(n.tokens_in or 0 for n in nudges) / len(nudges)
    run.tokens_out = sum(n.tokens_out or 0 for n in nudges) / len(nudges)
    run.latency_p50 = statistics.median(n.latency_ms or 0 for n in nudges)
    run.prompt_chars = statistics.mean(
        sum(len(str(m.get("content", ""))) for m in nudge_messages(context=c)[0])
        for c in prepared)


async def main_async(args: argparse.Namespace) -> tuple[list[Run], dict[str, float]]:
    stand_ins: dict[float | str, StandIn] = {
        rate: StandIn(latency=args.latency, bad_rate=rate) for rate in {0.0, args.bad_rate}
    }
    stand_ins["instant"] = StandIn(latency=0.0, bad_rate=0.0)
    runs: list[Run] = []
    costs: dict[str, float] = {"load_start": os.getloadavg()[0]}
    try:
        async with scratch_database(args.database_url) as url:
            engine = create_engine(url, pool_size=20)
            sessions = create_sessionmaker(engine)
            try:
                print(f"seeding {args.leaders} leaders", flush=True)
                await seed(sessions, args.leaders)
                prepared = await contexts(sessions)
                costs["validate_ms"] = validation_cost(prepared)
                print(f"validating one draft: {costs['validate_ms']:.2f} ms", flush=True)
                costs.update(await cpu_cost(sessions, stand_ins["instant"], prepared))
                print(f"one at a time, model answering at once: {costs['draft_ms']:.1f} ms "
                      f"({costs['draft_cpu']:.1f} ms CPU) a draft, {costs['leader_ms']:.1f} ms "
                      f"({costs['leader_cpu']:.1f} ms CPU) a leader through the sweep",
                      flush=True)
                plan = [(c, 0.0) for c in args.concurrency]
                if args.bad_rate:
                    plan.append((args.bad_concurrency, args.bad_rate))
                for concurrency, bad_rate in plan:
                    runs.append(await run_one(
                        sessions, stand_ins[bad_rate], leaders=args.leaders,
                        concurrency=concurrency, latency=args.latency, bad_rate=bad_rate,
                        prepared=prepared))
            finally:
                await engine.dispose()
    finally:
        for stand_in in stand_ins.values():
            stand_in.stop()
    return runs, costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_SERVER,
                        help="a PostgreSQL server to make a scratch database on, or 'sqlite'")
    parser.add_argument("--leaders", type=int, default=1000, help="leaders due at once")
    parser.add_argument("--latency", type=float, default=0.3,
                        help="seconds the stand-in takes to answer each completion")
    parser.add_argument("--concurrency", default="4,16,64", metavar="C,C,...",
                        type=lambda s: [int(x) for x in s.split(",")],
                        help="COACHBOT_LLM_CONCURRENCY values to sweep with (default 4,16,64; "
                             "4 is the setting's default)")
    parser.add_argument("--bad-rate", type=float, default=0.05,
                        help="share of answers citing another leader's goal, in an extra sweep")
    parser.add_argument("--bad-concurrency", type=int, default=16,
                        help="the concurrency of that extra sweep")
    args = parser.parse_args()
    command = ".venv/bin/python bench/nudges.py " + shlex.join(sys.argv[1:])
    runs, costs = asyncio.run(main_async(args))
    path = write_report(runs, costs, args, command.strip())
    print(f"wrote {path.relative_to(ROOT)}")
    return 0 if all(r.grounded == r.recorded for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

