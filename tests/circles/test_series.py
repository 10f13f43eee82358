"""Many rounds in a row: what a series of circles adds up to, not just one round."""

from __future__ import annotations

import math

import pytest

from services.circles import Candidate, MatchResult, MatchSettings, form_circles

TEAMS = ("Sales", "Ops", "Eng", "Finance", "People")


def _series(
    roster: list[Candidate], *, size: int, rounds: int, planned: bool = False
) -> list[MatchResult]:
    """Consecutive rounds; `planned` tells the matcher how many rounds are left."""
    history: list[list[list[str]]] = []
    results = []
    for number in range(rounds):
        result = form_circles(
            candidates=roster,
            history=history,
            settings=MatchSettings(size=size, history_window=rounds),
            seed=number,
            rounds_left=rounds - number if planned else None,
        )
        results.append(result)
        history.append(result.groups)
    return results


@pytest.mark.parametrize("planned", [False, True])
@pytest.mark.parametrize("offsets", [[0], [0, 120, 300]])
def test_pairs_stay_new_and_cross_team_while_new_cross_team_partners_remain(
    offsets: list[int], planned: bool
) -> None:
    # 25 people in five teams of five: everyone has 20 people from other teams and meets
    # 12 to 14 of them, so twelve rounds need neither a repeat nor a same-team pair.
    roster = [
        Candidate(
            key=f"U{n:02d}",
            team=TEAMS[n % 5],
            level=f"L{n % 3}",
            utc_offset_minutes=offsets[n % len(offsets)],
        )
        for n in range(25)
    ]
    results = _series(roster, size=2, rounds=12, planned=planned)
    assert all(result.unmatched == () for result in results)
    assert sum(result.figures.repeat_pairs for result in results) == 0
    assert sum(result.figures.same_team_pairs for result in results) == 0


@pytest.mark.parametrize("planned", [False, True])
def test_a_cut_off_timezone_repeats_only_as_often_as_counting_forces(planned: bool) -> None:
    # Eight people at UTC-8 can meet only each other: 7 partners for 12 meetings each, so
    # at least 8 * 5 / 2 = 20 repeat pairs; everyone else has partners enough to spare.
    roster = [
        Candidate(
            key=f"U{n:02d}",
            team=TEAMS[n % 5],
            level=f"L{n % 3}",
            utc_offset_minutes=(-480, 0, 330)[n % 3],
        )
        for n in range(24)
    ]
    results = _series(roster, size=2, rounds=12, planned=planned)
    cut_off = sum(1 for person in roster if person.utc_offset_minutes == -480)
    floor = math.ceil(cut_off * (12 - (cut_off - 1)) / 2)
    assert all(result.unmatched == () for result in results)
    assert sum(result.figures.repeat_pairs for result in results) == floor
