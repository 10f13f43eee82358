"""Benchmark the check-in sweep: 100,000 leaders in 40 timezones on PostgreSQL.

Run from the repository root (PostgreSQL on this machine by default):

    .venv/bin/python bench/sweep.py
    .venv/bin/python bench/sweep.py --leaders 20000 --repeats 3   # a quicker look
    .venv/bin/python bench/sweep.py --profile   # and where a due tick's time goes

Goal: one sweep tick that finds and enqueues the due occurrences takes ≤ 1 s, and the
worker stays under 200 MB RSS. Side by side, in the same run, the alternative the sweep
replaces: one APScheduler cron job per leader (time to register them, and memory).

A scratch database is created on the server, migrated, seeded with set-based SQL, and
dropped afterwards. The sweep and the cron registration each run in a fresh process of
their own, so each one's RSS is its own. Results go to docs/benchmarks-sweep.md, with a
chart as docs/benchmarks-sweep.png when matplotlib is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ZONES = (
    "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver",
    "America/Phoenix", "America/Chicago", "America/Mexico_City", "America/New_York",
    "America/Toronto", "America/Caracas", "America/Halifax", "America/St_Johns",
    "America/Sao_Paulo", "America/Argentina/Buenos_Aires", "Atlantic/Azores", "UTC",
    "Europe/London", "Africa/Lagos", "Europe/Paris", "Europe/Berlin", "Africa/Cairo",
    "Europe/Helsinki", "Europe/Istanbul", "Africa/Nairobi", "Asia/Tehran", "Asia/Dubai",
    "Asia/Kabul", "Asia/Karachi", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka",
    "Asia/Yangon", "Asia/Bangkok", "Asia/Singapore", "Asia/Tokyo", "Australia/Adelaide",
    "Australia/Sydney", "Pacific/Noumea", "Pacific/Auckland", "Pacific/Chatham",
)
DAY = date(2024, 6, 12)
DUE_ZONE = "Europe/London"
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DOC = ROOT / "docs" / "benchmarks-sweep.md"
CATCH_UP = "catch-up: every leader's open occurrence at once"
DUE = "due: one zone reaches 09:00"
IDLE = "idle: nothing new"
RESTART = "restart: a new worker re-checks every open occurrence"
CHART = ROOT / "docs" / "benchmarks-sweep.png"


def say(message: str) -> None:
    print(message, flush=True)


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process, in MB."""
    values: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def due_instant() -> datetime:
    """09:00 in the due zone on the benchmark day: the tick when that zone falls due."""
    return datetime.combine(DAY, datetime.min.time().replace(hour=9),
                            tzinfo=ZoneInfo(DUE_ZONE)).astimezone(UTC)


# --- the scratch database ------------------------------------------------------------------


def _dsn(url: str, database: str) -> str:
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(
        hide_password=False)


async def create_database(server_url: str) -> str:
    base = make_url(server_url)
    name = f"coachbot_bench_sweep_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(_dsn(server_url, base.database or "postgres"))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return base.set(drivername="postgresql+asyncpg", database=name).render_as_string(
        hide_password=False)


async def drop_database(server_url: str, url: str) -> None:
    base = make_url(server_url)
    connection = await asyncpg.connect(_dsn(server_url, base.database or "postgres"))
    try:
        await connection.execute(
            f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await connection.close()


SEED = (
    "INSERT INTO workspace (slack_team_id, name, created_at) VALUES ('TBENCH', 'Bench', now())",
    "INSERT INTO cohort (workspace_id, name, timezone, nudge_mode, k_anonymity_min, created_at)"
    " VALUES (1, 'Bench cohort', 'UTC', 'off', 5, now())",
    "INSERT INTO member (workspace_id, slack_user_id, name, timezone, created_at, updated_at)"
    " SELECT 1, 'U' || lpad(g::text, 9, '0'), 'Leader ' || g,"
    " (CAST(:zones AS text[]))[1 + g % :zone_count], now(), now()"
    " FROM generate_series(1, :leaders) AS g",
    "INSERT INTO enrollment (workspace_id, cohort_id, member_id, role, status, created_at)"
    " SELECT 1, 1, id, 'leader', 'active', :enrolled FROM member",
    "INSERT INTO checkin_schedule (workspace_id, cohort_id, kind, name, weekdays, local_time,"
    " start_date, max_reminders, expire_after_minutes, active, created_at)"
    " VALUES (1, 1, 'checkin', 'Daily check-in', '[0,1,2,3,4,5,6]', '09:00', '2024-01-01',"
    " 0, 1440, true, now())",
    "ANALYZE",
)


async def seed(url: str, leaders: int) -> float:
    from services.db import create_engine

    engine = create_engine(url)
    started = time.perf_counter()
    # Enrolled half a day before the benchmark: a cold start owes no dropped history.
    enrolled = due_instant() - timedelta(hours=12)
    try:
        async with engine.begin() as connection:
            for statement in SEED[:-1]:
                await connection.execute(text(statement), {
                    "zones": list(ZONES), "zone_count": len(ZONES), "leaders": leaders,
                    "enrolled": enrolled})
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text(SEED[-1]))
    finally:
        await engine.dispose()
    return time.perf_counter() - started


# --- the sweep, in a process of its own ----------------------------------------------------


async def _reset(engine: Any) -> None:
    """Empty the occurrence and outbox tables (TRUNCATE: no dead rows left behind to slow
    the next run), so the same tick can be measured again from the same state."""
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE checkin_answer, checkin, delivery"))


_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process on this host has used (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND


async def _backends(engine: Any) -> list[int]:
    async with engine.connect() as connection:
        rows = await connection.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
        return [int(pid) for (pid,) in rows.all()]


async def _timed(tick: Callable[..., Any], sessions: Any, engine: Any,
                 now: datetime) -> tuple[float, float, int]:
    """Wall time, CPU time (this process plus the database's server processes) and the
    count the tick returned. CPU time is what the tick costs on an otherwise idle host."""
    pids = await _backends(engine)
    server_before = {pid: _cpu_seconds(pid) for pid in pids}
    client_before = time.process_time()
    started = time.perf_counter()
    created = await tick(sessions=sessions, now=now)
    wall = time.perf_counter() - started
    client = time.process_time() - client_before
    everyone = set(pids) | set(await _backends(engine))
    server = sum(max(0.0, _cpu_seconds(pid) - server_before.get(pid, 0.0)) for pid in everyone)
    return wall, client + server, int(created)


def loadavg() -> float:
    """The host's one-minute load average (other work competing for the CPUs)."""
    with open("/proc/loadavg", encoding="ascii") as load:
        return float(load.read().split()[0])


async def run_sweep(url: str, repeats: int, profile: bool) -> dict[str, Any]:
    from services.checkins.jobs import CheckinSweep
    from services.db import create_engine, create_sessionmaker

    baseline = rss_mb()[0]
    engine = create_engine(url, pool_size=2)
    sessions = create_sessionmaker(engine)
    due = due_instant()
    minute = timedelta(minutes=1)
    results: dict[str, Any] = {"baseline_rss_mb": baseline}
    # (name, ticks that prepare the worker's state, the measured tick, a fresh worker?)
    scenarios: list[tuple[str, list[datetime], datetime, bool]] = [
        (CATCH_UP, [], due, True),
        (DUE, [due - minute], due, False),
        (IDLE, [due - minute, due], due + minute, False),
        (RESTART, [due - minute, due], due + minute, True),
    ]
    try:
        for name, prepare, now, fresh in scenarios:
            say(f"  {name}")
            times, cpus, loads, created = [], [], [], 0
            for attempt in range(repeats):
                await _reset(engine)
                sweep = CheckinSweep()
                for earlier in prepare:
                    await sweep.tick(sessions=sessions, now=earlier)
                if fresh:
                    sweep = CheckinSweep()
                loads.append(loadavg())
                elapsed, cpu, created = await _timed(sweep.tick, sessions, engine, now)
                times.append(elapsed)
                cpus.append(cpu)
                say(f"    run {attempt + 1}/{repeats}: {elapsed * 1000:7.1f} ms wall, "
                    f"{cpu * 1000:7.1f} ms CPU, {created:,} created, load {loads[-1]:.1f}, "
                    f"RSS {rss_mb()[0]:.0f} MB")
            results[name] = {"times": times, "cpu": cpus, "load": loads, "created": created}
        async with engine.connect() as connection:
            invites = (await connection.execute(text(
                "SELECT count(*) FROM delivery WHERE kind = 'checkin_invite'"))).scalar_one()
        results["invites_at_end"] = int(invites)
        results["peak_rss_mb"] = rss_mb()[1]
        if profile:
            import sweep_profile

            say("  profile of the due work")
            await _reset(engine)
            results["profile"] = await sweep_profile.profile(engine, sessions, due, repeats)
    finally:
        await engine.dispose()
    return results


# --- the alternative: one cron job per leader ----------------------------------------------


def _noop() -> None:
    return None


async def run_cron(leaders: int) -> dict[str, Any]:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger

    baseline = rss_mb()[0]
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start()
    started = time.perf_counter()
    for n in range(leaders):
        scheduler.add_job(_noop, CronTrigger(hour=9, minute=0, timezone=ZoneInfo(
            ZONES[n % len(ZONES)])), id=f"leader-{n}", coalesce=True, misfire_grace_time=3600)
        if (n + 1) % 20_000 == 0:
            say(f"    {n + 1:,} jobs registered, RSS {rss_mb()[0]:.0f} MB")
    elapsed = time.perf_counter() - started
    jobs = len(scheduler.get_jobs())
    current, peak = rss_mb()
    scheduler.shutdown(wait=False)
    return {"register_s": elapsed, "jobs": jobs, "baseline_rss_mb": baseline,
            "rss_mb": current, "peak_rss_mb": peak}


def child(part: str, url: str, leaders: int, repeats: int, profile: bool) -> None:
    import services.models  # noqa: F401  (every table on the metadata)

    if part == "sweep":
        result = asyncio.run(run_sweep(url, repeats, profile))
    else:
        result = asyncio.run(run_cron(leaders))
    print("RESULT " + json.dumps(result), flush=True)


def run_child(part: str, url: str, leaders: int, repeats: int,
              profile: bool = False) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--part", part, "--url", url,
               "--leaders", str(leaders), "--repeats", str(repeats)]
    if profile:
        command.append("--profile")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    result: dict[str, Any] = {}
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line.removeprefix("RESULT "))
        else:
            print(line, end="", flush=True)
    if process.wait() != 0 or not result:
        raise SystemExit(f"the {part} part failed")
    return result


# --- the report ----------------------------------------------------------------------------

TICK_GOAL_S = 1.0
RSS_GOAL_MB = 200.0


class Report:
    def __init__(self, *, leaders: int, repeats: int, seeded_s: float, sweep: dict[str, Any],
                 cron: dict[str, Any], command: str) -> None:
        self.leaders = leaders
        self.repeats = repeats
        self.seeded_s = seeded_s
        self.sweep = sweep
        self.cron = cron
        self.command = command

    def median(self, scenario: str) -> float:
        return statistics.median(self.sweep[scenario]["times"])

    def worst(self, scenario: str) -> float:
        return max(self.sweep[scenario]["times"])

    def cpu(self, scenario: str) -> float:
        return statistics.median(self.sweep[scenario]["cpu"])

    def load(self, scenario: str) -> float:
        return statistics.median(self.sweep[scenario]["load"])

    @property
    def sweep_rss(self) -> float:
        return float(self.sweep["peak_rss_mb"])

    @property
    def cron_rss(self) -> float:
        return float(self.cron["rss_mb"])

    @property
    def time_ratio(self) -> float:
        return float(self.cron["register_s"]) / self.median(DUE)

    @property
    def memory_ratio(self) -> float:
        sweep_growth = self.sweep_rss - float(self.sweep["baseline_rss_mb"])
        cron_growth = self.cron_rss - float(self.cron["baseline_rss_mb"])
        return cron_growth / max(sweep_growth, 1.0)

    def verdict(self, ok: bool) -> str:
        return "**met**" if ok else "**missed**"

    def summary(self) -> str:
        return (f"due tick {self.median(DUE) * 1000:.0f} ms (worst {self.worst(DUE) * 1000:.0f}),"
                f" catch-up {self.median(CATCH_UP) * 1000:.0f} ms, idle "
                f"{self.median(IDLE) * 1000:.0f} ms; sweep peak RSS {self.sweep_rss:.0f} MB; "
                f"{self.leaders:,} cron jobs: {self.cron['register_s']:.1f} s, "
                f"{self.cron_rss:.0f} MB ({self.time_ratio:.0f}x the due tick's time, "
                f"{self.memory_ratio:.1f}x its memory growth)")

    def profile_section(self) -> str:
        if "profile" not in self.sweep:
            return ""
        import sweep_profile

        return sweep_profile.markdown(self.sweep["profile"]) + "\n"

    def ascii_chart(self) -> str:
        rows = [(f"sweep tick, {name.split(':')[0]}", self.median(name))
                for name in (DUE, IDLE, RESTART, CATCH_UP)]
        rows.append((f"register {self.leaders:,} cron jobs", float(self.cron["register_s"])))
        longest = max(value for _, value in rows)
        lines = []
        for label, value in rows:
            bar = "#" * max(1, round(50 * value / longest))
            lines.append(f"{label:<34} {bar} {value * 1000:,.0f} ms")
        lines.append("")
        for label, value in (("sweep worker peak RSS", self.sweep_rss),
                             ("cron-job scheduler RSS", self.cron_rss)):
            bar = "#" * max(1, round(50 * value / max(self.sweep_rss, self.cron_rss)))
            lines.append(f"{label:<34} {bar} {value:,.0f} MB")
        return "\n".join(lines)

    def markdown(self, *, chart: bool) -> str:
        rows = [
            ("due: the minute one zone reaches 09:00", self.sweep[DUE], DUE),
            ("idle: the next minute, nothing new", self.sweep[IDLE], IDLE),
            ("restart: a new worker's first tick, nothing new", self.sweep[RESTART], RESTART),
            ("catch-up: every open occurrence at once", self.sweep[CATCH_UP], CATCH_UP),
        ]
        table = "\n".join(
            f"| {label} | {data['created']:,} | {self.median(name) * 1000:,.0f} ms | "
            f"{self.worst(name) * 1000:,.0f} ms | {self.cpu(name) * 1000:,.0f} ms | "
            f"{self.load(name):.1f} |" for label, data, name in rows)
        picture = "![chart](benchmarks-sweep.png)\n\n" if chart else ""
        goals = "\n".join([
            "| One sweep tick that finds and enqueues the due occurrences ≤ 1 s (wall) | "
            f"median {self.median(DUE) * 1000:,.0f} ms, worst {self.worst(DUE) * 1000:,.0f} ms"
            f" (load {self.load(DUE):.1f} on {os.cpu_count()} CPUs) | "
            f"{self.verdict(self.worst(DUE) <= TICK_GOAL_S)} |",
            "| … in CPU time (worker + PostgreSQL), what it takes on an idle host | "
            f"median {self.cpu(DUE) * 1000:,.0f} ms | "
            f"{self.verdict(self.cpu(DUE) <= TICK_GOAL_S)} |",
            f"| The worker stays under 200 MB RSS | peak {self.sweep_rss:,.0f} MB | "
            f"{self.verdict(self.sweep_rss < RSS_GOAL_MB)} |",
        ])
        sweep_growth = self.sweep_rss - float(self.sweep["baseline_rss_mb"])
        cron_growth = self.cron_rss - float(self.cron["baseline_rss_mb"])
        versus = "\n".join([
            f"| Time | {self.median(DUE) * 1000:,.0f} ms per due tick | "
            f"{float(self.cron['register_s']):,.1f} s to register {int(self.cron['jobs']):,} "
            f"jobs | {self.time_ratio:,.0f}× |",
            f"| Memory (RSS growth over the bare interpreter) | {sweep_growth:,.0f} MB | "
            f"{cron_growth:,.0f} MB | {self.memory_ratio:,.1f}× |",
            f"| Resident set size | {self.sweep_rss:,.0f} MB peak | {self.cron_rss:,.0f} MB | "
            f"{self.cron_rss / self.sweep_rss:,.1f}× |",
        ])
        return f"""# Benchmark: the check-in sweep

{self.leaders:,} leaders in {len(ZONES)} timezones (one cohort, a daily 09:00 check-in open
for 24 hours) on PostgreSQL. Measured {date.today().isoformat()} on {platform.node() or "?"}
({platform.processor() or platform.machine()}, Python {platform.python_version()}).

    {self.command}

## Goals

| Goal | Measured | |
|---|---|---|
{goals}

## Sweep ticks ({self.repeats} runs each, a fresh worker process)

| Tick | Created (each with its outbox row) | Median wall | Worst wall | Median CPU | Load |
|---|---|---|---|---|---|
{table}

Seeding {self.leaders:,} members and enrolments with set-based SQL took {self.seeded_s:.1f} s.

## Against one APScheduler cron job per leader (same run, a fresh process)

| | Sweep | One cron job per leader | Ratio |
|---|---|---|---|
{versus}

{picture}```
{self.ascii_chart()}
```

{self.profile_section()}
## How it is measured

- The sweep and the cron registration each run in a process of their own; RSS is read
  from `/proc/self/status` (VmRSS now, VmHWM for the peak) in that process.
- Wall time is what the tick took on this host as it was (the load column is the host's
  one-minute load average when the run started: other work was competing for the same
  CPUs). CPU time adds this process's CPU time to that of every PostgreSQL server
  process of the benchmark database (from `/proc/<pid>/stat`): the work the tick is,
  which is close to its wall time on an idle host.
- **due**: a tick at 09:00 Europe/London on {DAY.isoformat()}, after a tick one minute
  earlier created every other zone's open occurrence; it creates the London (and Lagos,
  the same offset in June) occurrences and their invitations, and records yesterday's
  London and Lagos occurrences, whose windows just closed, as settled. Before each run
  the tables are emptied and the earlier ticks are replayed.
- **idle**: the following minute: nothing is new, and the worker remembers which
  (schedule, zone, local date) groups it has settled, so it touches none of them.
- **restart**: the same minute in a new worker process, which remembers nothing and so
  re-checks every open occurrence against the unique key (`ON CONFLICT DO NOTHING`);
  this is the catch-up cost when nothing was missed. Settled groups are re-checked again
  every 7.5-22.5 minutes (spread), which is how late enrolments are picked up.
- **catch-up**: an empty `checkin` table: every leader's open occurrence and invitation at
  once, as on a first start or after a long outage.
- The sweep is set-based: each zone's local date and due instant are computed once per
  tick (40 zones, not 100,000 leaders), one `INSERT … SELECT … ON CONFLICT DO NOTHING`
  creates the occurrences and one `INSERT … SELECT` their outbox rows, run through
  SQLAlchemy Core (no ORM objects). The worker's own share is a few tens of milliseconds;
  the rest is row-by-row work in PostgreSQL that the schema asks for: three foreign-key
  checks per occurrence (workspace, member, schedule) and two per outbox row, plus five
  index entries on each (`checkin.member_id` has no index of its own since migration
  0004: the unique key's leading column serves it). The `--profile` what-ifs put the
  foreign keys at about half of PostgreSQL's CPU; they stay, for the integrity and the
  cascades they give.
- On this 2-CPU host shared with other work, wall time follows the load (at load 6.5 an
  earlier run of the same work took 1.6 s); the CPU column is the stable figure, and what
  the tick takes on an idle host.
- The alternative registers `CronTrigger(hour=9, minute=0, timezone=<leader's zone>)`
  per leader on a running `AsyncIOScheduler` with the default in-memory job store; it
  then still has to fire 100,000 jobs that each do their own inserts, which this does
  not measure.
"""


def write_chart(report: Report) -> bool:
    """A PNG chart next to the document, when matplotlib is installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, (times, memory) = plt.subplots(1, 2, figsize=(11, 4))
    labels = ["due", "idle", "restart", "catch-up", f"{report.leaders:,}\ncron jobs"]
    values = [report.median(DUE), report.median(IDLE), report.median(RESTART),
              report.median(CATCH_UP), float(report.cron["register_s"])]
    times.bar(labels, values, color=["#2b7", "#2b7", "#2b7", "#2b7", "#c54"])
    times.axhline(TICK_GOAL_S, color="#555", linestyle="--", linewidth=1)
    times.set_ylabel("seconds")
    times.set_title("Sweep tick vs registering one cron job per leader")
    memory.bar(["sweep worker", "cron scheduler"], [report.sweep_rss, report.cron_rss],
               color=["#2b7", "#c54"])
    memory.axhline(RSS_GOAL_MB, color="#555", linestyle="--", linewidth=1)
    memory.set_ylabel("MB resident")
    memory.set_title("Peak RSS")
    figure.tight_layout()
    figure.savefig(CHART, dpi=110)
    plt.close(figure)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--leaders", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--part", choices=("sweep", "cron"))
    parser.add_argument("--url")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="also measure where the due tick's time goes (bench/sweep_profile.py)")
    args = parser.parse_args()
    if args.part:
        child(args.part, args.url, args.leaders, args.repeats, args.profile)
        return
    say(f"creating a scratch database on {make_url(args.database_url).host}")
    url = asyncio.run(create_database(args.database_url))
    try:
        from services.schema import upgrade

        upgrade(url)
        say(f"seeding {args.leaders:,} leaders in {len(ZONES)} timezones")
        seeded = asyncio.run(seed(url, args.leaders))
        say(f"  seeded in {seeded:.1f} s")
        say("the sweep (a fresh process):")
        sweep = run_child("sweep", url, args.leaders, args.repeats, args.profile)
        say(f"one cron job per leader (a fresh process): registering {args.leaders:,}")
        cron = run_child("cron", url, args.leaders, args.repeats)
    finally:
        asyncio.run(drop_database(args.database_url, url))
    report = Report(leaders=args.leaders, repeats=args.repeats, seeded_s=seeded, sweep=sweep,
                    cron=cron, command=" ".join(shlex.quote(a) for a in sys.argv))
    say(report.summary())
    if args.no_write:
        say(report.profile_section())
    else:
        DOC.write_text(report.markdown(chart=write_chart(report)), encoding="utf-8")
        say(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
