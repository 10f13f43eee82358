"""Preview circle rounds from a roster CSV: `coachbot circles preview --roster FILE.csv`.

Nothing is stored: the roster is read, N consecutive rounds are formed (each round
remembering the ones before it) and the groups come back as JSON or a readable table.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from services.circles.candidates import Candidate, MatchSettings
from services.circles.matcher import MatchResult, RoundFigures, form_circles, sum_figures
from services.circles.models import (
    DEFAULT_CADENCE_WEEKS,
    MAX_CADENCE_WEEKS,
    MIN_CADENCE_WEEKS,
)
from services.circles.timezones import utc_offset_minutes
from services.errors import DomainError, Invalid

REQUIRED_COLUMNS = ("slack_user_id", "email", "name", "timezone", "team", "level", "region")
SLACK_USER_ID = re.compile(r"^[A-Z0-9]+$")  # the same rule the member table enforces
EXIT_OK = 0
EXIT_INVALID = 2  # argparse's code for bad usage, so scripts can tell input errors apart


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One person from a roster CSV, with the line they were read from."""

    slack_user_id: str
    name: str
    email: str | None
    timezone: str
    team: str | None
    level: str | None
    region: str | None
    line: int


class RosterInvalid(Invalid):
    """A roster file with bad rows; `problems` lists each one with its line number."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the roster has errors:\n  " + "\n  ".join(problems), field="roster")
        self.problems = problems


def read_roster(*, path: Path) -> list[RosterEntry]:
    """Read and check a roster CSV; report every bad row at once, by line number."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return parse_roster(lines=handle)
    except OSError as exc:
        raise Invalid(f"cannot read {path}: {exc.strerror or exc}", field="roster") from exc
    except UnicodeDecodeError as exc:
        raise Invalid(f"{path} is not UTF-8 text", field="roster") from exc


def parse_roster(*, lines: Iterable[str]) -> list[RosterEntry]:
    """Parse roster CSV text (header first); a `role` column and unknown columns are ignored."""
    reader = csv.reader(lines)
    header = [column.strip().lower() for column in next(reader, [])]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if header and missing:
        raise RosterInvalid([f"line 1: missing column(s) {', '.join(missing)}"])
    entries: list[RosterEntry] = []
    problems: list[str] = []
    first_seen: dict[str, int] = {}
    for fields in reader:
        line = reader.line_num
        if not any(field.strip() for field in fields):
            continue  # blank lines are harmless
        entry, row_problems = _parse_row(header, fields, line=line)
        if entry is not None and entry.slack_user_id in first_seen:
            row_problems.append(
                f"duplicate slack_user_id {entry.slack_user_id} "
                f"(first on line {first_seen[entry.slack_user_id]})"
            )
        problems.extend(f"line {line}: {problem}" for problem in row_problems)
        if entry is not None and not row_problems:
            first_seen[entry.slack_user_id] = line
            entries.append(entry)
    if problems:
        raise RosterInvalid(problems)
    return entries


def _parse_row(
    header: list[str], fields: list[str], *, line: int
) -> tuple[RosterEntry | None, list[str]]:
    if len(fields) > len(header):
        return None, [f"{len(fields)} fields but the header has {len(header)}"]
    values = dict(zip(header, (field.strip() for field in fields), strict=False))
    problems: list[str] = []
    user_id = values.get("slack_user_id", "")
    if not user_id:
        problems.append("missing slack_user_id")
    elif not SLACK_USER_ID.match(user_id):
        problems.append(f"slack_user_id {user_id!r} should be capital letters and digits")
    # An empty timezone means UTC, the member table's default.
    timezone = values.get("timezone") or "UTC"
    try:
        utc_offset_minutes(timezone=timezone, on=date(2000, 1, 1))
    except Invalid:
        problems.append(f"unknown timezone {timezone!r} (use an IANA name like Europe/Berlin)")
    if problems:
        return None, problems
    entry = RosterEntry(
        slack_user_id=user_id,
        name=values.get("name") or user_id,
        email=values.get("email") or None,
        timezone=timezone,
        team=values.get("team") or None,
        level=values.get("level") or None,
        region=values.get("region") or None,
        line=line,
    )
    return entry, []


def preview_rounds(
    *,
    roster: Sequence[RosterEntry],
    rounds: int,
    settings: MatchSettings,
    seed: int,
    first_round: date,
    cadence_days: int = 7,
    blocks: Iterable[tuple[str, str]] = (),
    on_round: Callable[[MatchResult], None] | None = None,
) -> list[MatchResult]:
    """Form `rounds` consecutive rounds; each one remembers the rounds before it."""
    if rounds < 1:
        raise Invalid("rounds must be at least 1", field="rounds")
    blocked = list(blocks)
    history: list[list[list[str]]] = []
    results: list[MatchResult] = []
    plan: Sequence[Sequence[Sequence[str]]] = ()
    days = [first_round + timedelta(days=cadence_days * number) for number in range(rounds)]
    clocks = [_clocks(roster, on=on) for on in days]
    for number in range(rounds):
        candidates = [_candidate(entry, clocks[number]) for entry in roster]
        result = form_circles(
            candidates=candidates,
            blocks=blocked,
            history=history,
            settings=settings,
            seed=seed + number,
            rounds_left=rounds - number,
            later_clocks=clocks[number + 1 :],
            plan=plan,
        )
        plan = result.plan
        history.append(result.groups)
        results.append(result)
        if on_round is not None:
            on_round(result)
    return results


def _clocks(roster: Sequence[RosterEntry], *, on: date) -> dict[str, int]:
    return {
        entry.slack_user_id: utc_offset_minutes(timezone=entry.timezone, on=on)
        for entry in roster
    }


def _candidate(entry: RosterEntry, clocks: dict[str, int]) -> Candidate:
    return Candidate(
        key=entry.slack_user_id,
        team=entry.team,
        level=entry.level,
        region=entry.region,
        utc_offset_minutes=clocks[entry.slack_user_id],
    )


def rounds_json(*, results: Sequence[MatchResult]) -> dict[str, object]:
    """The JSON shape: {"rounds": [[["U1", "U2"], ...], ...]}, plus "unmatched" if any."""
    payload: dict[str, object] = {"rounds": [result.groups for result in results]}
    if any(result.unmatched for result in results):
        payload["unmatched"] = [
            [{"slack_user_id": u.key, "reason": u.reason} for u in result.unmatched]
            for result in results
        ]
    return payload


def rounds_table(
    *, results: Sequence[MatchResult], names: dict[str, str], show_groups: bool = True
) -> str:
    """Render the rounds as text: each round's circles, then per-round figures and totals."""
    lines: list[str] = []
    for number, result in enumerate(results, start=1):
        if show_groups:
            circles = "1 circle" if len(result.circles) == 1 else f"{len(result.circles)} circles"
            lines.append(f"Round {number}: {circles}{_sizes(result)}")
            for index, circle in enumerate(result.circles, start=1):
                people = ", ".join(names.get(key, key) for key in circle.members)
                lines.append(f"  {index:>3}. {people}: {circle.explanation}")
            lines.extend(
                f"       unmatched: {names.get(u.key, u.key)} ({u.key}): {u.reason}"
                for u in result.unmatched
            )
            lines.append("")
    lines.extend(_figures_table(results))
    return "\n".join(lines) + "\n"


def _sizes(result: MatchResult) -> str:
    """' of 4', or ': 13 of 4, 1 of 3, 1 of 5' where a round's circles differ in size."""
    counts = Counter(len(circle.members) for circle in result.circles)
    if not counts:
        return ""
    if len(counts) == 1:
        return f" of {next(iter(counts))}"
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ": " + ", ".join(f"{count} of {size}" for size, count in ordered)


def _figures_table(results: Sequence[MatchResult]) -> list[str]:
    header = ("round", "circles", "repeat pairs", "same-team pairs", "cross-level", "unmatched")
    rows = [
        (str(number), *_figure_cells(result.figures))
        for number, result in enumerate(results, start=1)
    ]
    rows.append(("total", *_figure_cells(sum_figures(result.figures for result in results))))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]


def _figure_cells(figures: RoundFigures) -> tuple[str, ...]:
    cross = f"{100 * figures.cross_level_share:.0f}%" if figures.pairs else "-"
    return (
        str(figures.groups),
        str(figures.repeat_pairs),
        str(figures.same_team_pairs),
        cross,
        str(figures.unmatched),
    )


def run_preview(
    *,
    roster_path: Path | str,
    rounds: int,
    size: int,
    seed: int = 0,
    as_json: bool = False,
    out: TextIO,
    err: TextIO | None = None,
    first_round: date | None = None,
    cadence_weeks: int = DEFAULT_CADENCE_WEEKS,
    max_spread_hours: float = 6.0,
    blocks: Iterable[tuple[str, str]] = (),
) -> int:
    """Preview `rounds` rounds of circles of `size` from a roster CSV; returns an exit code.

    Rounds fall every `cadence_weeks` weeks from `first_round` (default today), as a
    series' do, and each uses its own date's clocks."""
    err = err or sys.stderr
    try:
        if not MIN_CADENCE_WEEKS <= cadence_weeks <= MAX_CADENCE_WEEKS:
            raise Invalid(
                f"rounds must be {MIN_CADENCE_WEEKS} to {MAX_CADENCE_WEEKS} weeks apart",
                field="cadence_weeks",
            )
        if not 0 <= max_spread_hours <= 24:
            raise Invalid("the timezone spread must be between 0 and 24 hours", field="spread")
        roster = read_roster(path=Path(roster_path))
        settings = MatchSettings(
            size=size,
            max_spread_minutes=round(max_spread_hours * 60),
            history_window=max(rounds, 1),
        )
        # Small rosters in pairs plan the whole series each round, which takes seconds.
        with tqdm(
            total=rounds, unit="round", desc="forming", file=err, disable=not err.isatty()
        ) as bar:
            results = preview_rounds(
                roster=roster,
                rounds=rounds,
                settings=settings,
                seed=seed,
                first_round=first_round or date.today(),
                cadence_days=7 * cadence_weeks,
                blocks=blocks,
                on_round=lambda _: bar.update(),
            )
    except DomainError as exc:
        # A roster's problems read best next to its file name; other errors stand alone.
        where = roster_path if isinstance(exc, RosterInvalid) else "error"
        err.write(f"{where}: {exc.detail}\n")
        return EXIT_INVALID
    if as_json:
        out.write(json.dumps(rounds_json(results=results)) + "\n")
    else:
        if not roster:
            out.write("The roster has nobody in it, so there is no one to group.\n")
        names = {entry.slack_user_id: entry.name for entry in roster}
        out.write(rounds_table(results=results, names=names))
    return EXIT_OK
