"""Plain builders for circle-matcher inputs."""

from __future__ import annotations

from itertools import combinations

from services.circles import Candidate, MatchResult
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
