"""Ack latency of Slack `block_actions` requests under 50 concurrent clients.

Coachbot serves on one uvicorn process with PostgreSQL; the Slack Web API stand-in runs in
its own process (no rate limits, so the bot's follow-up work never waits on it); the load
comes from a third process over loopback, signing every request like Slack does. Each
click changes a goal's visibility, so every ack is followed by a write and a Home-tab
publish in the same server process, which is the realistic case. `/healthz` is measured
the same way in the same run as the baseline.

Two loads, each on `/healthz` and on clicks:

- closed loop: each client sends its next request as soon as the last one is answered,
  so the request rate is whatever the server sustains;
- paced (open loop): each client clicks about once a second (Poisson arrivals, so 50
  clients send about 50 requests a second), whether or not earlier clicks were answered;
  latency counts from the moment a click was due, so a late start counts against us.

After each click run the benchmark waits until every acked click's Home publish reached
the Slack stand-in, and reports how long that took after the load stopped. The paced
click run is repeated (three times by default): other work on the machine moves its p99.

    .venv/bin/python bench/ack.py [--seconds 15] [--clients 50] [--rate 1.0] [--paced-runs 3]
                                  [--leaders 50] [--admin-url URL] [--profile stacks.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ack_report import RunResult, write_report  # noqa: E402
from api_seed import create_database, drop_database, scratch_url  # noqa: E402
from api_seed import seed_leader_with_plan as seed_leader  # noqa: E402

from bot.slack_signing import sign_request  # noqa: E402
from services.db import create_engine, create_sessionmaker, transaction  # noqa: E402
from services.demo import DEMO_TEAM_ID, seed_demo  # noqa: E402
from services.schema import upgrade  # noqa: E402

SECRET = "bench-signing-secret-0123456789ab"
TOKEN = "xoxb-sandbox-token"
WARMUP = 3.0
DRAIN_LIMIT = 900.0
# The Slack stand-in writes how many Home tabs it has been sent and, for each person, the
# goal visibilities their last Home tab shows, so the benchmark can wait for the work that
# follows the acks: until every Home tab shows what the database holds.
SANDBOX = """
import asyncio, json, os, sys
from bot.sandbox import SlackSandbox, SandboxWorkspace
def shown(view):
    goals = {}
    for block in (view or {}).get("blocks", []):
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("action_id") == "home_goal_visibility":
                goal, _, visibility = element["initial_option"]["value"].partition(":")
                goals[goal] = visibility
    return goals
async def main():
    workspace = SandboxWorkspace(team_id=sys.argv[2], auto_users=True)
    status = sys.argv[3]
    async with SlackSandbox(port=int(sys.argv[1]), rate_limits=None, workspace=workspace) as sb:
        while True:
            users = list(workspace.home_views)
            state = {"published": len(sb.calls("views.publish")),
                     "shown": {user: shown(sb.home_view(user)) for user in users}}
            with open(status + ".tmp", "w") as out:
                json.dump(state, out)
            os.replace(status + ".tmp", status)
            await asyncio.sleep(0.1)
asyncio.run(main())
"""


@dataclass(frozen=True)
class Load:
    kind: str  # "healthz" or "block_actions"
    clients: int
    seconds: float
    rate: float | None  # clicks a second per client; None for the closed loop


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_http(url: str, *, within: float = 30.0) -> None:
    import aiohttp

    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not come up")
            await asyncio.sleep(0.2)


async def goal_ids(url: str, *, leaders: int) -> list[tuple[str, int]]:
    """(Slack user, goal id): one goal of each leader, the demo's 12 and more up to
    `leaders` (each with 5 goals of 5 milestones), so client i clicks as leader i."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from services.people.models import Cohort, Enrollment, EnrollmentRole, Member, Workspace
    from services.plans.models import Goal

    engine = create_engine(url)
    async with transaction(create_sessionmaker(engine)) as session:
        demo = await seed_demo(session=session)
        workspace = await session.get(Workspace, demo.workspace_id)
        cohort = await session.get(Cohort, demo.cohort_id)
        assert workspace is not None and cohort is not None
        for n in range(demo.leaders + 1, leaders + 1):
            await seed_leader(session, workspace, cohort, n)
    async with transaction(create_sessionmaker(engine)) as session:
        rows = (
            await session.exec(
                select(Member.slack_user_id, func.min(Goal.id))
                .join(Goal, col(Goal.member_id) == col(Member.id))
                .join(Enrollment, col(Enrollment.member_id) == col(Member.id))
                .where(Enrollment.role == EnrollmentRole.leader)
                .group_by(col(Member.slack_user_id))
                .order_by(col(Member.slack_user_id))
            )
        ).all()
    await engine.dispose()
    return [(user, goal) for user, goal in rows if goal is not None]


def click_body(user: str, goal_id: int, visibility: str) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": DEMO_TEAM_ID},
        "user": {"id": user},
        "api_app_id": "A0COACHBOT",
        "trigger_id": uuid.uuid4().hex,
        "container": {"type": "view", "view_id": "V0HOME"},
        "view": {"id": "V0HOME"},
        "actions": [
            {
                "action_id": "home_goal_visibility",
                "block_id": "b",
                "type": "static_select",
                "action_ts": f"{time.time():.6f}",
                "selected_option": {"value": f"{goal_id}:{visibility}"},
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


class Requester:
    """Sends one request of a kind; counts the clicks Slack would have seen acked."""

    def __init__(self, base: str, targets: list[tuple[str, int]], kind: str) -> None:
        self.base, self.targets, self.kind = base, targets, kind
        self.acked = 0
        self.failures: Counter[str] = Counter()

    async def send(self, http: Any, n: int) -> bool:
        if self.kind == "healthz":
            async with http.get(f"{self.base}/healthz") as response:
                await response.read()
                return bool(response.status == 200)
        user, goal = self.targets[n % len(self.targets)]
        # Each turn through the targets flips the visibility: a leader's clicks alternate.
        body = click_body(user, goal, ("private", "coach")[n // len(self.targets) % 2])
        signed = sign_request(
            signing_secret=SECRET, body=body, content_type="application/x-www-form-urlencoded"
        )
        async with http.post(
            f"{self.base}/slack/events", data=signed.body, headers=signed.headers
        ) as response:
            await response.read()
            self.acked += response.status == 200
            if response.status != 200:
                self.failures[f"HTTP {response.status}"] += 1
            return bool(response.status == 200)


async def load(base: str, targets: list[tuple[str, int]], plan: Load) -> dict[str, Any]:
    import aiohttp

    requester = Requester(base, targets, plan.kind)
    latencies: list[float] = []
    errors = 0
    start = time.monotonic()
    measure_from, stop_at = start + WARMUP, start + WARMUP + plan.seconds

    async def timed(http: aiohttp.ClientSession, n: int, due: float) -> None:
        nonlocal errors
        try:
            ok = await requester.send(http, n)
        except (TimeoutError, aiohttp.ClientError) as exc:
            requester.failures[type(exc).__name__] += 1
            ok = False
        if due >= measure_from:
            latencies.append((time.monotonic() - due) * 1000)
            errors += not ok

    async def closed_client(index: int, http: aiohttp.ClientSession) -> None:
        n = index
        while time.monotonic() < stop_at:
            await timed(http, n, time.monotonic())
            n += plan.clients

    async def paced_client(index: int, http: aiohttp.ClientSession) -> None:
        rate = plan.rate or 1.0
        rng, n, clicks = random.Random(index), index, []
        due = start + rng.expovariate(rate)
        while due < stop_at:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            clicks.append(asyncio.create_task(timed(http, n, due)))
            n += plan.clients
            due += rng.expovariate(rate)
        await asyncio.gather(*clicks)

    async def client(index: int) -> None:
        timeout = aiohttp.ClientTimeout(total=30)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            await (closed_client if plan.rate is None else paced_client)(index, http)

    await asyncio.gather(*(client(i) for i in range(plan.clients)))
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / plan.seconds,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "max": latencies[-1],
        "acked": requester.acked,
        "failures": dict(requester.failures),
    }


def run_load(
    base: str,
    targets: list[tuple[str, int]],
    plan: Load,
    queue: multiprocessing.Queue[dict[str, Any]],
) -> None:
    queue.put(asyncio.run(load(base, targets, plan)))


class Stack:
    """The Slack stand-in and Coachbot, started for one benchmark run."""

    def __init__(self, url: str, work: Path) -> None:
        self.status = work / "sandbox.json"
        self.url = url
        sandbox_port, app_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{app_port}"
        self.sandbox_url = f"http://127.0.0.1:{sandbox_port}/api/"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "COACHBOT_DATABASE_URL": url,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "COACHBOT_SLACK_API_URL": self.sandbox_url,
            "COACHBOT_IN_PROCESS_WORKER": "false",
            "COACHBOT_ENV": "test",
        }
        sandbox = [sys.executable, "-c", SANDBOX, str(sandbox_port), DEMO_TEAM_ID, str(self.status)]
        app = [sys.executable, "-m", "uvicorn", "bot.main:create_app", "--factory"]
        app += ["--port", str(app_port), "--no-access-log", "--log-level", "warning"]
        self.log = work / "coachbot.log"
        with self.log.open("wb") as log:
            self.processes = [
                subprocess.Popen(sandbox, env=env),
                subprocess.Popen(app, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT),
            ]
        self.app_pid = self.processes[1].pid

    def sandbox_state(self) -> dict[str, Any]:
        try:
            state: dict[str, Any] = json.loads(self.status.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {"published": 0, "shown": {}}
        return state

    def published(self) -> int:
        return int(self.sandbox_state()["published"])

    def cpu_seconds(self) -> float:
        """User + system CPU the Coachbot process has used so far."""
        fields = Path(f"/proc/{self.app_pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        for process in reversed(self.processes):  # the app first, so it never outlives Slack
            process.terminate()
            try:
                process.wait(30)  # the app first finishes the work it acked
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def measure(
    stack: Stack, targets: list[tuple[str, int]], plan: Load, profile: Path | None = None
) -> RunResult:
    """The load generator runs in its own process, so it never shares the server's CPU slot."""
    mode = "closed loop" if plan.rate is None else f"paced {plan.rate:g}/s each"
    print(f"  {plan.kind}, {mode}: {plan.clients} clients for {plan.seconds:.0f} s …", flush=True)
    published, cpu = stack.published(), stack.cpu_seconds()
    queue: multiprocessing.Queue[dict[str, Any]] = multiprocessing.Queue()
    process = multiprocessing.Process(target=run_load, args=(stack.base, targets, plan, queue))
    process.start()
    spy = start_spy(stack.app_pid, WARMUP + plan.seconds, profile) if profile else None
    row: dict[str, Any] = queue.get(timeout=WARMUP + plan.seconds + 180)
    process.join()
    if spy is not None:
        spy.wait(60)
    result = RunResult(kind=plan.kind, clients=plan.clients, rate=plan.rate, **row)
    if plan.kind == "block_actions":
        stopped = time.monotonic()
        result.published_by_stop = stack.published() - published
        result.drain_seconds, result.current = wait_for_home_tabs(stack, stopped)
        result.published = stack.published() - published
    result.server_cpu_seconds = stack.cpu_seconds() - cpu
    print(f"    {result.summary()}", flush=True)
    if result.failures:
        print(f"    failures: {result.failures}; end of the Coachbot log:", flush=True)
        print(*stack.log.read_text(errors="replace").splitlines()[-20:], sep="\n      ")
    return result


def wait_for_home_tabs(stack: Stack, stopped: float) -> tuple[float, bool]:
    """Seconds after `stopped` until every Home tab shows the database's visibilities and
    no publish has come for a second; False if that did not happen within DRAIN_LIMIT."""
    last_count, last_change = -1, time.monotonic()
    while time.monotonic() - stopped < DRAIN_LIMIT:
        state = stack.sandbox_state()
        if state["published"] != last_count:
            last_count, last_change = state["published"], time.monotonic()
        elif time.monotonic() - last_change >= 1.0 and state["shown"] == asyncio.run(
            stored_visibilities(stack.url)
        ):
            return last_change - stopped, True
        time.sleep(0.1)
    return time.monotonic() - stopped, False


async def stored_visibilities(url: str) -> dict[str, dict[str, str]]:
    """Each demo member's goal visibilities as the database holds them."""
    from sqlmodel import col, select

    from services.people.models import Member
    from services.plans.models import Goal

    engine = create_engine(url)
    async with transaction(create_sessionmaker(engine)) as session:
        rows = (
            await session.exec(
                select(Member.slack_user_id, Goal.id, Goal.visibility).join(
                    Goal, col(Goal.member_id) == col(Member.id)
                )
            )
        ).all()
    await engine.dispose()
    stored: dict[str, dict[str, str]] = {}
    for user, goal, visibility in rows:
        stored.setdefault(user, {})[str(goal)] = str(getattr(visibility, "value", visibility))
    return stored


def start_spy(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """Sample the Coachbot process with py-spy (collapsed stacks, idle frames left out)."""
    py_spy = str(Path(sys.executable).parent / "py-spy")
    command = [py_spy, "record", "--pid", str(pid), "--duration", str(round(seconds))]
    command += ["--rate", "200", "--format", "raw", "--nonblocking", "--output", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


async def prepare(admin_url: str, leaders: int) -> tuple[str, str, list[tuple[str, int]]]:
    name, url = scratch_url(admin_url)
    await create_database(admin_url, name)
    await asyncio.to_thread(upgrade, url)
    return name, url, await goal_ids(url, leaders=leaders)


def profiled(plan: Load, profile: Path | None) -> Path | None:
    return profile if plan.kind == "block_actions" and plan.rate is not None else None


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=1.0, help="clicks a second per client")
    parser.add_argument("--paced-runs", type=int, default=3, help="paced click runs")
    parser.add_argument(
        "--leaders", type=int, default=50, help="leaders to click as (client i is leader i)"
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks-ack.md"))
    parser.add_argument(
        "--profile", type=Path, help="write py-spy's collapsed stacks of the paced click run here"
    )
    args = parser.parse_args()
    # The paced clicks run several times, as the machine's other load moves their p99;
    # the closed loop's backlog of work comes last.
    paced, closed = args.rate, None
    plans = [
        Load("healthz", args.clients, args.seconds, paced),
        *[Load("block_actions", args.clients, args.seconds, paced)] * args.paced_runs,
        Load("healthz", args.clients, args.seconds, closed),
        Load("block_actions", args.clients, args.seconds, closed),
    ]
    load_at_start = os.getloadavg()[0]
    name, url, targets = asyncio.run(prepare(args.admin_url, args.leaders))
    with tempfile.TemporaryDirectory(prefix="coachbot-ack-") as work:
        stack = Stack(url, Path(work))
        try:
            asyncio.run(wait_http(stack.sandbox_url + "auth.test"))
            asyncio.run(wait_http(f"{stack.base}/readyz"))
            print(f"Coachbot at {stack.base}, {len(targets)} leaders' goals to toggle", flush=True)
            results = [
                measure(stack, targets, plan, profiled(plan, args.profile)) for plan in plans
            ]
        finally:
            stack.stop()
            asyncio.run(drop_database(args.admin_url, name))
    command = ".venv/bin/python bench/ack.py " + shlex.join(sys.argv[1:])
    loads = (load_at_start, os.getloadavg()[0])
    print(write_report(results, command=command.strip(), out=Path(args.out), loads=loads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
