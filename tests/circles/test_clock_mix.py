"""Starting a series' plan from the mix of clocks each round's circles hold."""

from __future__ import annotations

import math
from collections import Counter
from itertools import combinations

from services.circles import Candidate, MatchSettings, form_circles
from services.circles.clock_mix import clock_mix_plan
from services.circles.planning import MIX_ANY_SIZE_MAX_PEOPLE, _clock_mix
from services.circles.problem import build_problem
from services.circles.timezones import offset_spread
from tests.circles.rosters import person, run_series

LOS_ANGELES, NEW_YORK, LONDON, TOKYO, SYDNEY = -480, -300, 0, 540, 660
# Sydney reaches Tokyo and (across the date line) Los Angeles; Tokyo reaches only Sydney.
ZONES = [LOS_ANGELES] * 4 + [NEW_YORK] * 4 + [LONDON] * 4 + [TOKYO] * 2 + [SYDNEY] * 2
SPREAD = 6 * 60


def roster(zones: list[int] = ZONES) -> list[Candidate]:
    teams = ("Sales", "Ops", "Eng", "Fin", "People")
    return [
        person(f"U{n:02d}", team=teams[n % 5], utc_offset_minutes=offset)
        for n, offset in enumerate(zones)
    ]


def test_a_mix_of_clocks_seats_everyone_inside_the_window_and_apart_from_blocks() -> None:
    blocks = [("U00", "U01"), ("U04", "U09"), ("U05", "U10")]
    settings = MatchSettings(size=4, history_window=6)
    problem = build_problem(candidates=roster(), blocks=blocks, history=(), settings=settings)
    clocks = [problem.offsets] * 6

    plan = clock_mix_plan(problem=problem, circles=[4] * 6, sizes={3, 4, 5}, clocks=clocks, seed=3)

    assert plan is not None and len(plan) == 6
    index = {p.key: i for i, p in enumerate(problem.people)}
    blocked = {frozenset((index[a], index[b])) for a, b in blocks}
    for circles in plan:
        assert len(circles) == 4
        assert sorted(m for circle in circles for m in circle) == list(range(16))
        for circle in circles:
            assert 3 <= len(circle) <= 5
            assert offset_spread([problem.offsets[m] for m in circle]) <= SPREAD
            assert not any(frozenset(pair) in blocked for pair in combinations(circle, 2))
    again = clock_mix_plan(problem=problem, circles=[4] * 6, sizes={3, 4, 5}, clocks=clocks, seed=3)
    assert again == plan


def test_a_mix_keeps_to_the_sizes_it_is_given() -> None:
    settings = MatchSettings(size=4, history_window=6)
    problem = build_problem(candidates=roster(), blocks=(), history=(), settings=settings)
    clocks = [problem.offsets] * 6
    for sizes in ({4}, {3, 5}):
        plan = clock_mix_plan(problem=problem, circles=[4] * 6, sizes=sizes, clocks=clocks, seed=1)
        assert plan is not None
        assert {len(circle) for circles in plan for circle in circles} <= sizes
    assert (
        clock_mix_plan(problem=problem, circles=[4] * 6, sizes={5}, clocks=clocks, seed=1) is None
    )


def test_a_mix_holds_no_more_circles_off_size_than_each_round_allows() -> None:
    settings = MatchSettings(size=4, history_window=6)
    problem = build_problem(candidates=roster(), blocks=(), history=(), settings=settings)
    clocks = [problem.offsets] * 6

    def off_size(plan: list[list[list[int]]]) -> list[int]:
        return [sum(len(circle) != 4 for circle in circles) for circles in plan]

    free = clock_mix_plan(problem=problem, circles=[4] * 6, sizes={3, 4, 5}, clocks=clocks, seed=1)
    assert free is not None and sum(off_size(free)) > 0  # threes and fives meet more people
    for most in ([0] * 6, [2, 0, 2, 0, 2, 0]):
        plan = clock_mix_plan(
            problem=problem,
            circles=[4] * 6,
            sizes={3, 4, 5},
            clocks=clocks,
            seed=1,
            most_off_size=most,
        )
        assert plan is not None
        assert all(held <= allowed for held, allowed in zip(off_size(plan), most, strict=True))


def test_a_large_series_mixes_circles_on_size_first_and_off_size_only_where_it_must() -> None:
    settings = MatchSettings(size=4, history_window=6)
    # 48 people, the 16 above three times over: a mix with threes and fives meets more
    # people, but fours alone seat everyone, so drafts with a three and a five give fours.
    people = roster(ZONES * 3)
    assert len(people) > MIX_ANY_SIZE_MAX_PEOPLE
    problem = build_problem(candidates=people, blocks=(), history=(), settings=settings)
    clocks = [problem.offsets] * 6
    free = clock_mix_plan(
        problem=problem,
        circles=[12] * 6,
        sizes={3, 4, 5},
        clocks=clocks,
        seed=1,
        most_off_size=[2] * 6,
    )
    assert free is not None and any(len(c) != 4 for circles in free for c in circles)
    drafts = [
        [list(range(0, 3)), list(range(3, 8))] + [list(range(n, n + 4)) for n in range(8, 48, 4)]
    ] * 6
    plan = _clock_mix(problem, drafts, clocks, seed=1)
    assert plan is not None
    assert {len(circle) for circles in plan for circle in circles} == {4}

    # Five in Tokyo and Sydney, which reach nobody else: no seating of fours alone exists,
    # so each round keeps its draft's five and three, and no more circles off size.
    people = roster([LONDON] * 20 + [NEW_YORK] * 19 + [TOKYO] * 3 + [SYDNEY] * 2)
    problem = build_problem(candidates=people, blocks=(), history=(), settings=settings)
    clocks = [problem.offsets] * 6
    assert (
        clock_mix_plan(problem=problem, circles=[11] * 6, sizes={4}, clocks=clocks, seed=1) is None
    )
    drafts = [
        [list(range(39, 44)), list(range(0, 3))] + [list(range(n, n + 4)) for n in range(3, 39, 4)]
    ] * 6
    plan = _clock_mix(problem, drafts, clocks, seed=1)
    assert plan is not None
    for circles in plan:
        assert sorted(len(circle) for circle in circles) == [3] + [4] * 9 + [5]
        assert set(range(39, 44)) in [set(circle) for circle in circles]


def test_blocks_that_no_seating_can_keep_apart_give_no_mix() -> None:
    # London and Tokyo are nine hours apart, so each pair of circles is one city's four.
    people = roster([LONDON] * 4 + [TOKYO] * 4)
    settings = MatchSettings(size=4, history_window=3)
    problem = build_problem(
        candidates=people, blocks=[("U04", "U05")], history=(), settings=settings
    )
    clocks = [problem.offsets] * 3
    assert (
        clock_mix_plan(problem=problem, circles=[2] * 3, sizes={4}, clocks=clocks, seed=0) is None
    )
    # A series planned whole then starts from its drafts, which split Tokyo into pairs.
    result = form_circles(
        candidates=people, blocks=[("U04", "U05")], settings=settings, rounds_left=3
    )
    assert result.unmatched == ()
    assert not any({"U04", "U05"} <= set(circle.members) for circle in result.circles)


def counting_floor(people: list[Candidate], history: list[list[list[str]]]) -> int:
    """Fewest repeats counting forces: meetings beyond the people each could ever meet."""
    meetings = Counter(key for groups in history for g in groups for key in g for _ in g[1:])
    reach = {
        a.key: sum(
            1
            for b in people
            if b is not a and offset_spread([a.utc_offset_minutes, b.utc_offset_minutes]) <= SPREAD
        )
        for a in people
    }
    return math.ceil(sum(max(0, meetings[key] - reach[key]) for key in meetings) / 2)


def test_a_series_planned_from_a_mix_of_clocks_meets_more_people_and_repeats_only_as_forced() -> (
    None
):
    # Round by round, each round's cheapest circles keep seating the same people together.
    # When written: 104 repeats (floor 80) and 40 different pairs round by round;
    # 82 repeats (at its floor) and 64 different pairs planned from the mix of clocks.
    people = roster()
    by_round = run_series(people, 6, planned=False)
    planned = run_series(people, 6, planned=True)

    def met(history: list[list[list[str]]]) -> Counter[frozenset[str]]:
        return Counter(
            frozenset(p) for groups in history for g in groups for p in combinations(g, 2)
        )

    repeats = sum(times - 1 for times in met(planned).values())
    assert repeats == counting_floor(people, planned)
    assert len(met(planned)) > len(met(by_round))
    assert repeats < sum(times - 1 for times in met(by_round).values())
