"""Placing the last people of a round: seats that open only when someone moves over."""

from __future__ import annotations

from services.circles import MatchSettings
from services.circles.grouping import Draft, retry_unplaced
from services.circles.problem import build_problem
from tests.circles.rosters import person


def test_someone_left_out_takes_a_seat_whose_holder_can_sit_elsewhere() -> None:
    # Sydney fits only Los Angeles, who sits with New York; the circle of three in London
    # has no room and nobody Sydney could pair with, but New York could pair with one of
    # them, so Sydney takes New York's seat and New York pairs off from London's three.
    roster = [
        person("S", utc_offset_minutes=660),
        person("X", utc_offset_minutes=-480),
        person("Y", utc_offset_minutes=-300),
        *(person(f"Z{n}", utc_offset_minutes=0) for n in range(3)),
    ]
    problem = build_problem(
        candidates=roster, blocks=[], history=[], settings=MatchSettings(size=2)
    )
    keys = [p.key for p in problem.people]
    draft = Draft(
        groups=[[keys.index("X"), keys.index("Y")], [keys.index(f"Z{n}") for n in range(3)]],
        unplaced={keys.index("S"): "not yet placed"},
    )
    retry_unplaced(problem, draft)
    assert draft.unplaced == {}
    assert sorted(len(group) for group in draft.groups) == [2, 2, 2]
    assert sorted(keys[m] for m in next(g for g in draft.groups if keys.index("S") in g)) == [
        "S",
        "X",
    ]
