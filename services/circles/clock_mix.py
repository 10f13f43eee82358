"""A starting plan for a series of groups, chosen by clocks first and by people second.

For the working-hours window, people whose clocks agree in every planned round are
interchangeable. So a plan can first choose, for every round, how many circles of each
mix of clock groups it holds (say two circles of London, London, Berlin, Dubai), and only
then who sits where. The first step is a small integer program: the meetings between two
clock groups cost nothing up to the number of pairs of their people that have not met
yet, and each meeting beyond that is a repeat somebody must have. HiGHS finds the mix with
the fewest such repeats, which is as many as counting alone forces on small rosters.

A mix that uses up every fresh pair between two clock groups asks the seating for a
perfect design (each Chicago person meeting each Los Angeles person exactly once), which
swaps seldom find. So meetings beyond most of those pairs cost a little as well, and the
mix spreads them over other groups where it can.

Seating then shuffles each clock group's people (from the seed) into that group's seats,
round by round, and moves people within their group to separate blocked pairs. Who meets
whom is left to the search that follows, which starts from this plan.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from itertools import combinations, combinations_with_replacement, product

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from services.circles.problem import RoundProblem
from services.circles.timezones import offset_spread

# A program with more circle mixes than this is left alone and the round-by-round drafts
# start the search instead: HiGHS found no mix in 20 s for 40 people in 20 clock groups
# (21,900 mixes over twelve rounds), while the benchmark's 24 people in 12 groups take
# about a second, its 60 people in fours 15 to 40 s (2,500 mixes), and a roster mixed with
# its drafts' threes and fives (about 8,000 mixes) up to 84 s with the search after it.
MAX_MIXES = 20_000
# Branch and bound runs single-threaded under a node limit, so the same inputs give the
# same mix; the time limit is only a safety valve, well above the slowest first round
# measured (84 s). On the benchmark's 60 people in fours, 50 nodes left the search where
# the drafts did, 300 saved 2 to 11 repeats per roster.
NODE_LIMIT = 300
TIME_LIMIT_SECONDS = 300.0
OFF_SIZE_COST = 0.01
# Meetings between two clock groups beyond this share of their fresh pairs cost this much
# each (a repeat costs 1): on 60 people in fours the search then ended 2 to 11 repeats
# lower than from a mix that fills pairs of groups to the last fresh pair.
FULL_SHARE = 0.85
NEAR_FULL_COST = 0.3

Plan = list[list[list[int]]]  # round -> circles -> members


def clock_mix_plan(
    *,
    problem: RoundProblem,
    circles: Sequence[int],
    sizes: Collection[int],
    clocks: Sequence[Sequence[int]],
    seed: int,
    most_off_size: Sequence[int] | None = None,
) -> Plan | None:
    """Circles for every round (`circles[r]` of them, everyone seated, each of one of the
    `sizes`, and at most `most_off_size[r]` of them off the series' size where given) whose
    mix of clocks has the fewest forced repeats; None when no such plan is found."""
    groups = _clock_groups(clocks)
    mixes = _mixes(problem, groups, sorted(sizes), clocks)
    if not mixes or len(mixes) > MAX_MIXES:
        return None
    chosen = _solve(problem, groups, circles, mixes, most_off_size)
    if chosen is None:
        return None
    return _seat(problem, groups, chosen, len(circles), random.Random(seed))


def _clock_groups(clocks: Sequence[Sequence[int]]) -> list[list[int]]:
    by_clocks: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for person in range(len(clocks[0])):
        by_clocks[tuple(round_clocks[person] for round_clocks in clocks)].append(person)
    return [by_clocks[key] for key in sorted(by_clocks)]


def _mixes(
    problem: RoundProblem,
    groups: list[list[int]],
    sizes: Sequence[int],
    clocks: Sequence[Sequence[int]],
) -> list[tuple[int, tuple[int, ...]]]:
    """(round, clock groups of one circle) for every circle make-up that fits the window."""
    # A circle holds no more of a group than the group has people with no block among them.
    room = [_most_unblocked(problem, members, max(sizes)) for members in groups]
    mixes = []
    for number, offsets_now in enumerate(clocks):
        offsets = [offsets_now[members[0]] for members in groups]
        for size in sizes:
            for mix in combinations_with_replacement(range(len(groups)), size):
                counts = Counter(mix)
                if any(times > room[group] for group, times in counts.items()):
                    continue
                if offset_spread([offsets[group] for group in counts]) <= problem.max_spread:
                    mixes.append((number, mix))
                if len(mixes) > MAX_MIXES:
                    return mixes
    return mixes


def _most_unblocked(problem: RoundProblem, members: list[int], limit: int) -> int:
    """How many of `members` (up to `limit`) one circle can hold without a blocked pair."""
    best = 0

    def grow(chosen: list[int], start: int) -> bool:
        nonlocal best
        best = max(best, len(chosen))
        if best >= limit:
            return True
        for position in range(start, len(members)):
            person = members[position]
            if not problem.blocked[person] & set(chosen) and grow([*chosen, person], position + 1):
                return True
        return False

    grow([], 0)
    return min(best, len(members))


def _solve(
    problem: RoundProblem,
    groups: list[list[int]],
    circle_counts: Sequence[int],
    mixes: list[tuple[int, tuple[int, ...]]],
    most_off_size: Sequence[int] | None,
) -> list[tuple[int, tuple[int, ...]]] | None:
    """The circle make-ups of every round (one entry per circle), or None."""
    kinds = len(groups)
    group_pairs = [(a, b) for a in range(kinds) for b in range(a, kinds)]
    pair_row = {pair: row for row, pair in enumerate(group_pairs)}
    # One count per mix, then per pair of groups its repeats and its meetings near full.
    pairs = len(group_pairs)
    columns = len(mixes) + 2 * pairs
    seats = _Rows()  # each group fills exactly its people's seats every round
    circles = _Rows()  # each round holds as many circles as it was given
    meetings = _Rows()  # meetings of a pair of groups, less its repeats, <= fresh pairs
    near_full = _Rows()  # the same meetings, less those near full, <= FULL_SHARE of them
    off_size_circles = _Rows()  # circles off the series' size, per round
    for column, (number, mix) in enumerate(mixes):
        for group, times in Counter(mix).items():
            seats.add(number * kinds + group, column, times)
        circles.add(number, column, 1)
        if len(mix) != problem.size:
            off_size_circles.add(number, column, 1)
        for a, b in combinations(mix, 2):
            row = pair_row[(min(a, b), max(a, b))]
            meetings.add(row, column, 1)
            near_full.add(row, column, 1)
    for row in range(pairs):
        meetings.add(row, len(mixes) + row, -1)
        near_full.add(row, len(mixes) + pairs + row, -1)
    seats_wanted = [len(groups[group]) for _ in circle_counts for group in range(kinds)]
    fresh = [_fresh_pairs(problem, groups[a], groups[b]) for a, b in group_pairs]
    # A circle off the series' size costs a little, so the sizes asked for win a tie.
    off_size = [OFF_SIZE_COST * (len(mix) != problem.size) for _, mix in mixes]
    objective = np.concatenate([off_size, np.ones(pairs), np.full(pairs, NEAR_FULL_COST)])
    constraints = [
        seats.constraint(len(seats_wanted), columns, seats_wanted, seats_wanted),
        circles.constraint(len(circle_counts), columns, circle_counts, circle_counts),
        meetings.constraint(pairs, columns, None, fresh),
        near_full.constraint(pairs, columns, None, [FULL_SHARE * f for f in fresh]),
    ]
    if most_off_size is not None:
        constraints.append(
            off_size_circles.constraint(len(circle_counts), columns, None, most_off_size)
        )
    result = milp(
        objective,
        constraints=constraints,
        integrality=np.concatenate([np.ones(len(mixes)), np.zeros(2 * pairs)]),
        bounds=Bounds(0, np.inf),
        options={"node_limit": NODE_LIMIT, "time_limit": TIME_LIMIT_SECONDS},
    )
    if result.x is None:
        return None
    counts = np.round(result.x[: len(mixes)]).astype(int)
    return [mixes[column] for column in np.flatnonzero(counts) for _ in range(counts[column])]


def _fresh_pairs(problem: RoundProblem, first: list[int], second: list[int]) -> int:
    """Pairs, one from each group, that may meet and have not met yet."""
    pairs = combinations(first, 2) if first is second else product(first, second)
    return sum(1 for a, b in pairs if b not in problem.met[a] and b not in problem.blocked[a])


def _seat(
    problem: RoundProblem,
    groups: list[list[int]],
    chosen: list[tuple[int, tuple[int, ...]]],
    rounds: int,
    rng: random.Random,
) -> Plan | None:
    plan: Plan = [[] for _ in range(rounds)]
    for number in range(rounds):
        queues = [rng.sample(members, len(members)) for members in groups]
        for _, mix in (item for item in chosen if item[0] == number):
            plan[number].append([queues[group].pop() for group in mix])
        if not _separate_blocked(problem, groups, plan[number]):
            return None
    return [[sorted(circle) for circle in circles] for circles in plan]


def _separate_blocked(
    problem: RoundProblem, groups: list[list[int]], circles: list[list[int]]
) -> bool:
    """Swap people within their clock group until no circle holds a blocked pair."""
    group_of = {person: index for index, members in enumerate(groups) for person in members}
    for circle in circles:
        for a in list(circle):
            if a not in circle or not problem.blocked[a] & set(circle):
                continue
            swap = next(
                (
                    (other, person)
                    for other in circles
                    if other is not circle
                    for person in other
                    # Same clock group, same clocks on every date: only blocks can stand in
                    # the way (problem.fits would check the window on this round's date).
                    if group_of[person] == group_of[a]
                    and _unblocked(problem, person, [m for m in circle if m != a])
                    and _unblocked(problem, a, [m for m in other if m != person])
                ),
                None,
            )
            if swap is None:
                return False
            other, person = swap
            circle[circle.index(a)], other[other.index(person)] = person, a
    return True


def _unblocked(problem: RoundProblem, person: int, members: list[int]) -> bool:
    return not problem.blocked[person] & set(members)


class _Rows:
    """A sparse constraint matrix built entry by entry."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.columns: list[int] = []
        self.values: list[float] = []

    def add(self, row: int, column: int, value: float) -> None:
        self.rows.append(row)
        self.columns.append(column)
        self.values.append(value)

    def constraint(
        self,
        height: int,
        width: int,
        low: Sequence[float] | None,
        high: Sequence[float],
    ) -> LinearConstraint:
        matrix = coo_matrix((self.values, (self.rows, self.columns)), shape=(height, width))
        return LinearConstraint(matrix.tocsr(), -np.inf if low is None else low, high)
