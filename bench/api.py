"""Benchmark the REST API on PostgreSQL against a bare FastAPI endpoint served the same way.

Run from the repository root (PostgreSQL on 127.0.0.1:5432, trust auth, and `wrk`):

    .venv/bin/python bench/api.py

It creates a scratch database (coachbot_bench_<random>), seeds leaders with 5 goals × 5
milestones and 5 progress updates per goal, and serves both a bare FastAPI app and
Coachbot's REST API (`create_api(settings, engine)`, see bench/api_apps.py) with uvicorn:
one worker process each, the same flags, on loopback ports. wrk, a separate process,
loads each scenario with 50 connections: a warm-up, then a fixed duration, bare first
in every round. Results go to
docs/benchmarks-api.md and a chart to docs/benchmarks-api.png. The servers and the
database are removed at the end, on Ctrl-C and on errors. py-spy and matplotlib are
benchmark-only dependencies; without them those parts are skipped and the doc says so.
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import shlex
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType

from api_load import (
    WRK_INSTALL_HINT,
    LoadResult,
    Server,
    call_once,
    event_loop_and_http,
    run_load,
    write_wrk_script,
    wrk_path,
)
from api_profile import (
    SPY_RATE,
    Phases,
    SpyProfile,
    explain_on,
    finish_spy,
    measure_phases,
    start_spy,
)
from api_report import Context, draw_chart, markdown
from api_scenarios import SERVERS, Scenario, Summary, scaling_scenarios, scenarios
from api_seed import (
    create_database,
    drop_database,
    grow_progress,
    progress_rows,
    reset_progress,
    scratch_url,
    seed,
    server_version,
)

from services.plans.models import PlanPublic

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Options:
    duration: int
    warmup: int
    connections: int
    rounds: int
    leaders: int
    big_table: int
    what_if: bool
    profile: bool
    max_other: float
    retries: int
    admin_url: str
    doc: Path
    save: Path | None
    render: Path | None


def parse(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every scenario")
    parser.add_argument("--leaders", type=int, default=200, help="leaders in the database")
    parser.add_argument(
        "--big-table",
        type=int,
        default=200_000,
        help="progress updates added for the scaling runs (0 skips them)",
    )
    parser.add_argument("--no-what-if", dest="what_if", action="store_false")
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument(
        "--max-other",
        type=float,
        default=0.5,
        help="cores other processes may use during a run before it is run again",
    )
    parser.add_argument("--retries", type=int, default=1, help="re-runs of a disturbed run")
    parser.add_argument(
        "--admin-url",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="an existing loopback database to create the scratch one from",
    )
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks-api.md")
    parser.add_argument("--save", type=Path, help="also keep the raw results (pickle) here")
    parser.add_argument("--render", type=Path, help="only rewrite --doc from a --save file")
    args = parser.parse_args(argv)
    return Options(**vars(args))


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class Reporter:
    """One line per run; on a terminal, a countdown that rewrites itself."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self.prefix = ""

    def start(self, prefix: str) -> None:
        self.prefix = prefix
        if not self.tty:
            print(f"{prefix} ...", flush=True)

    def tick(self, phase: str, left: float) -> None:
        if self.tty:
            print(f"\r{self.prefix}: {phase}, {left:4.0f} s left   ", end="", flush=True)

    def done(self, text: str) -> None:
        print(f"\r{self.prefix}: {text}" + " " * 20 if self.tty else f"  {text}", flush=True)


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    name, url = scratch_url(admin_url)
    asyncio.run(create_database(admin_url, name))
    print(f"scratch database {name} created", flush=True)
    try:
        yield url
    finally:
        asyncio.run(drop_database(admin_url, name))
        print(f"scratch database {name} dropped", flush=True)


def ready_path(server: str) -> str:
    return "/hello" if server == "bare" else "/healthz"


# Served for the whole run; each what-if server runs only while its scenario does, so that
# at most two pools (10 + 10 overflow each) share PostgreSQL's max_connections with
# whatever else uses this server.
ALWAYS_UP = frozenset({"bare", "coachbot"})


def start_servers(stack: ExitStack, names: set[str], url: str, log_dir: Path) -> dict[str, Server]:
    loop, http = event_loop_and_http()
    servers: dict[str, Server] = {}
    for name in sorted(names):
        server = Server(name, SERVERS[name], env={"COACHBOT_DATABASE_URL": url}, log_dir=log_dir)
        server.flags = (loop, http)
        stack.callback(server.stop)
        servers[name] = server
        if name in ALWAYS_UP:
            server.start(loop, http)
    for name in ALWAYS_UP & servers.keys():
        servers[name].wait_ready(ready_path(name))
    print(f"servers: uvicorn, 1 worker each, --loop {loop} --http {http}")
    return servers


@contextmanager
def serving(server: Server) -> Iterator[Server]:
    """The server, started for the block if it is not one that stays up."""
    if server.process is not None:
        yield server
        return
    server.start(*server.flags)
    try:
        server.wait_ready(ready_path(server.name))
        yield server
    finally:
        server.stop()


def check_calls(servers: dict[str, Server], planned: list[Scenario]) -> None:
    """Every scenario's request must succeed, and every plan variant must equal the real plan."""
    plans: dict[str, PlanPublic] = {}
    for scenario in sorted(planned, key=lambda scenario: scenario.writes):  # reads first
        with serving(servers[scenario.server]) as server:
            status, body = call_once(server, scenario.call)
            if status not in (200, 201):
                state = server.describe()
                raise RuntimeError(f"{scenario.key}: HTTP {status}: {body[:300]!r}\n{state}")
        if scenario.key.startswith("plan"):
            plans[scenario.key] = PlanPublic.model_validate_json(body)
    real = plans.get("plan")
    for key, plan in plans.items():
        if plan != real:
            raise RuntimeError(f"{key} answers a different plan than the app's own route")
    if real is not None:
        shape = [len(goal.milestones) for goal in real.goals]
        print(f"plan checked: {len(real.goals)} goals, milestones per goal {shape}")


@dataclass
class Loader:
    """Runs scenarios against the servers, retrying runs the rest of the machine disturbed."""

    opts: Options
    servers: dict[str, Server]
    url: str
    wrk: str
    script: Path
    seeded_max_id: int
    reporter: Reporter = field(default_factory=Reporter)

    def measure(self, scenario: Scenario, prefix: str) -> tuple[LoadResult, int]:
        best: LoadResult | None = None
        for attempt in range(self.opts.retries + 1):
            self.reporter.start(prefix if not attempt else f"{prefix} (again)")
            result = self.load(scenario)
            if scenario.writes:
                asyncio.run(reset_progress(self.url, keep_up_to=self.seeded_max_id))
            if best is None or result.other_cpu_s < best.other_cpu_s:
                best = result
            other = result.other_cpu_s / result.seconds
            if other <= self.opts.max_other:
                return best, attempt
            self.reporter.done(f"other processes used {other:.2f} cores meanwhile")
        assert best is not None
        return best, self.opts.retries

    def load(self, scenario: Scenario) -> LoadResult:
        with serving(self.servers[scenario.server]) as server:
            return self._load(scenario, server)

    def _load(self, scenario: Scenario, server: Server) -> LoadResult:
        run = partial(
            run_load,
            self.wrk,
            self.script,
            server,
            scenario.call,
            connections=self.opts.connections,
            seconds=self.opts.duration,
            warmup=self.opts.warmup,
            progress=self.reporter.tick,
        )
        try:
            return run()
        except RuntimeError:
            # A server that died mid-run is reported, started again, and the run repeated once.
            print(f"\n{server.describe()}", file=sys.stderr)
            if not server.restart_if_dead(ready_path(scenario.server)):
                raise
            return run()

    def rounds(self, planned: list[Scenario], bare_rps: float | None = None) -> dict[str, Summary]:
        summaries = {scenario.key: Summary(scenario) for scenario in planned}
        for round_no in range(1, self.opts.rounds + 1):
            round_bare = bare_rps
            for scenario in planned:
                prefix = f"[round {round_no}/{self.opts.rounds}] {scenario.label}"
                result, retried = self.measure(scenario, prefix)
                if scenario.key == "bare":
                    round_bare = result.rps
                summary = summaries[scenario.key]
                summary.runs.append(result)
                summary.retries += retried
                summary.ratios.append(result.rps / round_bare if round_bare else 0.0)
                if result.errors:
                    log = self.servers[scenario.server].log_path.read_text(errors="replace")
                    print("  errors; end of the server log:", *log.splitlines()[-4:], sep="\n    ")
                self.reporter.done(
                    f"{result.rps:8.0f} req/s  p50 {result.p50_ms:7.1f} ms  "
                    f"p99 {result.p99_ms:7.1f} ms  errors {result.errors}  "
                    f"server CPU {result.server_cpu_ms_per_request:.2f} ms/req"
                )
        return summaries


def profile_plan(loader: Loader, plan: Scenario, work: Path) -> SpyProfile | str:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        return "py-spy is not installed (`.venv/bin/pip install py-spy`), so no sampling profile."
    server, seconds = loader.servers[plan.server], loader.opts.duration
    out = work / "plan.spy.txt"
    loader.reporter.start(f"[profile] {plan.label} under py-spy")
    spy = start_spy(py_spy, server.pid, seconds, out)
    run_load(
        loader.wrk,
        loader.script,
        server,
        plan.call,
        connections=loader.opts.connections,
        seconds=seconds,
        warmup=0,
        progress=loader.reporter.tick,
    )
    profile = finish_spy(spy, out, expected=seconds * SPY_RATE)
    loader.reporter.done(f"{profile.samples} samples" if not profile.error else profile.error)
    return profile


def run(opts: Options) -> int:
    wrk = wrk_path()
    if wrk is None:
        print(f"wrk is not installed: {WRK_INSTALL_HINT}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="coachbot-bench-")))
        url = stack.enter_context(scratch_database(opts.admin_url))
        print(f"seeding {opts.leaders} leaders ...", flush=True)
        seeded = asyncio.run(seed(url, leaders=opts.leaders))
        seeded_rows, seeded_max_id = asyncio.run(progress_rows(url))
        planned = scenarios(seeded, what_if=opts.what_if)
        scaling = scaling_scenarios(seeded, what_if=opts.what_if) if opts.big_table else []
        names = {scenario.server for scenario in planned + scaling}
        servers = start_servers(stack, names, url, work)
        check_calls(servers, planned)
        asyncio.run(reset_progress(url, keep_up_to=seeded_max_id))
        loader = Loader(opts, servers, url, wrk, write_wrk_script(work), seeded_max_id)
        summaries = loader.rounds(planned)
        spy: SpyProfile | str = "profiling was switched off (--no-profile)."
        phases: Phases | None = None
        if opts.profile:
            plan = next(s for s in planned if s.key == "plan")
            spy = profile_plan(loader, plan, work)
            print("[profile] timing each phase of a plan read in-process ...", flush=True)
            phases = asyncio.run(
                measure_phases(
                    url=url,
                    raw_key=seeded.raw_key,
                    member_id=seeded.member_id,
                    goal_id=seeded.goal_id,
                )
            )
            asyncio.run(reset_progress(url, keep_up_to=seeded_max_id))
        big_rows = seeded_rows
        if scaling:
            print(f"adding about {opts.big_table} progress updates for other leaders ...")
            asyncio.run(grow_progress(url, rows=opts.big_table, spare_member_id=seeded.member_id))
            big_rows = asyncio.run(progress_rows(url))[0]
            if phases is not None:
                phases.explain_big = asyncio.run(explain_on(url, phases.ranked))
            summaries |= loader.rounds(scaling, bare_rps=summaries["bare"].rps)
        context = Context(
            command=" ".join([".venv/bin/python bench/api.py", *map(shlex.quote, sys.argv[1:])]),
            options=vars(opts),
            loop_http=event_loop_and_http(),
            postgres=asyncio.run(server_version(url)),
            wrk=wrk,
            seeded_rows=seeded_rows,
            big_rows=big_rows,
            restarts=sum(server.restarts for server in servers.values()),
        )
    results = (list(summaries.values()), context, spy, phases)
    if opts.save:
        opts.save.write_bytes(pickle.dumps(results))
    return write_doc(opts.doc, *results)


def write_doc(
    doc: Path,
    summaries: list[Summary],
    context: Context,
    spy: SpyProfile | str,
    phases: Phases | None,
) -> int:
    chart = draw_chart(summaries, doc.with_suffix(".png"))
    doc.write_text(markdown(summaries, context, spy, phases, chart))
    print(f"wrote {doc.relative_to(ROOT) if doc.is_relative_to(ROOT) else doc}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse(argv)
    if opts.render:  # the document again from a run saved with --save, without measuring
        return write_doc(opts.doc, *pickle.loads(opts.render.read_bytes()))
    try:
        return run(opts)
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped and the scratch database dropped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
