"""Pairs for every round left in a series at once, as one integer program.

A round chosen on its own, even with a look at the rounds after it, can spend partners
that later rounds need: a Sydney member's few cross-team partners in reach go early and
the last rounds are left with only repeats and same-team pairs. So when a small roster
in pairs remembers its whole series and knows how many rounds remain, all of those rounds
are chosen together: one binary per round and compatible pair, everyone in exactly one
pair a round, and a count of each pair's meetings beyond its first (history included).
The objective is the matcher's own: the repeat weight per extra meeting plus each pair's
same-team, same-level and affinity terms. A hard constraint is a missing column.

HiGHS (through SciPy) solves it. Its branch and bound runs single-threaded under a node
limit, so the same inputs give the same pairs; the time limit is only a safety valve.
Later rounds are planned with their own clocks when the caller knows them (a timezone's
offset moves with daylight saving, which opens and closes pairs), else with this round's,
and with this round's roster: a guess that the next round's own solve corrects. Only this
round's pairs are returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from services.circles.grouping import Draft
from services.circles.problem import RoundProblem
from services.circles.timezones import offset_spread

# Even rosters up to this size are planned whole: 24 people over twelve rounds solve to a
# proven optimum in 10-30 s of CPU here. Larger or odd rosters use the round-by-round pairing.
SERIES_MAX_PEOPLE = 24
NODE_LIMIT = 20_000
TIME_LIMIT_SECONDS = 120.0

Groups = list[list[int]]


@dataclass(frozen=True, slots=True)
class _Columns:
    """The program's pair columns: (round, a, b) per column, and each pair's row."""

    meetings: list[tuple[int, int, int]]
    pairs: list[tuple[int, int]]


def plan_series_pairs(
    *, problem: RoundProblem, past: list[Groups], clocks: list[list[int]]
) -> Draft | None:
    """This round's pairs from the cheapest plan of the rounds left, or None if unplanned.

    `clocks` holds each person's UTC offset for every round left, this one first."""
    count, rounds_left = problem.count, len(clocks)
    if problem.size != 2 or count % 2 or not 4 <= count <= SERIES_MAX_PEOPLE or rounds_left < 2:
        return None
    columns = _columns(problem, clocks)
    if not columns.meetings:
        return None
    met_before = _met_before(past)
    result = milp(
        _objective(problem, columns),
        constraints=_constraints(count, rounds_left, columns, met_before),
        integrality=np.concatenate([np.ones(len(columns.meetings)), np.zeros(len(columns.pairs))]),
        bounds=Bounds(
            np.zeros(len(columns.meetings) + len(columns.pairs)),
            np.concatenate([np.ones(len(columns.meetings)), np.full(len(columns.pairs), np.inf)]),
        ),
        options={"node_limit": NODE_LIMIT, "time_limit": TIME_LIMIT_SECONDS},
    )
    if result.x is None:
        return None
    groups = sorted(
        [a, b]
        for (number, a, b), value in zip(columns.meetings, result.x, strict=False)
        if number == 0 and value > 0.5
    )
    if 2 * len(groups) != count:
        return None
    return Draft(groups=groups, total=sum(problem.group_cost(group) for group in groups))


def _columns(problem: RoundProblem, clocks: list[list[int]]) -> _Columns:
    meetings = [
        (number, a, b)
        for number, offsets in enumerate(clocks)
        for a in range(problem.count)
        for b in range(a + 1, problem.count)
        if b not in problem.blocked[a]
        and offset_spread([offsets[a], offsets[b]]) <= problem.max_spread
    ]
    pairs = sorted({(a, b) for _, a, b in meetings})
    return _Columns(meetings=meetings, pairs=pairs)


def _met_before(past: list[Groups]) -> set[tuple[int, int]]:
    return {
        (min(a, b), max(a, b))
        for groups in past
        for group in groups
        for index, a in enumerate(group)
        for b in group[index + 1 :]
    }


def _objective(problem: RoundProblem, columns: _Columns) -> np.ndarray:
    # Pair terms without the history's repeat cost: repeats are the extra-meeting columns.
    terms = [
        problem.pair_cost(a, b) - problem.repeat_cost[a].get(b, 0.0) for _, a, b in columns.meetings
    ]
    return np.array(terms + [problem.weights.repeat] * len(columns.pairs))


def _constraints(
    count: int, rounds: int, columns: _Columns, met_before: set[tuple[int, int]]
) -> LinearConstraint:
    """Everyone in one pair a round; each pair's extra meetings at least its meetings - 1."""
    row_of_pair = {pair: count * rounds + index for index, pair in enumerate(columns.pairs)}
    rows: list[int] = []
    cols: list[int] = []
    for column, (number, a, b) in enumerate(columns.meetings):
        rows += [number * count + a, number * count + b, row_of_pair[(a, b)]]
        cols += [column, column, column]
    extra = len(columns.meetings)
    for index in range(len(columns.pairs)):
        rows.append(count * rounds + index)
        cols.append(extra + index)
    values = [1.0] * (len(rows) - len(columns.pairs)) + [-1.0] * len(columns.pairs)
    shape = (count * rounds + len(columns.pairs), extra + len(columns.pairs))
    matrix = coo_matrix((values, (rows, cols)), shape=shape).tocsr()
    # meetings - extra <= 1 for a pair not met yet, <= 0 once it has met.
    upper = [1.0] * (count * rounds) + [
        0.0 if pair in met_before else 1.0 for pair in columns.pairs
    ]
    lower = [1.0] * (count * rounds) + [-np.inf] * len(columns.pairs)
    return LinearConstraint(matrix, np.array(lower), np.array(upper))
