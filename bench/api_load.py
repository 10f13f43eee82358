"""Load for the API benchmark: uvicorn servers, wrk runs, and who used the CPU meanwhile."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
LOOPBACK = "127.0.0.1"
WRK_INSTALL_HINT = "install it with: apt-get update && apt-get install -y wrk"

# wrk's Lua hooks: the request comes from the environment, the result is one JSON line.
WRK_SCRIPT = r"""
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY") or ""
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
local bearer = os.getenv("BENCH_BEARER") or ""
if bearer ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. bearer
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class Call:
    """One HTTP request that a scenario repeats."""

    method: str
    path: str
    body: str = ""
    bearer: str = ""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # socket errors, timeouts and non-2xx/3xx answers
    server_cpu_s: float
    wrk_cpu_s: float
    postgres_cpu_s: float
    machine_busy_s: float  # CPU-seconds used by everything on the machine

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def server_cpu_ms_per_request(self) -> float:
        return 1000 * self.server_cpu_s / self.requests if self.requests else 0.0

    @property
    def other_cpu_s(self) -> float:
        used = self.server_cpu_s + self.wrk_cpu_s + self.postgres_cpu_s
        return max(0.0, self.machine_busy_s - used)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def event_loop_and_http() -> tuple[str, str]:
    """uvloop and httptools when installed (uvicorn[standard]), else the pure-Python ones."""
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    try:
        import httptools  # noqa: F401

        http = "httptools"
    except ImportError:
        http = "h11"
    return loop, http


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


class Server:
    """One uvicorn process (one worker) serving an app factory on a loopback port."""

    def __init__(self, name: str, factory: str, *, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.factory = factory
        self.port = free_port()
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.flags = ("asyncio", "h11")
        self.restarts = 0

    def restart_if_dead(self, ready_path: str) -> bool:
        """Start the server again if it exited; True if it had to."""
        if self.process is None or self.process.poll() is None:
            return False
        self.restarts += 1
        self.start(*self.flags)
        self.wait_ready(ready_path)
        return True

    def command(self, loop: str, http: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            self.factory,
            "--factory",
            "--app-dir",
            str(BENCH_DIR),
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--no-access-log",
            "--loop",
            loop,
            "--http",
            http,
            "--log-level",
            "warning",
        ]

    def start(self, loop: str, http: str) -> None:
        self.flags = (loop, http)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(loop, http),
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the bench, which stops this cleanly
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def url(self, path: str) -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def wait_ready(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url(path), timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer on {self.url(path)} in {timeout} s")

    def describe(self) -> str:
        """The server's state and the end of its log, for error messages."""
        code = self.process.poll() if self.process is not None else None
        state = "running" if code is None else f"exited with code {code}"
        tail = self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
        return f"{self.name} (pid {self.pid if self.process else '-'}) {state}; log:\n{tail}"

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def call_once(server: Server, call: Call) -> tuple[int, bytes]:
    """Send the scenario's request once (to check it works before loading it)."""
    headers = {"Authorization": f"Bearer {call.bearer}"} if call.bearer else {}
    if call.body:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(
        server.url(call.path),
        data=call.body.encode() if call.body else None,
        method=call.method,
        headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# --- CPU accounting from /proc -----------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _proc_cpu(stat_path: str) -> tuple[str, float]:
    with open(stat_path) as handle:
        raw = handle.read()
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return comm, (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def process_cpu(pid: int) -> float:
    return _proc_cpu(f"/proc/{pid}/stat")[1]


def postgres_cpu() -> dict[int, float]:
    """CPU-seconds so far of every PostgreSQL process, by pid."""
    found: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            comm, seconds = _proc_cpu(f"/proc/{entry.name}/stat")
        except (OSError, ValueError):
            continue  # the process ended while we looked
        if comm.startswith("postgres"):
            found[int(entry.name)] = seconds
    return found


def postgres_spent(before: dict[int, float], after: dict[int, float]) -> float:
    # A backend that ended in between took its CPU time with it: it is counted as "other".
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def machine_busy() -> float:
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / TICKS


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_idle(pid: int, *, timeout: float = 15.0, poll: float = 0.2) -> None:
    """Return once the process has used under 10% of a core for two polls in a row."""
    deadline, quiet, last = time.monotonic() + timeout, 0, process_cpu(pid)
    while quiet < 2 and time.monotonic() < deadline:
        time.sleep(poll)
        now = process_cpu(pid)
        quiet = quiet + 1 if now - last < 0.1 * poll else 0
        last = now


# --- wrk -----------------------------------------------------------------------------------


def write_wrk_script(directory: Path) -> Path:
    path = directory / "bench_api.lua"
    path.write_text(WRK_SCRIPT)
    return path


Progress = Callable[[float], None]


def _run_wrk(
    wrk: str,
    script: Path,
    server: Server,
    call: Call,
    *,
    connections: int,
    seconds: int,
    progress: Progress,
) -> dict[str, int]:
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        server.url(call.path),
    ]
    env = {**os.environ, "BENCH_METHOD": call.method, "BENCH_BODY": call.body}
    env["BENCH_BEARER"] = call.bearer
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    started = time.monotonic()
    try:
        while process.poll() is None:
            progress(max(0.0, seconds - (time.monotonic() - started)))
            time.sleep(0.5)
        out, err = process.communicate()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    for line in out.decode().splitlines():
        if line.startswith("BENCH_RESULT "):
            return dict(json.loads(line.removeprefix("BENCH_RESULT ")))
    raise RuntimeError(f"wrk gave no result: {out.decode()} {err.decode()}\n{server.describe()}")


def run_load(
    wrk: str,
    script: Path,
    server: Server,
    call: Call,
    *,
    connections: int,
    seconds: int,
    warmup: int,
    progress: Callable[[str, float], None],
) -> LoadResult:
    """Warm up, then load the server for `seconds` and account for every CPU-second used."""
    if warmup:
        _run_wrk(
            wrk,
            script,
            server,
            call,
            connections=connections,
            seconds=warmup,
            progress=lambda left: progress("warm-up", left),
        )
    wait_idle(server.pid)  # requests still in flight from the warm-up belong to no run
    before = (process_cpu(server.pid), children_cpu(), machine_busy())
    postgres_before = postgres_cpu()
    raw = _run_wrk(
        wrk,
        script,
        server,
        call,
        connections=connections,
        seconds=seconds,
        progress=lambda left: progress("measuring", left),
    )
    after = (process_cpu(server.pid), children_cpu(), machine_busy())
    postgres = postgres_spent(postgres_before, postgres_cpu())
    spent = [b - a for a, b in zip(before, after, strict=True)]
    errors = sum(raw[name] for name in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        errors=errors,
        server_cpu_s=spent[0],
        wrk_cpu_s=spent[1],
        postgres_cpu_s=postgres,
        machine_busy_s=spent[2],
    )
