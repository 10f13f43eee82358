"""Local search: move members between nearby groups while the total cost drops.

Two neighbourhoods, both keeping every hard constraint and never making group sizes more
uneven. Descent swaps two members of different groups (or moves one into a smaller
group). It stalls where a fix needs three or more groups to change at once, say a
Sydney-Los Angeles pair across the date line freeing two people who each need someone
new, so cyclic exchanges follow: a member leaves, someone from another group takes the
seat, someone from a third group takes theirs, and the first member closes the cycle.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

from services.circles.problem import RoundProblem

# Each group trades members with this many groups on either side of it in clock order;
# beyond that, timezones rarely overlap and the search would only burn time.
NEIGHBOURS_EACH_SIDE = 10
# Float sums of equal costs can differ in the last bits; only real gains count.
EPSILON = 1e-9
# Cyclic exchanges: how many groups a cycle may pass through beyond its start, and how many
# of the cheapest fillers each open seat tries.
CHAIN_DEPTH = 5
CHAIN_BRANCHING = 4
# Search nodes the exchanges may spend per round (roughly 0.1 ms each for 1,000 people in fours)
# and full sweeps over the costly members; small rosters rarely reach either bound.
CHAIN_NODE_BUDGET = 3_000
CHAIN_SWEEPS = 3


@dataclass(slots=True)
class _State:
    problem: RoundProblem
    groups: list[list[int]]
    neighbours: list[list[int]]
    where: list[int]
    contribution: list[float]
    total: float = 0.0
    nodes_left: int = CHAIN_NODE_BUDGET

    def refresh(self, position: int) -> None:
        group = self.groups[position]
        for member in group:
            self.where[member] = position
            self.contribution[member] = self.problem.cost_with(
                member, [other for other in group if other != member]
            )

    def group_cost(self, position: int) -> float:
        return sum(self.contribution[member] for member in self.groups[position]) / 2

    def swap(self, member: int, other: int) -> list[int]:
        home, away = self.where[member], self.where[other]
        group, target = self.groups[home], self.groups[away]
        group[group.index(member)] = other
        target[target.index(other)] = member
        self.refresh(home)
        self.refresh(away)
        return [home, away]

    def move(self, member: int, position: int) -> list[int]:
        home = self.where[member]
        self.groups[home].remove(member)
        self.groups[position].append(member)
        self.refresh(home)
        self.refresh(position)
        return [home, position]


def improve(
    problem: RoundProblem, groups: list[list[int]], order: list[int], rng: random.Random
) -> float:
    """Improve `groups` in place and return their total cost."""
    state = _State(
        problem=problem,
        groups=groups,
        neighbours=_neighbour_groups(groups, order),
        where=[-1] * problem.count,
        contribution=[0.0] * problem.count,
    )
    for position in range(len(groups)):
        state.refresh(position)
    if len(groups) >= 2:
        _descend(state, list(range(len(groups))), rng)
        _exchange(state, rng)
    return sum(state.group_cost(position) for position in range(len(groups)))


def _descend(state: _State, positions: list[int], rng: random.Random) -> None:
    rng.shuffle(positions)
    queue, queued = deque(positions), set(positions)
    skip_cheap = not state.problem.affinity
    while queue:
        position = queue.popleft()
        queued.discard(position)
        for member in list(state.groups[position]):
            if state.where[member] != position:
                continue
            if skip_cheap and state.contribution[member] <= EPSILON:
                continue  # nothing to gain by moving someone who costs nothing
            changed = _improve_member(state, member)
            if changed:
                for again in changed:
                    if again not in queued:
                        queue.append(again)
                        queued.add(again)
                break


def _improve_member(state: _State, member: int) -> list[int]:
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
            return state.move(member, position)
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
            if problem.fits(other, rest) and problem.fits(
                member, [x for x in target if x != other]
            ):
                return state.swap(member, other)
    return []


def _exchange(state: _State, rng: random.Random) -> None:
    # Costliest members start cycles first; a sweep that applies any cycle earns another,
    # since it may have opened seats for members that failed before.
    for _ in range(CHAIN_SWEEPS):
        starts = sorted(
            (m for m in range(state.problem.count) if state.contribution[m] > EPSILON),
            key=lambda m: (-state.contribution[m], m),
        )
        applied = False
        for member in starts:
            if state.nodes_left <= 0:
                return
            if state.contribution[member] <= EPSILON:
                continue
            touched = _cyclic_exchange(state, member)
            if touched:
                applied = True
                _descend(state, touched, rng)
        if not applied:
            return


def _cyclic_exchange(state: _State, start: int) -> list[int]:
    """Find and apply a cycle of single-seat replacements through distinct groups that pays."""
    search = _CycleSearch(state=state, start=start)
    cycle = search.extend(state.where[start], start, -state.contribution[start])
    if not cycle:
        return []
    # Swapping the starter with each filler in turn walks it round the cycle: every filler
    # lands in the seat its predecessor left, and the starter ends in the last group.
    touched = [state.where[m] for m in cycle]
    for filler in cycle[1:]:
        state.swap(start, filler)
    return touched


@dataclass(slots=True)
class _CycleSearch:
    """Depth-first search for a cycle that starts by taking `start` out of its group."""

    state: _State
    start: int
    chain: list[int] = field(default_factory=list)
    used: set[int] = field(default_factory=set)
    # Lowest partial cost seen with each group's seat open: arriving again at no lower cost
    # cannot lead anywhere new, which keeps the search near-linear in groups.
    reached: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.chain.append(self.start)
        self.used.add(self.state.where[self.start])

    def extend(self, vacancy: int, removed: int, delta: float) -> list[int] | None:
        state, problem = self.state, self.state.problem
        if delta >= self.reached.get(vacancy, float("inf")) - EPSILON or state.nodes_left <= 0:
            return None
        self.reached[vacancy] = delta
        state.nodes_left -= 1
        options = self.fillers(vacancy, [x for x in state.groups[vacancy] if x != removed], delta)
        for step, filler in options:
            back = [x for x in state.groups[state.where[filler]] if x != filler]
            closing = delta + step + problem.cost_with(self.start, back)
            if closing < -EPSILON and problem.fits(self.start, back):
                return [*self.chain, filler]
        if len(self.chain) > CHAIN_DEPTH:
            return None
        for step, filler in options[:CHAIN_BRANCHING]:
            position = state.where[filler]
            self.chain.append(filler)
            self.used.add(position)
            found = self.extend(position, filler, delta + step)
            if found:
                return found
            self.chain.pop()
            self.used.discard(position)
        return None

    def fillers(self, vacancy: int, rest: list[int], delta: float) -> list[tuple[float, int]]:
        """People from unused nearby groups who could take the open seat, cheapest first."""
        state, problem = self.state, self.state.problem
        options = []
        for position in state.neighbours[vacancy]:
            if position in self.used:
                continue
            for filler in state.groups[position]:
                step = problem.cost_with(filler, rest) - state.contribution[filler]
                if delta + step < -EPSILON and problem.fits(filler, rest):
                    options.append((step, filler))
        options.sort()
        return options


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
