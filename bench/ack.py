"""Ack latency of Slack `block_actions` requests under 50 concurrent clients.

Coachbot serves on one uvicorn process with PostgreSQL; the Slack Web API stand-in runs in
its own process (no rate limits, so the bot's follow-up work never waits on it); the load
comes from a third process over loopback, signing every request like Slack does. Each
click changes a goal's visibility, so every ack is followed by a write and a Home-tab
publish in the same server process, which is the realistic case. `/healthz` is measured
the same way in the same run as the baseline.

    .venv/bin/python bench/ack.py [--seconds 15] [--clients 50] [--admin-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import shlex
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_seed import create_database, drop_database, scratch_url  # noqa: E402

from bot.slack_signing import sign_request  # noqa: E402
from services.db import create_engine, create_sessionmaker, transaction  # noqa: E402
from services.demo import DEMO_TEAM_ID, seed_demo  # noqa: E402
from services.schema import upgrade  # noqa: E402

SECRET = "bench-signing-secret-0123456789ab"
TOKEN = "xoxb-sandbox-token"
SANDBOX = """
import asyncio, sys
from bot.sandbox import SlackSandbox, SandboxWorkspace
async def main():
    workspace = SandboxWorkspace(team_id=sys.argv[2], auto_users=True)
    async with SlackSandbox(port=int(sys.argv[1]), rate_limits=None, workspace=workspace):
        await asyncio.Event().wait()
asyncio.run(main())
"""


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


async def goal_ids(url: str) -> list[tuple[str, int]]:
    """(Slack user, goal id) pairs of the demo leaders."""
    from sqlmodel import select

    from services.people.models import Member
    from services.plans.models import Goal

    engine = create_engine(url)
    async with transaction(create_sessionmaker(engine)) as session:
        await seed_demo(session=session)
    async with transaction(create_sessionmaker(engine)) as session:
        rows = (
            await session.exec(
                select(Member.slack_user_id, Goal.id).join(Goal, Goal.member_id == Member.id)
            )
        ).all()  # type: ignore[arg-type]
    await engine.dispose()
    return [(user, int(goal)) for user, goal in rows]


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


async def load(
    base: str,
    targets: list[tuple[str, int]],
    *,
    kind: str,
    clients: int,
    seconds: float,
    warmup: float,
) -> dict[str, float]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    start = time.monotonic()
    stop_at = start + warmup + seconds

    async def client(index: int) -> None:
        nonlocal errors
        n = index
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while time.monotonic() < stop_at:
                n += clients
                began = time.monotonic()
                try:
                    ok = await one_request(http, n)
                except (TimeoutError, aiohttp.ClientError):
                    ok = False
                finished = time.monotonic()
                if began >= start + warmup:
                    latencies.append((finished - began) * 1000)
                    errors += not ok

    async def one_request(http: aiohttp.ClientSession, n: int) -> bool:
        if kind == "healthz":
            async with http.get(f"{base}/healthz") as response:
                await response.read()
                ok = response.status == 200
        else:
            user, goal = targets[n % len(targets)]
            body = click_body(user, goal, ("private", "coach")[n % 2])
            signed = sign_request(
                signing_secret=SECRET, body=body, content_type="application/x-www-form-urlencoded"
            )
            async with http.post(
                f"{base}/slack/events", data=signed.body, headers=signed.headers
            ) as response:
                await response.read()
                ok = response.status == 200
        return ok

    await asyncio.gather(*(client(i) for i in range(clients)))
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "max": latencies[-1],
    }


def run_load(
    base: str,
    targets: list[tuple[str, int]],
    kind: str,
    clients: int,
    seconds: float,
    queue: multiprocessing.Queue,
) -> None:  # type: ignore[type-arg]
    queue.put(
        asyncio.run(load(base, targets, kind=kind, clients=clients, seconds=seconds, warmup=3.0))
    )


def measure(
    base: str, targets: list[tuple[str, int]], kind: str, clients: int, seconds: float
) -> dict[str, float]:
    """The load generator runs in its own process, so it never shares the server's CPU slot."""
    print(f"  {kind}: {clients} clients for {seconds:.0f} s (+3 s warm-up)…", flush=True)
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    process = multiprocessing.Process(
        target=run_load, args=(base, targets, kind, clients, seconds, queue)
    )
    process.start()
    result: dict[str, float] = queue.get(timeout=seconds + 120)
    process.join()
    return result


def report(rows: dict[str, dict[str, float]], command: str, clients: int) -> str:
    ack, base = rows["block_actions"], rows["healthz"]
    verdict = "met" if ack["p99"] < 100 else "not met"
    width = 40
    scale = max(ack["p99"], base["p99"], 100.0)
    lines = [
        "# Benchmark: Slack ack latency",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL; "
        f"{clients} concurrent clients from a separate process over loopback; every request "
        "signed; each `block_actions` click changes a goal's visibility (a write and a Home "
        "publish follow the ack in the same server process).",
        "",
        "| endpoint | requests | errors | req/s | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['requests']:.0f} | {row['errors']:.0f} | "
            f"{row['rps']:.0f} | {row['p50']:.1f} | {row['p99']:.1f} | "
            f"{row['max']:.1f} |"
        )
    lines += [
        "",
        f"Goal: `block_actions` ack p99 under 100 ms — **{verdict}** "
        f"({ack['p99']:.1f} ms; {ack['p99'] / base['p99']:.1f}× the bare `/healthz` "
        "p99 in the same run).",
        "",
        "```",
        *(
            f"{name:<14} p99 {'█' * max(1, round(row['p99'] / scale * width))} {row['p99']:.1f} ms"
            for name, row in rows.items()
        ),
        f"{'goal':<14} p99 {'┆' * round(100 / scale * width)} 100 ms",
        "```",
        "",
    ]
    return "\n".join(lines)


async def prepare(admin_url: str) -> tuple[str, str, list[tuple[str, int]]]:
    name, url = scratch_url(admin_url)
    await create_database(admin_url, name)
    await asyncio.to_thread(upgrade, url)
    return name, url, await goal_ids(url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks-ack.md"))
    args = parser.parse_args()
    name, url, targets = asyncio.run(prepare(args.admin_url))
    sandbox_port, app_port = free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "COACHBOT_DATABASE_URL": url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "COACHBOT_SLACK_API_URL": f"http://127.0.0.1:{sandbox_port}/api/",
        "COACHBOT_IN_PROCESS_WORKER": "false",
        "COACHBOT_ENV": "test",
    }
    processes = [
        subprocess.Popen([sys.executable, "-c", SANDBOX, str(sandbox_port), DEMO_TEAM_ID], env=env),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bot.main:create_app",
                "--factory",
                "--port",
                str(app_port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
        ),
    ]
    try:
        base = f"http://127.0.0.1:{app_port}"
        asyncio.run(wait_http(f"http://127.0.0.1:{sandbox_port}/api/auth.test"))
        asyncio.run(wait_http(f"{base}/readyz"))
        print(f"Coachbot at {base}, {len(targets)} goals to toggle", flush=True)
        rows = {
            kind: measure(base, targets, kind, args.clients, args.seconds)
            for kind in ("healthz", "block_actions")
        }
    finally:
        for process in reversed(processes):  # the app first, so it never outlives Slack
            process.terminate()
            try:
                process.wait(30)  # the app first finishes the work it acked
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

        asyncio.run(drop_database(args.admin_url, name))
    command = "python bench/ack.py " + shlex.join(sys.argv[1:])
    text = report(rows, command.strip(), args.clients)
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
