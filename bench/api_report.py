"""The API benchmark's document and chart."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from api_findings import findings
from api_profile import Phases, SpyProfile
from api_scenarios import Summary

PLAN_RATIO_GOAL = 0.30
PLAN_P99_GOAL_MS = 50.0
LIBRARIES = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "sqlmodel", "pydantic", "asyncpg")


@dataclass(frozen=True)
class Context:
    command: str
    options: dict[str, Any]
    loop_http: tuple[str, str]
    postgres: str
    wrk: str
    seeded_rows: int
    big_rows: int
    restarts: int = 0


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        with open("/proc/meminfo") as handle:
            kib = int(handle.readline().split()[1])
        return f"{kib / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def _wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    first = (done.stdout or done.stderr).splitlines()
    return first[0].split("Copyright")[0].strip() if first else "wrk"


def machine(context: Context) -> list[str]:
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in LIBRARIES)
    loop, http = context.loop_http
    return [
        f"- {os.cpu_count()} CPUs (`nproc`), {_cpu_model()}, {_memory_gib()} RAM, "
        f"{platform.system()} {platform.release()}",
        f"- PostgreSQL {context.postgres} on 127.0.0.1 (shared with the machine, not tuned)",
        f"- Python {platform.python_version()}; {versions}",
        f"- uvicorn `--workers 1 --no-access-log --loop {loop} --http {http}` for every server;"
        f" {_wrk_version(context.wrk)} with 1 thread",
        f"- run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
    ]


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def results_table(summaries: list[Summary]) -> list[str]:
    lines = [
        "| scenario | req/s (median) | req/s range | × bare | p50 ms | p99 ms | worst p99 ms "
        "| errors | server CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        low, high = s.rps_range
        lines.append(
            f"| {s.scenario.label} | {s.rps:,.0f} | {low:,.0f}–{high:,.0f} | "
            f"{100 * s.ratio:.1f}% | {_ms(s.p50_ms)} | {_ms(s.p99_ms)} | {_ms(s.worst_p99_ms)} "
            f"| {s.errors} of {s.requests:,} | {s.cpu_ms_per_request:.2f} |"
        )
    return lines


def cpu_table(summaries: list[Summary]) -> list[str]:
    lines = [
        "| scenario | server process | wrk | PostgreSQL (all backends) | anything else |",
        "|---|---:|---:|---:|---:|",
    ]
    for s in summaries:
        lines.append(
            f"| {s.scenario.label} | {s.cpu_share('server'):.2f} | {s.cpu_share('wrk'):.2f} | "
            f"{s.cpu_share('postgres'):.2f} | {s.cpu_share('other'):.2f} |"
        )
    return lines


def verdicts(by_key: dict[str, Summary]) -> list[str]:
    plan = by_key["plan"]
    ratio_ok = plan.ratio >= PLAN_RATIO_GOAL
    p99_ok = plan.p99_ms < PLAN_P99_GOAL_MS
    post = by_key["progress"]
    return [
        f"- **Plan read throughput ≥ {PLAN_RATIO_GOAL:.0%} of bare: "
        f"{'met' if ratio_ok else 'NOT met'}** — {100 * plan.ratio:.1f}% "
        f"({plan.rps:,.0f} against {by_key['bare'].rps:,.0f} req/s).",
        f"- **Plan read p99 < {PLAN_P99_GOAL_MS:.0f} ms at the configured clients: "
        f"{'met' if p99_ok else 'NOT met'}** — p99 {_ms(plan.p99_ms)} ms "
        f"(p50 {_ms(plan.p50_ms)} ms).",
        f"- Progress update (no goal set): {100 * post.ratio:.1f}% of bare, "
        f"p99 {_ms(post.p99_ms)} ms.",
    ]


def phases_section(phases: Phases | None) -> list[str]:
    if phases is None:
        return ["(in-process phase timing was switched off.)"]
    lines = ["SQL statements per request (BEGIN/COMMIT and pool pre-pings are not listed):", ""]
    for label, statements in phases.statements.items():
        lines.append(
            f"- **{label}**: {len(statements)} statements, {phases.checkouts[label]} pool "
            f"checkout(s) (each pings first: `pool_pre_ping=True`), "
            f"{phases.query_wall_ms[label]:.1f} ms wall inside the driver"
        )
        lines += [f"  - `{statement} …`" for statement in statements]
    lines += [
        "",
        "One request at a time, in the bench process (httpx ASGITransport, asyncio loop, no "
        "socket between client and app); median of 5 batches:",
        "",
        "| phase | CPU ms | wall ms |",
        "|---|---:|---:|",
    ]
    lines += [f"| {p.label} | {p.cpu_ms:.2f} | {p.wall_ms:.2f} |" for p in phases.phases]
    if phases.explain:
        lines += [
            "",
            "PostgreSQL's plan for the recent-progress statement exactly as the app sends it "
            "(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)`, on the seeded tables):",
            "",
            *(f"    {line}" for line in phases.explain),
        ]
    if phases.explain_big:
        lines += [
            "",
            "The same statement once the big-table runs' progress updates were added:",
            "",
            *(f"    {line}" for line in phases.explain_big),
        ]
    return lines


def spy_section(spy: SpyProfile | str) -> list[str]:
    if isinstance(spy, str):
        return [spy]
    if spy.error:
        return [f"py-spy failed: `{spy.error}`"]
    busy = spy.samples / spy.expected if spy.expected else 0.0
    lines = [
        f"py-spy sampled the Coachbot server during a plan-read run at 200 Hz: {spy.samples:,} "
        f"samples with the interpreter busy (≈{busy:.0%} of the run). Each sample is charged "
        "to the innermost frame that belongs to a known layer:",
        "",
        "| layer (self time) | share of busy samples |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {share:.1%} |" for name, share in spy.layers.items()]
    lines += ["", "| inclusive: samples with this function on the stack | share |", "|---|---:|"]
    lines += [f"| {name} | {share:.1%} |" for name, share in spy.inclusive.items()]
    lines += ["", "| hottest functions (self time) | share |", "|---|---:|"]
    lines += [f"| `{frame}` | {share:.1%} |" for frame, share in spy.hottest]
    return lines


def draw_chart(summaries: list[Summary], path: Path) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "(matplotlib is not installed, so no chart was drawn.)"
    shown = [s for s in summaries if s.scenario.key != "bare"]
    labels = [s.scenario.label for s in shown]
    colours = [
        {"goal": "C0", "ladder": "C7", "what-if": "C2", "scaling": "C3"}[s.scenario.group]
        for s in shown
    ]
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 0.45 * len(shown) + 1.6), sharey=True)
    ys = range(len(shown))
    left.barh(ys, [100 * s.ratio for s in shown], color=colours)
    left.axvline(100 * PLAN_RATIO_GOAL, color="black", linestyle="--", label="goal: 30%")
    left.set_xlabel("throughput, % of bare FastAPI (median of rounds)")
    left.set_yticks(list(ys), labels)
    left.invert_yaxis()
    left.legend(loc="lower right")
    right.barh(ys, [s.p99_ms for s in shown], color=colours)
    right.axvline(PLAN_P99_GOAL_MS, color="black", linestyle="--", label="goal: 50 ms")
    right.set_xscale("log")
    right.set_xlabel("p99 latency, ms (log scale)")
    right.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return f"![throughput ratio to bare and p99 latency per scenario]({path.name})"


def method(context: Context) -> list[str]:
    opts = context.options
    return [
        f"- A scratch database gets {opts['leaders']} leaders, each with 5 goals × 5 milestones "
        f"and 5 progress updates per goal ({context.seeded_rows:,} progress updates); the "
        "measured leader reads their own plan with a leader key (`Authorization: Bearer`).",
        "- Every server is its own uvicorn process with one worker and the same flags, on a "
        "127.0.0.1 port. Coachbot is its REST API as `create_api(settings, engine)` builds "
        "it, on the engine `services.db.create_engine` makes from the settings (pool 10 + 10 "
        "overflow, pre-ping) — what `bot.main:create_app` serves, without the Slack transport "
        "it mounts beside the API. The bare app is one route returning a two-key JSON dict. "
        "Bare and Coachbot stay up for the whole run; each what-if server is started for its "
        "own runs only, so no more than two connection pools share PostgreSQL at a time.",
        f"- wrk (1 thread, {opts['connections']} connections, 10 s timeout) runs in its own "
        f"process: {opts['warmup']} s warm-up, then {opts['duration']} s measured, for every "
        f"scenario in turn, bare first, {opts['rounds']} rounds. A ratio compares a scenario "
        "with bare in the same round; the tables show medians over rounds.",
        "- Latency is wrk's closed-loop distribution: it includes the time a request waits "
        "inside the server behind the other 49. With 50 clients each waiting for its answer, "
        "mean latency = 50 / throughput (Little's law), so a p99 under 50 ms needs well over "
        "1,000 req/s from the one process, i.e. under ~1 ms of server CPU per plan read.",
        "- Errors are socket errors, timeouts and non-2xx answers. The progress updates a POST "
        "run adds are deleted (and the table vacuumed) after the run, so every round reads "
        "the same data.",
        "- CPU is read from /proc around each measured run: the server process, wrk, every "
        "PostgreSQL process, and the rest of the machine. Other people's work shares this "
        f"machine: a run during which other processes used more than {opts['max_other']} "
        f"cores is run again (up to {opts['retries']} times, keeping the quietest).",
    ]


def markdown(
    summaries: list[Summary],
    context: Context,
    spy: SpyProfile | str,
    phases: Phases | None,
    chart: str,
) -> str:
    by_key = {s.scenario.key: s for s in summaries}
    main = [s for s in summaries if s.scenario.group in ("goal", "ladder")]
    extra = [s for s in summaries if s.scenario.group in ("what-if", "scaling")]
    retried = sum(s.retries for s in summaries)
    lines = [
        "# REST API benchmark (PostgreSQL)",
        "",
        "Throughput and latency of `GET /api/v1/members/{id}/plan` and "
        "`POST /api/v1/goals/{id}/progress`, each against a bare FastAPI JSON endpoint "
        "served the same way in the same run.",
        "",
        *verdicts(by_key),
        "",
        chart,
        "",
        "## How it is measured",
        "",
        *method(context),
        "",
        "## Machine",
        "",
        *machine(context),
        "",
        "## Command",
        "",
        f"    {context.command}",
        "",
        "`wrk` comes from Debian (`apt-get install -y wrk`); py-spy and matplotlib are "
        "benchmark-only (`.venv/bin/pip install py-spy matplotlib`). About "
        f"{_minutes(context, len(summaries))} minutes on a quiet machine; more when runs are "
        "repeated.",
        "",
        "## Results",
        "",
        *results_table(main),
        "",
        *contention(summaries),
        f"{retried} run(s) were repeated because other processes were busy; "
        f"{context.restarts} server(s) died during a run and were started again.",
        "",
        "### Is the load generator the bottleneck?",
        "",
        "Cores used during the measured runs (median over rounds; 2.00 = the whole machine):",
        "",
        *cpu_table(summaries),
        "",
        *generator_check(by_key),
        "",
        *findings(by_key, context, spy, phases),
        "",
        "### All what-if and scaling runs",
        "",
        *results_table(extra),
        "",
        "### Profile data",
        "",
        *phases_section(phases),
        "",
        *spy_section(spy),
        "",
    ]
    return "\n".join(lines)


def contention(summaries: list[Summary]) -> list[str]:
    other = statistics.median(s.cpu_share("other") for s in summaries)
    server = statistics.median(s.cpu_share("server") for s in summaries)
    if other < 0.5:
        return []
    return [
        f"**Caveat: a busy machine.** Other work on this machine used a median {other:.2f} of "
        f"its {os.cpu_count()} cores during the runs, leaving each server process about "
        f"{server:.2f} of a core instead of a whole one. Absolute req/s are therefore lower and "
        "latencies higher than on a quiet machine, for bare and Coachbot alike; compare "
        "server CPU per request, and ratios taken within a round. (The scaling runs are "
        "compared with the median bare of the main rounds, so their ratios carry more noise.)",
        "",
    ]


def _minutes(context: Context, scenarios: int) -> int:
    opts = context.options
    per_run = opts["warmup"] + opts["duration"] + 2
    return max(1, round((scenarios * opts["rounds"] * per_run + 90) / 60))


def generator_check(by_key: dict[str, Summary]) -> list[str]:
    bare, plan = by_key["bare"], by_key["plan"]
    server, wrk = bare.cpu_share("server"), bare.cpu_share("wrk")
    per_kreq = 1000 * wrk / bare.rps if bare.rps else 0.0
    return [
        f"No. While bare served {bare.rps:,.0f} req/s, wrk used {wrk:.2f} cores "
        f"({per_kreq:.2f} cores per 1,000 req/s) against {server:.2f} for the bare server "
        f"process; during the plan read wrk used {plan.cpu_share('wrk'):.2f} cores. wrk "
        "never comes near a core, while each server process is the busiest thing on the "
        "machine and can use at most one core (one worker, one event loop). Where a server "
        "got less than a whole core, the rest of the machine took it (last column): that "
        "lowers throughput in the same way for bare and Coachbot within a round, which is "
        "why ratios are taken per round. Server CPU per request is the steadiest figure, "
        "though contention inflates it too (shared caches, and the 2 vCPUs may be "
        "hyperthreads of one core).",
    ]
