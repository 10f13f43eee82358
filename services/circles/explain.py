"""Why these people: a circle's score parts and a one-line, human explanation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from services.circles.problem import RoundProblem
from services.circles.timezones import (
    MINUTES_PER_DAY,
    format_offset,
    offset_spread,
    offset_window,
)


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """How a circle scored: pair counts per soft constraint and the total penalty."""

    pairs: int
    repeat_pairs: int
    same_team_pairs: int
    same_level_pairs: int
    shared_competencies: int
    penalty: float


def score_circle(problem: RoundProblem, members: Sequence[int]) -> ScoreParts:
    """Count what a group's pairs share and what that costs under the series' weights."""
    pairs = list(combinations(members, 2))
    people = problem.people
    return ScoreParts(
        pairs=len(pairs),
        repeat_pairs=sum(1 for a, b in pairs if b in problem.met[a]),
        same_team_pairs=sum(
            1
            for a, b in pairs
            if problem.team_ids[a] >= 0 and problem.team_ids[a] == problem.team_ids[b]
        ),
        same_level_pairs=sum(
            1
            for a, b in pairs
            if problem.level_ids[a] >= 0 and problem.level_ids[a] == problem.level_ids[b]
        ),
        shared_competencies=sum(
            len(people[a].competencies & people[b].competencies) for a, b in pairs
        ),
        penalty=round(problem.group_cost(members), 6),
    )


def explain_circle(problem: RoundProblem, members: Sequence[int], parts: ScoreParts) -> str:
    """Describe a circle: teams, levels, overlapping hours, history, shared focus."""
    people = [problem.people[member] for member in members]
    clauses = [
        _teams_clause([person.team for person in people]),
        _levels_clause([person.level for person in people]),
        _hours_clause([problem.offsets[member] for member in members]),
        _history_clause(parts.repeat_pairs),
    ]
    if problem.affinity:
        shared = Counter(c for person in people for c in sorted(person.competencies))
        common = sorted(name for name, count in shared.items() if count >= 2)
        if common:
            clauses.append("shared focus on " + ", ".join(common))
    return ", ".join(clause for clause in clauses if clause)


def _labels(values: list[str | None]) -> list[str]:
    return [value.strip() for value in values if value and value.strip()]


def _teams_clause(teams: list[str | None]) -> str:
    known = _labels(teams)
    if not known:
        return ""
    counts = Counter(known)
    if len(counts) == len(teams):
        return f"different teams ({', '.join(sorted(counts))})"
    if len(counts) == 1 and len(known) == len(teams):
        return f"all from {known[0]}"
    listed = [name if n == 1 else f"{name} ({n})" for name, n in sorted(counts.items())]
    return "teams " + ", ".join(listed)


def _levels_clause(levels: list[str | None]) -> str:
    known = sorted(set(_labels(levels)))
    if not known:
        return ""
    if len(known) == 1 and len(_labels(levels)) == len(levels):
        return f"all at level {known[0]}"
    return "levels " + "/".join(known)


def _hours_clause(offsets: list[int]) -> str:
    first, last = offset_window(offsets)
    if first == last:
        return f"same timezone ({format_offset(first)})"
    if offset_spread(offsets) == max(offsets) - min(offsets):
        return f"working hours overlap ({format_offset(first)}..{format_offset(last)})"
    # The shortest window wraps past the date line: list the clocks eastward from its start.
    eastward = sorted(set(offsets), key=lambda offset: (offset - first) % MINUTES_PER_DAY)
    listed = ", ".join(format_offset(offset) for offset in eastward)
    return f"working hours overlap across the date line ({listed})"


def _history_clause(repeat_pairs: int) -> str:
    if repeat_pairs == 0:
        return "none have met before"
    if repeat_pairs == 1:
        return "one pair has met before"
    return f"{repeat_pairs} pairs have met before"
