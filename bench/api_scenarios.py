"""The API benchmark's scenarios and how their rounds are summarised."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field

from api_lean import LEAN_PLAN_PATH, LEAN_RAW_PLAN_PATH
from api_load import Call, LoadResult
from api_seed import Seeded

PROGRESS_BODY = json.dumps({"note": "Handed the weekly review to my deputy.", "confidence": 4})

# server name -> app factory served by uvicorn (module:function under bench/ or the app's own)
SERVERS = {
    "bare": "api_apps:create_bare_app",
    "coachbot": "api_apps:create_coachbot_api",
    "no-pre-ping": "api_whatif:create_app_without_pre_ping",
    "indexed-progress": "api_whatif:create_app_with_indexed_recent_progress",
    "both": "api_whatif:create_app_with_both",
    "lean": "api_lean:create_app_with_lean_plan",
}


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    server: str
    call: Call
    group: str  # "goal", "ladder", "what-if" or "scaling"
    writes: bool = False


def scenarios(seeded: Seeded, *, what_if: bool) -> list[Scenario]:
    """Bare first, then the ladder from framework to database, then the two measured routes."""
    plan = Call("GET", f"/api/v1/members/{seeded.member_id}/plan", bearer=seeded.raw_key)
    post = Call("POST", f"/api/v1/goals/{seeded.goal_id}/progress", PROGRESS_BODY, seeded.raw_key)
    healthz, readyz = Call("GET", "/healthz"), Call("GET", "/readyz")
    found = [
        Scenario("bare", "bare FastAPI JSON", "bare", Call("GET", "/hello"), "goal"),
        Scenario("healthz", "Coachbot GET /healthz (no DB)", "coachbot", healthz, "ladder"),
        Scenario("readyz", "Coachbot GET /readyz (SELECT 1)", "coachbot", readyz, "ladder"),
        Scenario("plan", "GET plan (5 goals × 5 milestones)", "coachbot", plan, "goal"),
        Scenario("progress", "POST progress update", "coachbot", post, "goal", writes=True),
    ]
    if not what_if:
        return found
    variants = (
        ("plan-no-pre-ping", "no pool pre-ping", "no-pre-ping", plan),
        ("plan-indexed", "recent progress via index", "indexed-progress", plan),
        ("plan-both", "both of the above", "both", plan),
        ("plan-lean", "one JSON query + cached actor", "lean", _lean(seeded, LEAN_PLAN_PATH)),
        (
            "plan-lean-raw",
            "… and PostgreSQL's JSON sent as is",
            "lean",
            _lean(seeded, LEAN_RAW_PLAN_PATH),
        ),
    )
    return found + [
        Scenario(key, f"GET plan, what-if: {label}", server, call, "what-if")
        for key, label, server, call in variants
    ]


def _lean(seeded: Seeded, path: str) -> Call:
    return Call("GET", path.format(member_id=seeded.member_id), bearer=seeded.raw_key)


def scaling_scenarios(seeded: Seeded, *, what_if: bool) -> list[Scenario]:
    """The plan read again once the database holds many other leaders' progress updates."""
    plan = Call("GET", f"/api/v1/members/{seeded.member_id}/plan", bearer=seeded.raw_key)
    found = [Scenario("plan-big", "GET plan, big progress table", "coachbot", plan, "scaling")]
    if what_if:
        found += [
            Scenario(
                "plan-big-indexed",
                "GET plan, big table, what-if: recent progress via index",
                "indexed-progress",
                plan,
                "scaling",
            ),
            Scenario(
                "plan-big-lean",
                "GET plan, big table, what-if: one JSON query + cached actor",
                "lean",
                _lean(seeded, LEAN_PLAN_PATH),
                "scaling",
            ),
        ]
    return found


@dataclass
class Summary:
    """All rounds of one scenario; each ratio compares with bare in the same round."""

    scenario: Scenario
    runs: list[LoadResult] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    retries: int = 0  # runs repeated because other processes used the CPU meanwhile

    def _median(self, values: list[float]) -> float:
        return statistics.median(values) if values else 0.0

    @property
    def rps(self) -> float:
        return self._median([run.rps for run in self.runs])

    @property
    def rps_range(self) -> tuple[float, float]:
        values = [run.rps for run in self.runs]
        return (min(values), max(values)) if values else (0.0, 0.0)

    @property
    def ratio(self) -> float:
        return self._median(self.ratios)

    @property
    def p50_ms(self) -> float:
        return self._median([run.p50_ms for run in self.runs])

    @property
    def p99_ms(self) -> float:
        return self._median([run.p99_ms for run in self.runs])

    @property
    def worst_p99_ms(self) -> float:
        return max((run.p99_ms for run in self.runs), default=0.0)

    @property
    def errors(self) -> int:
        return sum(run.errors for run in self.runs)

    @property
    def requests(self) -> int:
        return sum(run.requests for run in self.runs)

    @property
    def cpu_ms_per_request(self) -> float:
        return self._median([run.server_cpu_ms_per_request for run in self.runs])

    @property
    def postgres_ms_per_request(self) -> float:
        """PostgreSQL CPU per request (all backends, so other people's queries count too)."""
        return self._median(
            [1000 * run.postgres_cpu_s / run.requests for run in self.runs if run.requests]
        )

    def cpu_share(self, part: str) -> float:
        """Median cores used by `part` (server, wrk, postgres, other) while this ran."""
        values = []
        for run in self.runs:
            seconds = {
                "server": run.server_cpu_s,
                "wrk": run.wrk_cpu_s,
                "postgres": run.postgres_cpu_s,
                "other": run.other_cpu_s,
            }[part]
            values.append(seconds / run.seconds if run.seconds else 0.0)
        return self._median(values)
