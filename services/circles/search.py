"""Local search: swap and move members between nearby groups while the total cost drops."""

from __future__ import annotations

import random
from dataclasses import dataclass

from services.circles.problem import RoundProblem

# Each group trades members with this many groups on either side of it in clock order;
# beyond that, timezones rarely overlap and the search would only burn time.
NEIGHBOURS_EACH_SIDE = 10
# Float sums of equal costs can differ in the last bits; only real gains count.
EPSILON = 1e-9


@dataclass(slots=True)
class _State:
    problem: RoundProblem
    groups: list[list[int]]
    where: list[int]
    contribution: list[float]
    neighbours: list[list[int]]

    def refresh(self, position: int) -> None:
        group = self.groups[position]
        for member in group:
            self.where[member] = position
            self.contribution[member] = self.problem.cost_with(
                member, [other for other in group if other != member]
            )


def improve(
    problem: RoundProblem, groups: list[list[int]], order: list[int], rng: random.Random
) -> None:
    """Improve `groups` in place; never breaks a hard constraint nor unbalances sizes."""
    if len(groups) < 2:
        return
    state = _State(
        problem=problem,
        groups=groups,
        where=[-1] * problem.count,
        contribution=[0.0] * problem.count,
        neighbours=_neighbour_groups(groups, order),
    )
    for position in range(len(groups)):
        state.refresh(position)
    visit = list(range(len(groups)))
    # Each pass strictly lowers the cost or stops, so the bound only guards pathological
    # plateaus of tiny float gains.
    for _ in range(50):
        rng.shuffle(visit)
        improved = False
        for position in visit:
            for member in list(groups[position]):
                if state.where[member] != position:
                    continue
                if not problem.affinity and state.contribution[member] <= EPSILON:
                    continue  # nothing to gain by moving someone who costs nothing
                improved |= _improve_member(state, member)
        if not improved:
            return


def _improve_member(state: _State, member: int) -> bool:
    problem, groups = state.problem, state.groups
    home = state.where[member]
    group = groups[home]
    rest = [other for other in group if other != member]
    current = state.contribution[member]
    for position in state.neighbours[home]:
        target = groups[position]
        joining = problem.cost_with(member, target)
        if (
            len(group) > len(target)
            and len(group) > 2
            and len(target) <= problem.size
            and joining - current < -EPSILON
            and problem.fits(member, target)
        ):
            group.remove(member)
            target.append(member)
            state.refresh(home)
            state.refresh(position)
            return True
        for other in target:
            delta = (
                problem.cost_with(other, rest)
                - current
                + joining
                - problem.pair_cost(member, other)
                - state.contribution[other]
            )
            if delta >= -EPSILON:
                continue
            target_rest = [x for x in target if x != other]
            if problem.fits(other, rest) and problem.fits(member, target_rest):
                group[group.index(member)] = other
                target[target.index(other)] = member
                state.refresh(home)
                state.refresh(position)
                return True
    return False


def _neighbour_groups(groups: list[list[int]], order: list[int]) -> list[list[int]]:
    rank = {person: position for position, person in enumerate(order)}
    by_clock = sorted(
        range(len(groups)), key=lambda g: sum(rank[m] for m in groups[g]) / len(groups[g])
    )
    count = len(by_clock)
    if count <= 2 * NEIGHBOURS_EACH_SIDE + 1:
        return [[other for other in range(count) if other != g] for g in range(count)]
    neighbours: list[list[int]] = [[] for _ in range(count)]
    for slot, g in enumerate(by_clock):
        for step in range(1, NEIGHBOURS_EACH_SIDE + 1):
            neighbours[g].append(by_clock[(slot + step) % count])
            neighbours[g].append(by_clock[(slot - step) % count])
    return neighbours
