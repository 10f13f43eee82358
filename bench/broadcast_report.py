"""The broadcast benchmark's verdicts, charts and markdown report (see bench/broadcast.py)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.broadcast import Run  # noqa: E402
from bench.delivery import environment  # noqa: E402

GOAL = 1.15


def verdicts(runs: list[Run]) -> list[tuple[str, str, str, bool]]:
    killed = runs[-1]
    rows = [
        ("killed run: elapsed / floor", f"{killed.elapsed:.1f} s / {killed.floor:.0f} s = "
         f"{killed.ratio:.3f}", f"≤ {GOAL}", killed.ratio <= GOAL),
        ("duplicates", str(killed.duplicates), "0", killed.duplicates == 0),
        ("lost", str(killed.lost), "0", killed.lost == 0),
    ]
    if len(runs) > 1:
        base = runs[0]
        rows.insert(1, ("baseline: elapsed / floor", f"{base.elapsed:.1f} s / {base.floor:.0f} s"
                        f" = {base.ratio:.3f}", "(reference)", True))
        rows.insert(2, ("killed / baseline", f"{killed.elapsed / base.elapsed:.3f}",
                        "(cost of the kill)", True))
        rows.append(("baseline duplicates + lost", str(base.duplicates + base.lost), "0",
                     base.duplicates + base.lost == 0))
    return rows


def print_verdicts(runs: list[Run]) -> bool:
    for name, value, goal, ok in verdicts(runs):
        print(f"{name:>28}: {value}  (goal {goal}: {'met' if ok else 'NOT MET'})")
    return all(ok for *_, ok in verdicts(runs))


def ascii_chart(run: Run, width: int = 50) -> str:
    """Messages sent by time, every 10 s, against the pacing floor."""
    lines = [f"{run.name}: time, sent  (█ sent, │ the floor's pace, ✕ worker killed)"]
    per_second = run.leaders / run.floor
    marks: list[tuple[float, int]] = []
    for at, sent in run.timeline:
        if not marks or int(at // 10) > int(marks[-1][0] // 10):
            marks.append((at, sent))
    if run.timeline and marks[-1] != run.timeline[-1]:
        marks.append(run.timeline[-1])
    for at, sent in marks:
        bar = int(width * sent / run.leaders)
        ideal = min(width, int(width * at * per_second / run.leaders))
        cells = ["█" if i < bar else " " for i in range(width)]
        if ideal < width and cells[ideal] == " ":
            cells[ideal] = "│"
        killed = " ✕" if run.killed_at is not None and at - 10 < run.killed_at <= at else ""
        lines.append(f"{at:5.0f} s  {''.join(cells)} {sent:>6,}{killed}")
    return "\n".join(lines)


def png_chart(runs: list[Run], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, axes = plt.subplots(figsize=(7, 4))
    for run in runs:
        axes.plot([0.0] + [at for at, _ in run.timeline], [0] + [n for _, n in run.timeline],
                  label=f"{run.name} ({run.ratio:.3f} × floor)")
        if run.killed_at is not None:
            axes.axvline(run.killed_at, color="red", linestyle=":", label="worker killed")
    floor = runs[-1].floor
    axes.plot([0, floor], [0, runs[-1].leaders], linestyle="--", color="grey",
              label="pacing floor")
    axes.axvline(floor * GOAL, color="grey", linestyle="-.", label=f"goal: {GOAL} × floor")
    axes.set_xlabel("seconds since the broadcast was created")
    axes.set_ylabel("messages sent")
    axes.set_title(f"Broadcast to {runs[-1].leaders:,} leaders, worker killed once")
    axes.legend(loc="lower right", fontsize=8)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def _details(run: Run) -> str:
    states = ", ".join(f"{state} {n:,}" for state, n in sorted(run.states.items()))
    calls = ", ".join(f"{method} {n:,}" for method, n in sorted(run.calls.items()))
    statuses = ", ".join(f"{status}: {n:,}" for status, n in sorted(run.statuses.items()))
    kill = (f" Killed at {run.killed_at:.1f} s with {run.killed_sent:,} sent; the new worker"
            f" process was claiming {run.restarted_in:.1f} s later." if run.killed_at else "")
    return (f"- **{run.name}**: fan-out {run.fan_out:.2f} s; elapsed {run.elapsed:.1f} s "
            f"({run.ratio:.3f} × floor).{kill} Outbox rows: {states}; rows taken more than "
            f"once: {run.reclaimed}. Broadcast status afterwards: {run.broadcast_status}. "
            f"Calls: {calls}. HTTP statuses: {statuses}.")


def write_report(args: argparse.Namespace, runs: list[Run], output: Path,
                 argv: list[str]) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    chart = png_chart(runs, output.with_suffix(".png"))
    command = shlex.join([".venv/bin/python", "bench/broadcast.py", *argv])
    database = ("SQLite (scratch file)" if args.database_url.startswith("sqlite")
                else "PostgreSQL (scratch database per run)")
    table = "\n".join(f"| {name} | {value} | {goal} | {'yes' if ok else '**no**'} |"
                      for name, value, goal, ok in verdicts(runs))
    png = f"\n![sent over time]({output.with_suffix('.png').name})\n" if chart else ""
    charts = "\n\n".join(ascii_chart(run) for run in runs)
    output.write_text(f"""# Broadcast benchmark

A program owner broadcasts a question to a cohort of {args.leaders:,} leaders. The
broadcast and its {args.leaders:,} outbox intents are written in one transaction
(`create_broadcast`, as `POST /api/v1/broadcasts` does), and a delivery worker running in
a process of its own sends them through `SlackMessenger` to the Slack sandbox, which
enforces 1 message/s per channel and {args.workspace_rate:.0f} messages/s per workspace.
The pacing floor is {args.leaders:,} / {args.workspace_rate:.0f} = {runs[-1].floor:.0f} s.
The *killed* run sends the worker SIGKILL once {args.kill_at:.0%} of the messages are sent
and starts a new worker process at once; the *baseline* run is the same broadcast on a
fresh database and sandbox with nothing killed.

Command (from the repository root):

```
{command}
```

Environment: {environment(database)}

## Result

| measure | this run | goal | met |
|---|---|---|---|
{table}

{chr(10).join(_details(run) for run in runs)}
- Elapsed runs from the moment the broadcast is created (the worker already running) to
  the last outbox row recorded as sent, so it includes the fan-out and, in the killed run,
  the new worker's start-up and the wait before it takes back the rows the dead worker
  left mid-send (`--stale-after {args.stale_after:g}` s).
- Duplicates are messages in the sandbox carrying the same delivery key; lost are outbox
  rows whose key is in no message.
{png}
```
{charts}
```

## Why nothing is lost or sent twice

Every recipient's intent has the delivery key `broadcast:{{id}}:{{member}}`, unique in the
outbox, so the fan-out can be re-run (after a crash, or by two workers) and adds only what
is missing. The key rides in the message metadata: a row the killed worker left in
`sending` is taken again once its claim is stale, and the messenger looks for its key in
the channel's history before posting, so a message that reached Slack just before the
kill is recorded, not repeated.
""", encoding="utf-8")
    print(f"wrote {output}" + (f" and {output.with_suffix('.png')}" if chart else ""))
