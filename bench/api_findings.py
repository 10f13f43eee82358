"""The API benchmark's findings: what holds the plan read back, in words built from the run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from api_profile import Phases, SpyProfile
from api_scenarios import Summary

if TYPE_CHECKING:
    from api_report import Context


def _phase(phases: Phases | None, starts: str) -> float | None:
    if phases is None:
        return None
    return next((p.cpu_ms for p in phases.phases if p.label.startswith(starts)), None)


def _cost(summary: Summary | None) -> str:
    if summary is None:
        return "not run"
    return (
        f"{summary.cpu_ms_per_request:.2f} ms app CPU + {summary.postgres_ms_per_request:.2f} "
        f"ms PostgreSQL CPU per request, {summary.rps:,.0f} req/s "
        f"({100 * summary.ratio:.1f}% of bare), p99 {summary.p99_ms:,.0f} ms"
    )


def ladder(by_key: dict[str, Summary]) -> list[str]:
    bare, healthz, readyz, plan = (by_key[k] for k in ("bare", "healthz", "readyz", "plan"))
    b = bare.cpu_ms_per_request or 1.0
    return [
        "### Where the server's CPU goes, step by step",
        "",
        "Every server here is CPU-bound in its one process, so server CPU per request is the "
        "figure that decides throughput (and, through queueing, p99):",
        "",
        f"- bare FastAPI: {bare.cpu_ms_per_request:.2f} ms;",
        f"- Coachbot `/healthz` (its middleware stack, no database): "
        f"{healthz.cpu_ms_per_request:.2f} ms ({healthz.cpu_ms_per_request / b:.1f}× bare);",
        f"- Coachbot `/readyz` (one pool checkout with its pre-ping, `SELECT 1`, rollback): "
        f"{readyz.cpu_ms_per_request:.2f} ms ({readyz.cpu_ms_per_request / b:.1f}× bare);",
        f"- the plan read: {plan.cpu_ms_per_request:.2f} ms "
        f"({plan.cpu_ms_per_request / b:.0f}× bare).",
        "",
        "The framework is not the problem: the database round trips and, above all, what "
        "Python does around each of them are.",
    ]


def anatomy(phases: Phases | None, spy: SpyProfile | str) -> list[str]:
    lines = ["### Anatomy of one plan read", ""]
    if phases is not None:
        statements = len(phases.statements.get("GET plan", []))
        session = _phase(phases, "pool checkout")
        auth = _phase(phases, "... + authenticate")
        plan = _phase(phases, "... + plans.get_plan")
        models = _phase(phases, "PlanPublic from its JSON")
        if None not in (session, auth, plan, models):
            assert session is not None and auth is not None and plan is not None
            lines.append(
                f"- **{statements} SELECTs plus pre-ping, BEGIN and COMMIT: 8 round trips.** "
                f"One request at a time, the session costs {session:.2f} ms CPU, "
                f"`authenticate()` (1 SELECT on `api_key`) {auth - session:.2f} ms, and "
                f"`get_plan()` (member, goals, milestones, recent progress) "
                f"{plan - auth:.2f} ms more — about {(plan - session) / max(statements, 1):.1f} "
                "ms of CPU in the app per statement, for statements that PostgreSQL answers "
                "in about a millisecond or less."
            )
            lines.append(
                f"- **Building the response models is dear too**: turning the plan's JSON into "
                f"`PlanPublic` (every object a SQLModel) takes {models:.2f} ms; the app pays a "
                "similar price converting ORM rows with `model_validate(..., update=...)`."
            )
    if isinstance(spy, SpyProfile) and not spy.error and spy.layers:
        top = ", ".join(f"{name} {share:.0%}" for name, share in list(spy.layers.items())[:4])
        greenlet = next(iter(spy.inclusive.values()), 0.0)
        lines.append(
            f"- **Under load (py-spy, on-CPU samples only), self time by layer**: {top}. "
            f"Stacks running an ORM statement on SQLAlchemy's greenlet hold {greenlet:.0%} of "
            "the samples. asyncpg's share is its C code sending and reading each of the 8 "
            "round trips (socket system calls, not waiting: an idle process is not sampled), "
            "so it shrinks with fewer round trips; SQLAlchemy's is statement construction, "
            "cache keys (`coercions.expect`, `_generate_cache_key`), execution context setup "
            "and ORM row loading (`InstanceState`, instrumented attributes); SQLModel's is "
            "validation of ORM rows into `*Public` objects (`sqlmodel_validate`). The "
            "hottest functions are listed under Profile data."
        )
    return lines


def scaling(by_key: dict[str, Summary], context: Context) -> list[str]:
    plan, big = by_key.get("plan"), by_key.get("plan-big")
    if plan is None or big is None:
        return []
    return [
        "### The plan read slows down as other leaders log progress",
        "",
        "`_recent_progress` (services/plans/service.py) asks for "
        "`progress_update.id IN (SELECT id FROM (… row_number() OVER (PARTITION BY goal_id …)))`."
        " PostgreSQL may answer the outer `IN` with a hash semi-join over a sequential scan of "
        "*every* progress update in the database, all workspaces included — and does once the "
        "table is big (see the EXPLAIN output under Profile data) — so the cost of reading "
        "one leader's plan grows with the whole table:",
        "",
        f"- {context.seeded_rows:,} progress updates in the database: {_cost(plan)};",
        f"- {context.big_rows:,}: {_cost(big)};",
        f"- {context.big_rows:,}, what-if recent progress via the goal_id index: "
        f"{_cost(by_key.get('plan-big-indexed'))};",
        f"- {context.big_rows:,}, what-if one JSON query: {_cost(by_key.get('plan-big-lean'))}.",
    ]


def what_ifs(by_key: dict[str, Summary]) -> list[str]:
    rows = (
        ("plan", "the app as it is"),
        ("plan-no-pre-ping", "engine without `pool_pre_ping`"),
        ("plan-indexed", "recent progress ranked on whole rows (no semi-join)"),
        ("plan-both", "both of the above"),
        ("plan-lean", "one `json_agg` statement in autocommit, actor cached 30 s, PlanPublic"),
        ("plan-lean-raw", "the same, PostgreSQL's JSON sent as the body"),
    )
    if "plan-lean" not in by_key:
        return []
    lines = [
        "### What-if experiments (bench/api_whatif.py, bench/api_lean.py)",
        "",
        "Variants of the real app, served and loaded exactly like it; each answers the same "
        "plan as the real route (checked before the runs). They are measurements for the "
        "suggestions below, not code to ship as is.",
        "",
        "| plan read | server CPU ms/req | req/s | × bare | p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, label in rows:
        s = by_key.get(key)
        if s is not None:
            lines.append(
                f"| {label} | {s.cpu_ms_per_request:.2f} | {s.rps:,.0f} | "
                f"{100 * s.ratio:.1f}% | {s.p99_ms:,.0f} |"
            )
    return lines


def findings(
    by_key: dict[str, Summary], context: Context, spy: SpyProfile | str, phases: Phases | None
) -> list[str]:
    return [
        "## What holds the plan read back",
        "",
        *ladder(by_key),
        "",
        *anatomy(phases, spy),
        "",
        *scaling(by_key, context),
        "",
        *what_ifs(by_key),
        "",
        *suggestions(by_key, phases),
    ]


def _delta(by_key: dict[str, Summary], base: str, variant: str) -> str:
    a, b = by_key.get(base), by_key.get(variant)
    if a is None or b is None:
        return "not measured"
    saved = a.cpu_ms_per_request - b.cpu_ms_per_request
    return (
        f"{a.cpu_ms_per_request:.2f} → {b.cpu_ms_per_request:.2f} ms CPU/request "
        f"({saved:+.2f} ms saved), {a.rps:,.0f} → {b.rps:,.0f} req/s"
    )


def _pg_delta(by_key: dict[str, Summary], base: str, variant: str) -> str:
    a, b = by_key.get(base), by_key.get(variant)
    if a is None or b is None:
        return "not measured"
    return (
        f"PostgreSQL CPU per plan read {a.postgres_ms_per_request:.1f} → "
        f"{b.postgres_ms_per_request:.1f} ms, {a.rps:,.0f} → {b.rps:,.0f} req/s, "
        f"p99 {a.p99_ms:,.0f} → {b.p99_ms:,.0f} ms"
    )


def suggestions(by_key: dict[str, Summary], phases: Phases | None) -> list[str]:
    session = _phase(phases, "pool checkout") or 0.0
    auth = (_phase(phases, "... + authenticate") or 0.0) - session
    models = _phase(phases, "PlanPublic from its JSON")
    floor = _phase(phases, "json.loads")
    bare = by_key["bare"].cpu_ms_per_request
    lean = by_key.get("plan-lean-raw") or by_key.get("plan-lean")
    lines = [
        "## Suggestions for the app code (not changed by this benchmark)",
        "",
        "1. **`services/plans/service.py` `_recent_progress`: stop scanning the whole "
        "`progress_update` table.** Rank whole rows of the wanted goals and keep rank ≤ 5 "
        "(`SELECT * FROM (SELECT progress_update.*, row_number() OVER (…) AS rank … WHERE "
        "goal_id IN (…)) WHERE rank <= 5`, as `bench/api_whatif.py` does); it stays on "
        "`ix_progress_update_goal_id`. Big table: "
        f"{_pg_delta(by_key, 'plan-big', 'plan-big-indexed')}. Better still, add an index on "
        "`progress_update (goal_id, id)` (a migration): then a LATERAL `ORDER BY id DESC "
        "LIMIT 5` per goal is safe too — with only single-column indexes PostgreSQL walks the "
        "primary key backwards past every newer row instead (650 ms per plan at 200,000 rows, "
        "measured while building `bench/api_lean.py`), and the goal's progress list "
        "(`list_progress`, keyset by id) has the same shape. This is a scalability bug more "
        "than a constant cost: at a few thousand rows the scan is cheap, at millions it "
        "dominates every plan read.",
        "2. **Build the plan with one statement on hot read paths.** Five ORM SELECTs each "
        "cost far more Python (statement construction, cache key, ORM identity map and "
        "instrumentation, SQLModel validation) than PostgreSQL time. "
        f"The lean what-if (one `json_agg` statement, autocommit, cached actor): "
        f"{_delta(by_key, 'plan', 'plan-lean')}. A smaller step in the same direction: Core "
        "`select()` of columns with `.mappings()` instead of ORM entities, and statements "
        "built once (module level or `lambda_stmt`) rather than per request.",
        "3. **Make the `*Public` response models plain pydantic models.** They subclass "
        "SQLModel, so pydantic-core calls back into Python (`sqlmodel_init`) for every nested "
        "object: building `PlanPublic` from its JSON costs "
        + (f"{models:.2f} ms against {floor:.2f} ms to parse it" if models and floor else "—")
        + "; the app pays this and more through `model_validate(orm_row, update=…)` for ~55 "
        "objects per plan. `BaseModel` with `from_attributes=True` keeps the OpenAPI schema.",
        f"4. **Cache the actor behind an API key for a few seconds** (`services/api/deps.py` "
        f"`_actor` → `services/auth/service.py` `authenticate`): {auth:.2f} ms CPU and one "
        "round trip on every request of every route. A TTL no longer than "
        "`LAST_USED_RESOLUTION` bounds how late a revocation bites; a per-key version column "
        "would make it immediate.",
        "5. **`services/db.py` `create_engine`: drop `pool_pre_ping=True` (or keep it off the "
        "hot path)** — one more round trip per checkout: "
        f"{_delta(by_key, 'plan', 'plan-no-pre-ping')} (within run-to-run noise here; it is "
        "one round trip of eight). `pool_recycle` plus a retry on a dropped connection covers "
        "what the ping is for.",
        "6. **Reads need no BEGIN/COMMIT.** The request dependency opens a transaction for "
        "every GET; a single-statement read in autocommit saves two round trips.",
        "7. **Serve one process per core.** `coachbot serve` starts one uvicorn process; every "
        "figure above is one process on one core. Throughput per machine scales with "
        "`--workers`/replicas up to the cores PostgreSQL leaves free (not measured here: this "
        "machine has 2 cores shared by the server, wrk and PostgreSQL).",
        "",
        "**Can the goals be met?** "
        + ("Not by tuning alone. " if not lean or lean.ratio < 0.3 else "")
        + "The bare endpoint costs "
        f"{bare:.2f} ms of CPU, so 30% of its throughput allows {bare / 0.3:.2f} ms per plan "
        "read, authentication, database round trip and 11 KB of JSON included; and 50 "
        "closed-loop clients with p99 under 50 ms need more than 1,000 req/s from one "
        "process. "
        + (
            f"The leanest variant measured ({lean.scenario.label.split(': ', 1)[-1]}) needs "
            f"{lean.cpu_ms_per_request:.2f} ms and reaches {100 * lean.ratio:.1f}% of bare. "
            if lean
            else ""
        )
        + "Suggestions 1–6 close most of the gap to that floor; the rest needs more processes "
        "(suggestion 7) or a goal stated per core rather than as a ratio to an endpoint that "
        "does no work.",
    ]
    return lines
