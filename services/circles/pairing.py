"""Pairs by exact matching, chosen by what the rounds still to come can then reach.

For circles of two, a round is a minimum-cost perfect matching: the pair costs are the
matcher's soft constraints and a hard constraint is a missing edge, so the blossom
algorithm (networkx) finds the cheapest round there is; an odd roster adds one stand-in
whose partner then joins the pair that takes them most cheaply. Cheapest this round is
not cheapest over the series, though: a round that spends every cross-team partner of a
Sydney member leaves later rounds only repeats and same-team pairs. So when the series
says how many rounds remain, this round's matching is compared with the matchings that
forbid one of its pairs each, by its own cost plus the cost of matching every round left
the same exact way (a rollout), and the cheapest total wins. Later rounds are costed
with this round's clocks and roster: a guess about them, never a promise.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from services.circles.grouping import Draft
from services.circles.problem import RoundProblem, repeat_penalty

# Rosters up to this size are paired exactly; the rollouts cost about a millisecond per
# person and round costed.
PAIRING_MAX_PEOPLE = 40
# Rounds costed after this one at most.
ROLLOUT_MAX_ROUNDS = 11
# Edge weights are this minus the pair's cost, so the heaviest matching is the cheapest.
BASE = 1_000_000.0
STAND_IN = -1

Groups = list[list[int]]
Pair = tuple[int, int]


@dataclass(slots=True)
class _Ledger:
    """Who met whom in which round (history < 0, this round 0, later rounds > 0)."""

    problem: RoundProblem
    fixed: list[list[float]]
    meetings: dict[Pair, list[int]]
    window: int

    def cost(self, a: int, b: int, number: int) -> float:
        """What a meeting of a and b in round `number` costs, given their earlier ones."""
        cost = self.fixed[a][b]
        for earlier in self.meetings.get(_pair(a, b), ()):
            if earlier < number:
                cost += repeat_penalty(
                    weights=self.problem.weights, window=self.window, age=number - earlier - 1
                )
        return cost

    def record(self, groups: Groups, number: int) -> None:
        for group in groups:
            for index, a in enumerate(group):
                for b in group[index + 1 :]:
                    self.meetings.setdefault(_pair(a, b), []).append(number)

    def copy(self) -> _Ledger:
        meetings = {pair: list(rounds) for pair, rounds in self.meetings.items()}
        return _Ledger(self.problem, self.fixed, meetings, self.window)

    def round_cost(self, groups: Groups, number: int) -> float:
        return sum(
            self.cost(a, b, number)
            for group in groups
            for index, a in enumerate(group)
            for b in group[index + 1 :]
        )


def pair_round(
    *, problem: RoundProblem, past: list[Groups], rounds_left: int, window: int
) -> Draft | None:
    """This round's pairs, planned over `rounds_left` rounds; None when matching cannot help."""
    if problem.size != 2 or not 2 <= problem.count <= PAIRING_MAX_PEOPLE:
        return None
    ledger = _Ledger(problem, _fixed_costs(problem), {}, window)
    recent = past[-window:] if window else []
    for age, groups in enumerate(reversed(recent)):
        ledger.record(groups, -1 - age)
    first = _match(ledger, 0, frozenset())
    if first is None:
        return None
    ahead = min(rounds_left - 1, ROLLOUT_MAX_ROUNDS)
    best, best_total = first, _planned_total(ledger, first, ahead)
    if ahead > 0:
        for pair in sorted(_pairs_of(first)):
            other = _match(ledger, 0, frozenset({pair}))
            if other is None:
                continue
            total = _planned_total(ledger, other, ahead)
            if total < best_total - 1e-9:
                best, best_total = other, total
    return Draft(groups=best, total=sum(problem.group_cost(group) for group in best))


def _planned_total(ledger: _Ledger, groups: Groups, ahead: int) -> float:
    """This round's cost plus that of matching each of the next `ahead` rounds exactly."""
    plan = ledger.copy()
    total = plan.round_cost(groups, 0)
    plan.record(groups, 0)
    for number in range(1, ahead + 1):
        following = _match(plan, number, frozenset())
        if following is None:
            break  # a later round the plan cannot fill tells it nothing reliable
        total += plan.round_cost(following, number)
        plan.record(following, number)
    return total


def _match(ledger: _Ledger, number: int, forbidden: frozenset[Pair]) -> Groups | None:
    """The cheapest pairing of everyone in round `number`, or None if there is none."""
    problem = ledger.problem
    graph = nx.Graph()
    people = range(problem.count)
    for a in people:
        for b in range(a + 1, problem.count):
            if (a, b) not in forbidden and problem.compatible(a, b):
                graph.add_edge(a, b, weight=BASE - ledger.cost(a, b, number))
    odd = problem.count % 2 == 1
    if odd:
        for a in people:
            graph.add_edge(a, STAND_IN, weight=BASE - _cheapest_seat(ledger, a, number))
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    if 2 * len(matching) < problem.count + odd:
        return None
    groups = sorted(sorted(pair) for pair in matching if STAND_IN not in pair)
    alone = [a for pair in matching if STAND_IN in pair for a in pair if a != STAND_IN]
    for person in alone:
        seats = [
            (sum(ledger.cost(person, m, number) for m in group), position)
            for position, group in enumerate(groups)
            if problem.fits(person, group)
        ]
        if not seats:
            return None
        groups[min(seats)[1]].append(person)
    return groups


def _cheapest_seat(ledger: _Ledger, person: int, number: int) -> float:
    # What joining a pair costs at least: the two cheapest partners this person could have.
    costs = sorted(
        ledger.cost(person, other, number)
        for other in range(ledger.problem.count)
        if ledger.problem.compatible(person, other)
    )
    return sum(costs[:2])


def _fixed_costs(problem: RoundProblem) -> list[list[float]]:
    """Pair costs apart from repeats: same team, same level, shared competencies."""
    return [
        [
            problem.pair_cost(a, b) - problem.repeat_cost[a].get(b, 0.0) if a != b else 0.0
            for b in range(problem.count)
        ]
        for a in range(problem.count)
    ]


def _pair(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


def _pairs_of(groups: Groups) -> list[Pair]:
    return [
        _pair(a, b) for group in groups for index, a in enumerate(group) for b in group[index + 1 :]
    ]
