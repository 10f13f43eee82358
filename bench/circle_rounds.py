"""Benchmark forming a circle round end to end against the pure matcher alone.

Run from the repository root:

    .venv/bin/python bench/circle_rounds.py --database-url sqlite \\
        postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

For each roster size a cohort of leaders (5 teams, 3 levels, timezones across the
Americas, EMEA and APAC, a goal with a competency each, 1% of them blocking someone) gets
a weekly series with groups of 4; four rounds are formed first so the matcher has history
to respect. Then rounds 5 to 9 are timed two ways on the same inputs:

- baseline: `form_circles` on candidates, blocks and history already in memory;
- measured: `form_round` in one transaction: read the roster, goals, blocks and history,
  run the same matcher, pick reflection prompts, store circles and members, and enqueue
  one intro per circle (plus a note per person left out), then commit.

The ratio measured / baseline is what the database work adds to the matcher. Results go
to docs/benchmarks-circle-rounds.md, with a PNG chart when matplotlib is installed (an
ASCII chart is always in the document).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shlex
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from statistics import median
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

import services.models  # noqa: F401  (every table on the metadata)
from services.circles import rounds as forming
from services.circles.matcher import form_circles
from services.circles.models import CircleBlock, CircleSeries
from services.db import create_engine, create_sessionmaker, transaction
from services.people.models import Cohort, Enrollment, EnrollmentRole, Member, Workspace
from services.plans.models import Goal, Visibility
from services.prompts import load_reflection_library
from services.schema import upgrade_async

SIZES = (60, 240, 960)
TIMED_ROUNDS = (5, 6, 7, 8, 9)
TEAMS = ("Sales", "Ops", "Engineering", "Finance", "People")
LEVELS = ("L1", "L2", "L3")
ZONES = ("America/Los_Angeles", "America/Chicago", "America/New_York", "Europe/London",
         "Europe/Berlin", "Africa/Johannesburg", "Asia/Kolkata", "Asia/Singapore",
         "Australia/Sydney")
COMPETENCIES = ("delegation", "giving feedback", "resilience", "strategic thinking")
START = date(2026, 1, 5)
DOC = Path("docs/benchmarks-circle-rounds.md")
PNG = Path("docs/benchmarks-circle-rounds.png")


@dataclass
class Timing:
    """Wall-clock and CPU seconds per timed round. The machine is shared, so the fastest
    round (least disturbed) is the wall figure, and CPU time of this process is shown too."""

    size: int
    circles: int
    matcher: list[float]
    end_to_end: list[float]
    matcher_cpu: list[float]
    end_to_end_cpu: list[float]

    @property
    def ratio(self) -> float:
        return min(self.end_to_end) / min(self.matcher)

    @property
    def cpu_ratio(self) -> float:
        return median(self.end_to_end_cpu) / median(self.matcher_cpu)

    @property
    def overhead_ms(self) -> float:
        return 1000 * (min(self.end_to_end) - min(self.matcher))


def _dsn(url: str, database: str) -> str:
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(
        hide_password=False)


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
    admin = _dsn(server, base.database or "postgres")
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


async def seed(sessions: async_sessionmaker[AsyncSession], size: int) -> int:
    """A cohort of `size` leaders with goals and a few blocks; returns the series id."""
    rng = random.Random(size)
    async with transaction(sessions) as session:
        workspace = Workspace(slack_team_id=f"TBENCH{size}", name="Bench")
        session.add(workspace)
        await session.flush()
        cohort = Cohort(workspace_id=workspace.id or 0, name="Bench cohort",
                        timezone="Europe/London", k_anonymity_min=5)
        session.add(cohort)
        await session.flush()
        members = [Member(workspace_id=workspace.id or 0, slack_user_id=f"UB{size}X{n:05d}",
                          name=f"Leader {n}", timezone=rng.choice(ZONES),
                          team=rng.choice(TEAMS), level=rng.choice(LEVELS))
                   for n in range(size)]
        session.add_all(members)
        await session.flush()
        session.add_all(Enrollment(workspace_id=workspace.id or 0, cohort_id=cohort.id or 0,
                                   member_id=m.id or 0, role=EnrollmentRole.leader)
                        for m in members)
        session.add_all(Goal(workspace_id=workspace.id or 0, member_id=m.id or 0, title="Grow",
                             competency=rng.choice(COMPETENCIES), visibility=Visibility.coach)
                        for m in members)
        for blocker in rng.sample(members, max(1, size // 100)):
            blocked = rng.choice([m for m in members if m is not blocker])
            session.add(CircleBlock(workspace_id=workspace.id or 0, blocker_id=blocker.id or 0,
                                    blocked_id=blocked.id or 0))
        series = CircleSeries(workspace_id=workspace.id or 0, cohort_id=cohort.id or 0,
                              name="Bench circles", group_size=4, cadence_weeks=1, weekday=0,
                              local_time=clock_time(10), start_date=START, affinity=True)
        session.add(series)
        await session.flush()
        return series.id or 0


async def form(
    sessions: async_sessionmaker[AsyncSession], series_id: int, number: int
) -> tuple[float, float, int]:
    """Form round `number` in one transaction; (seconds, CPU seconds, circles)."""
    library = load_reflection_library()
    started, cpu = time.perf_counter(), time.process_time()
    async with transaction(sessions) as session:
        series = await session.get(CircleSeries, series_id)
        assert series is not None
        circle_round = await forming.start_round(
            session=session, series=series, zone=ZoneInfo("Europe/London"), number=number,
            now=datetime.now(UTC))
        assert circle_round is not None
        formed = await forming.form_round(session=session, round_id=circle_round.id or 0,
                                          now=datetime.now(UTC), library=library)
    return time.perf_counter() - started, time.process_time() - cpu, formed.circles


async def matcher_only(
    sessions: async_sessionmaker[AsyncSession], series_id: int, number: int
) -> tuple[float, float]:
    """The same matcher call on the same inputs, read beforehand; (seconds, CPU seconds)."""
    async with sessions() as session:
        series = await session.get(CircleSeries, series_id)
        assert series is not None
        on = START + timedelta(weeks=number - 1)
        people = await forming._roster(session, series, on=on)
        competencies = await forming._competencies(session, [p.id or 0 for p in people])
        candidates = [forming._candidate(p, on=on, competencies=competencies) for p in people]
        blocks = await forming._blocks(session, {p.id or 0 for p in people})
        history = await forming._history(session, series, before=number)
        settings = forming.match_settings(series, rounds_so_far=number - 1)
        seed = series.seed + number
        await session.rollback()  # _roster may add participation rows; keep none
    started, cpu = time.perf_counter(), time.process_time()
    form_circles(candidates=candidates, blocks=blocks, history=history, settings=settings,
                 seed=seed)
    return time.perf_counter() - started, time.process_time() - cpu


async def run_size(url: str, size: int) -> Timing:
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    try:
        series_id = await seed(sessions, size)
        for number in range(1, TIMED_ROUNDS[0]):
            await form(sessions, series_id, number)
        timing = Timing(size=size, circles=0, matcher=[], end_to_end=[], matcher_cpu=[],
                        end_to_end_cpu=[])
        for number in TIMED_ROUNDS:
            seconds, cpu = await matcher_only(sessions, series_id, number)
            timing.matcher.append(seconds)
            timing.matcher_cpu.append(cpu)
            seconds, cpu, circles = await form(sessions, series_id, number)
            timing.end_to_end.append(seconds)
            timing.end_to_end_cpu.append(cpu)
            timing.circles = circles
            print(f"  {size:>5} leaders, round {number}: matcher {timing.matcher[-1]:.3f} s, "
                  f"form_round {seconds:.3f} s ({cpu:.3f} s CPU), {circles} circles", flush=True)
    finally:
        await engine.dispose()
    return timing


def ascii_chart(timings: list[Timing]) -> list[str]:
    widest = max(min(t.end_to_end) for t in timings)
    lines = []
    for t in timings:
        for label, value in (("matcher", min(t.matcher)),
                             ("form_round", min(t.end_to_end))):
            bar = "#" * max(1, round(50 * value / widest))
            lines.append(f"{t.size:>5} {label:<10} {bar} {value:.3f} s")
    return lines


def png_chart(results: dict[str, list[Timing]]) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4), squeeze=False)
    for axis, (backend, timings) in zip(axes[0], results.items(), strict=True):
        positions = range(len(timings))
        axis.bar([p - 0.2 for p in positions], [min(t.matcher) for t in timings], 0.4,
                 label="matcher alone (baseline)")
        axis.bar([p + 0.2 for p in positions], [min(t.end_to_end) for t in timings], 0.4,
                 label="form_round end to end")
        axis.set_xticks(list(positions), [str(t.size) for t in timings])
        axis.set_xlabel("leaders in the cohort")
        axis.set_ylabel(f"seconds (fastest of {len(TIMED_ROUNDS)} rounds)")
        axis.set_title(f"Forming a circle round on {backend}")
        axis.legend()
    figure.tight_layout()
    figure.savefig(PNG, dpi=120)
    return True


def backend_section(backend: str, timings: list[Timing]) -> list[str]:
    rows = [
        f"| {t.size} | {t.circles} | {min(t.matcher):.3f} | {min(t.end_to_end):.3f} | "
        f"{t.ratio:.2f}× | {t.overhead_ms:.0f} | {t.overhead_ms / max(t.circles, 1):.1f} | "
        f"{t.cpu_ratio:.2f}× |"
        for t in timings
    ]
    return [
        f"## {backend}",
        "",
        "| leaders | circles | matcher s | form_round s | ratio | DB work ms | ms per circle "
        "| CPU ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "```",
        *ascii_chart(timings),
        "```",
        "",
    ]


def write_doc(results: dict[str, list[Timing]], *, command: str, png: bool) -> None:
    text = [
        "# Benchmark: forming a circle round end to end",
        "",
        f"Command: `{command}`",
        "",
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs.",
        "",
        "Each roster has had four rounds already (history to respect), groups of 4, affinity",
        f"on, 1% of leaders blocking someone. Rounds 5-{TIMED_ROUNDS[-1]} are timed. The",
        "machine is shared with other work, so wall times are the fastest round of each",
        "(the least disturbed); the CPU ratio (medians of this process's CPU time, which",
        "leaves out the PostgreSQL server's own work) is the steadier figure.",
        "The baseline is the pure matcher on the same inputs, read beforehand; `form_round`",
        "adds reading the roster, goals, blocks and history, choosing reflection prompts,",
        "storing circles and members, enqueueing the intros, and the commit.",
        "",
    ]
    for backend, timings in results.items():
        text += backend_section(backend, timings)
    if png:
        text += [f"![chart]({PNG.name})", ""]
    DOC.write_text("\n".join(text), encoding="utf-8")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", nargs="+", default=["sqlite"],
                        help="'sqlite' and/or a PostgreSQL server URL")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    results: dict[str, list[Timing]] = {}
    for server in args.database_url:
        backend = "SQLite" if server.startswith("sqlite") else "PostgreSQL"
        results[backend] = []
        async with scratch_database(server) as url:
            for size in args.sizes:
                print(f"{size} leaders on {backend} ...", flush=True)
                results[backend].append(await run_size(url, size))
    command = shlex.join([".venv/bin/python", "bench/circle_rounds.py", *sys.argv[1:]])
    png = png_chart(results)
    write_doc(results, command=command, png=png)
    for backend, timings in results.items():
        print(backend, *ascii_chart(timings), sep="\n")
    print(f"wrote {DOC}" + (f" and {PNG}" if png else ""))


if __name__ == "__main__":
    asyncio.run(main())
