"""Plain builders for circle-matcher inputs."""

from __future__ import annotations

from itertools import combinations

from services.circles import Candidate, MatchResult, MatchSettings, form_circles
from services.circles.timezones import offset_spread


def person(key: str, **fields: object) -> Candidate:
    """A candidate with sensible blanks for whatever the test does not care about."""
    return Candidate(key=key, **fields)  # type: ignore[arg-type]


def people(count: int, **fields: object) -> list[Candidate]:
    """`count` candidates U00, U01, ... sharing the given fields."""
    return [person(f"U{number:02d}", **fields) for number in range(count)]


def all_pairs(result: MatchResult) -> set[frozenset[str]]:
    """Every pair of members that shares a circle in this result."""
    return {
        frozenset(pair) for circle in result.circles for pair in combinations(circle.members, 2)
    }


def spread_of(members: tuple[str, ...], roster: list[Candidate]) -> int:
    """Minutes between the earliest and latest clocks among these members."""
    offsets = {candidate.key: candidate.utc_offset_minutes for candidate in roster}
    return offset_spread(offsets[key] for key in members)


def run_series(
    roster: list[Candidate], rounds: int, *, planned: bool, carry: bool = True
) -> list[list[list[str]]]:
    """Every round of a series in fours that remembers its whole run, as keys per circle.

    `planned` tells the matcher how many rounds are left; `carry` hands each round's plan
    of the later rounds to the next, as a live series does. Everyone must be placed, within
    a six-hour window."""
    history: list[list[list[str]]] = []
    plan: tuple[tuple[tuple[str, ...], ...], ...] = ()
    for number in range(rounds):
        result = form_circles(
            candidates=roster,
            history=history,
            settings=MatchSettings(size=4, history_window=rounds),
            seed=number,
            rounds_left=rounds - number if planned else None,
            plan=plan if carry else (),
        )
        assert result.unmatched == ()
        assert result.figures.max_spread_minutes <= 6 * 60
        assert len(result.plan) == (rounds - number - 1 if planned else 0)
        plan = result.plan
        history.append(result.groups)
    return history
