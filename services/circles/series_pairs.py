"""Pairs for every round left in a series at once, as one integer program.

A round chosen on its own, even with a look at the rounds after it, can spend partners
that later rounds need: a Sydney member's few cross-team partners in reach go early and
the last rounds are left with only repeats and same-team pairs. So when a small roster
in pairs remembers its whole series and knows how many rounds remain, all of those rounds
are chosen together: one binary per round and compatible circle (a pair, or on an odd
roster also a three, exactly one of which meets each round), everyone in exactly one
circle a round, and a count of each pair's meetings beyond its first (history included).
The objective is the matcher's own: the repeat weight per extra meeting plus each pair's
same-team, same-level and affinity terms. A hard constraint is a missing column.

HiGHS (through SciPy) solves it. Its branch and bound runs single-threaded under a node
limit, so the same inputs give the same pairs; the time limit is only a safety valve.
Later rounds are planned with their own clocks when the caller knows them (a timezone's
offset moves with daylight saving, which opens and closes pairs), else with this round's,
and with this round's roster: a guess that the next round's own solve corrects. Only this
round's circles are returned. The last round is solved the same way, so that it counts
repeats as the plans before it did (the round-by-round matcher weighs a recent repeat
twice as heavily as an old one, and would take two old repeats over one recent one).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from services.circles.grouping import Draft
from services.circles.problem import RoundProblem

# Rosters up to this size are planned whole: on the benchmark's rosters over twelve rounds,
# 24 people take up to 32 s of CPU a round and 25 (with threes) up to 105 s. Larger
# rosters use the round-by-round pairing.
SERIES_MAX_PEOPLE = 25
# A program with more circles than this (25 people in one timezone have 31,000 over twelve
# rounds, and take minutes) is left to the round-by-round pairing, which needs no plan
# where partners are that plentiful.
MAX_CIRCLES = 20_000
# A longer series is planned this many rounds ahead at a time.
MAX_ROUNDS_PLANNED = 12
NODE_LIMIT = 20_000
TIME_LIMIT_SECONDS = 180.0

Pair = tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Program:
    """Columns as (round, circle); each pair that can meet gets a row of its own."""

    circles: list[tuple[int, tuple[int, ...]]]
    pairs: list[Pair]
    count: int
    rounds: int

    @property
    def odd(self) -> bool:
        return self.count % 2 == 1


def plan_series_pairs(
    *, problem: RoundProblem, clocks: list[list[int]]
) -> Draft | None:
    """This round's pairs from the cheapest plan of the rounds left, or None if unplanned.

    `clocks` holds each person's UTC offset for every round left, this one first; a long
    series is planned `MAX_ROUNDS_PLANNED` rounds ahead."""
    clocks = clocks[:MAX_ROUNDS_PLANNED]
    count = problem.count
    if problem.size != 2 or not 4 <= count <= SERIES_MAX_PEOPLE or not clocks:
        return None
    program = _program(problem, clocks)
    if not program.circles or len(program.circles) > MAX_CIRCLES:
        return None
    circles, extras = len(program.circles), len(program.pairs)
    result = milp(
        _objective(problem, program),
        constraints=_constraints(problem, program),
        integrality=np.concatenate([np.ones(circles), np.zeros(extras)]),
        bounds=Bounds(
            np.zeros(circles + extras),
            np.concatenate([np.ones(circles), np.full(extras, np.inf)]),
        ),
        options={"node_limit": NODE_LIMIT, "time_limit": TIME_LIMIT_SECONDS},
    )
    if result.x is None:
        return None
    groups = sorted(
        list(circle)
        for (number, circle), value in zip(program.circles, result.x, strict=False)
        if number == 0 and value > 0.5
    )
    if sum(len(group) for group in groups) != count:
        return None
    return Draft(groups=groups, total=sum(problem.group_cost(group) for group in groups))


def _program(problem: RoundProblem, clocks: list[list[int]]) -> _Program:
    sizes = (2, 3) if problem.count % 2 else (2,)
    circles = [
        (number, circle)
        for number, offsets in enumerate(clocks)
        for size in sizes
        for circle in combinations(range(problem.count), size)
        if problem.circle_fits(circle, offsets)
    ]
    pairs = sorted({pair for _, circle in circles for pair in combinations(circle, 2)})
    return _Program(circles=circles, pairs=pairs, count=problem.count, rounds=len(clocks))


def _objective(problem: RoundProblem, program: _Program) -> np.ndarray:
    # Pair terms without the history's repeat cost: repeats are the extra-meeting columns.
    def fixed(a: int, b: int) -> float:
        return problem.pair_cost(a, b) - problem.repeat_cost[a].get(b, 0.0)

    terms = [
        sum(fixed(a, b) for a, b in combinations(circle, 2)) for _, circle in program.circles
    ]
    return np.array(terms + [problem.weights.repeat] * len(program.pairs))


def _constraints(problem: RoundProblem, program: _Program) -> LinearConstraint:
    """Everyone in one circle a round, one three a round on an odd roster, and each
    pair's extra meetings at least its meetings less one (less none once it has met)."""
    seats = program.count * program.rounds
    pair_row = {pair: seats + index for index, pair in enumerate(program.pairs)}
    three_row = seats + len(program.pairs)
    rows: list[int] = []
    cols: list[int] = []
    for column, (number, circle) in enumerate(program.circles):
        cells = [number * program.count + member for member in circle]
        cells += [pair_row[pair] for pair in combinations(circle, 2)]
        if len(circle) == 3:
            cells.append(three_row + number)
        rows += cells
        cols += [column] * len(cells)
    values = [1.0] * len(rows)
    first_extra = len(program.circles)
    for index in range(len(program.pairs)):
        rows.append(seats + index)
        cols.append(first_extra + index)
        values.append(-1.0)
    threes = program.rounds if program.odd else 0
    shape = (three_row + threes, first_extra + len(program.pairs))
    matrix = coo_matrix((values, (rows, cols)), shape=shape).tocsr()
    # The problem's history is the whole series here, so `met` holds every earlier meeting.
    once = [0.0 if b in problem.met[a] else 1.0 for a, b in program.pairs]
    lower = [1.0] * seats + [-np.inf] * len(program.pairs) + [1.0] * threes
    upper = [1.0] * seats + once + [1.0] * threes
    return LinearConstraint(matrix, np.array(lower), np.array(upper))
