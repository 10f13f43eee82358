"""First cut of a round: size plan, greedy seeded groups, and placing whoever is left."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from services.circles.problem import RoundProblem
from services.circles.timezones import MINUTES_PER_DAY, format_offset, offset_window

# How many nearby, compatible people a seed chooses its group from. Wide enough to find a
# good mix of teams and levels, narrow enough that 1,000 people stay fast.
SEED_POOL = 48
SEED_SCAN = 6 * SEED_POOL
EPSILON = 1e-9


@dataclass(slots=True)
class Draft:
    """Groups as lists of indices, plus people who could not be placed and why."""

    groups: list[list[int]]
    unplaced: dict[int, str] = field(default_factory=dict)
    total: float = 0.0
    # Circles planned for the rounds after this one, when the whole series was planned.
    later: list[list[list[int]]] = field(default_factory=list)


def plan_sizes(*, count: int, size: int) -> list[int]:
    """Split `count` people into groups of `size`, a few of `size + 1`, or balanced smaller ones."""
    if count < 2:
        return []
    groups, rest = divmod(count, size)
    if groups == 0:
        return [count]
    if rest <= groups:
        return [size + 1] * rest + [size] * (groups - rest)
    # Too many left over to grow groups by one: add a group and balance the sizes, so
    # 6 people in circles of 4 meet as 3 + 3 rather than 4 + 2.
    groups += 1
    small, extra = divmod(count, groups)
    return [small + 1] * extra + [small] * (groups - extra)


def clock_order(problem: RoundProblem, rng: random.Random) -> list[int]:
    """Shuffle everyone, then order by clock starting after the widest gap between zones."""
    order = list(range(problem.count))
    rng.shuffle(order)
    if not order:
        return order
    first, _ = offset_window(problem.offsets)
    start = first % MINUTES_PER_DAY
    # Stable sort keeps the shuffle among people who share an offset.
    order.sort(key=lambda person: (problem.offsets[person] - start) % MINUTES_PER_DAY)
    return order


def build_groups(problem: RoundProblem, order: list[int]) -> Draft:
    """Seed each group with the first unplaced person in clock order, add best-fitting peers."""
    placed = [False] * problem.count
    groups: list[list[int]] = []
    leftovers: list[int] = []
    cursor = 0
    for target in plan_sizes(count=problem.count, size=problem.size):
        while cursor < len(order) and placed[order[cursor]]:
            cursor += 1
        if cursor == len(order):
            break
        seed = order[cursor]
        placed[seed] = True
        group = [seed]
        pool = _seed_pool(problem, order, placed, cursor, seed)
        while len(group) < target:
            best = _best_addition(problem, group, pool, placed)
            if best is None:
                break
            group.append(best)
            placed[best] = True
        if len(group) >= 2:
            groups.append(group)
        else:
            leftovers.append(seed)
    leftovers.extend(person for person in order if not placed[person])
    draft = Draft(groups=groups)
    place_leftovers(problem, draft, leftovers)
    return draft


def _seed_pool(
    problem: RoundProblem, order: list[int], placed: list[bool], cursor: int, seed: int
) -> list[int]:
    pool: list[int] = []
    for person in order[cursor + 1 : cursor + 1 + SEED_SCAN]:
        if not placed[person] and problem.compatible(person, seed):
            pool.append(person)
            if len(pool) == SEED_POOL:
                break
    return pool


def _best_addition(
    problem: RoundProblem, group: list[int], pool: list[int], placed: list[bool]
) -> int | None:
    best, best_cost = None, float("inf")
    for person in pool:
        if placed[person] or not problem.fits(person, group):
            continue
        cost = problem.cost_with(person, group)
        if cost < best_cost:
            best, best_cost = person, cost
    return best


def place_leftovers(problem: RoundProblem, draft: Draft, leftovers: list[int]) -> None:
    """Place everyone left after seeding, or record why they cannot be placed at all."""
    # The most constrained go first, while the most room is still open to them.
    waiting = sorted(leftovers, key=lambda person: _partner_count(problem, person))
    while waiting:
        person = waiting.pop(0)
        if _join(problem, draft, person, below=problem.size):
            continue
        partners = [other for other in waiting if problem.compatible(person, other)]
        if partners:
            group = [person]
            while len(group) < problem.size:
                best = _best_addition(problem, group, partners, [False] * problem.count)
                if best is None:
                    break
                group.append(best)
                partners.remove(best)
                waiting.remove(best)
            draft.groups.append(group)
            continue
        if (
            _join(problem, draft, person, below=problem.size + 1)
            or _pair_off(problem, draft, person)
            or _take_seat(problem, draft, person)
        ):
            continue
        draft.unplaced[person] = unplaced_reason(problem, draft, person)


def retry_unplaced(problem: RoundProblem, draft: Draft) -> None:
    """Try the unplaced again once the search has reshaped the groups, then let whoever is
    still left out take the seat of someone who would meet fewer new people."""
    waiting = list(draft.unplaced)
    draft.unplaced.clear()
    place_leftovers(problem, draft, waiting)
    _rotate_unplaced(problem, draft)


def _rotate_unplaced(problem: RoundProblem, draft: Draft) -> None:
    # When the window leaves two people competing for one seat, the one whose meeting there
    # costs less (no repeat, say) sits in; across rounds, repeat costs then take turns.
    improved = True
    while improved:
        improved = False
        for person in sorted(draft.unplaced):
            options = sorted(
                (gain, position, member)
                for position, group in enumerate(draft.groups)
                for member in group
                for rest in [[m for m in group if m != member]]
                if problem.fits(person, rest)
                for gain in [problem.cost_with(person, rest) - problem.cost_with(member, rest)]
                if gain < -EPSILON
            )
            if not options:
                continue
            _, position, member = options[0]
            group = draft.groups[position]
            group[group.index(member)] = person
            del draft.unplaced[person]
            draft.unplaced[member] = unplaced_reason(problem, draft, member)
            improved = True
            break


def _join(problem: RoundProblem, draft: Draft, person: int, *, below: int) -> bool:
    options = [
        (problem.cost_with(person, group), position)
        for position, group in enumerate(draft.groups)
        if len(group) < below and problem.fits(person, group)
    ]
    if not options:
        return False
    draft.groups[min(options)[1]].append(person)
    return True


def _pair_off(problem: RoundProblem, draft: Draft, person: int) -> bool:
    # Take a compatible member out of a group that can spare one (3+ people) to form a pair.
    options = [
        (
            problem.pair_cost(person, member)
            - problem.cost_with(member, [other for other in group if other != member]),
            member,
            position,
        )
        for position, group in enumerate(draft.groups)
        if len(group) >= 3
        for member in group
        if problem.compatible(person, member)
    ]
    if not options:
        return False
    _, member, position = min(options)
    draft.groups[position].remove(member)
    draft.groups.append([person, member])
    return True


def _take_seat(problem: RoundProblem, draft: Draft, person: int) -> bool:
    """Seat `person` in a member's place when that member can then be seated elsewhere."""
    # Every circle may be full of people who do not fit `person` while someone who does
    # sits next to a person who does not: swapping that one out and rehoming them places
    # everyone, where joining or pairing off alone would leave `person` out.
    options = sorted(
        (problem.cost_with(person, [m for m in group if m != member]), position, member)
        for position, group in enumerate(draft.groups)
        for member in group
        if problem.fits(person, [m for m in group if m != member])
    )
    for _, position, member in options:
        group = draft.groups[position]
        seat = group.index(member)
        group[seat] = person
        if (
            _join(problem, draft, member, below=problem.size)
            or _pair_off(problem, draft, member)
            or _join(problem, draft, member, below=problem.size + 1)
        ):
            return True
        group[seat] = member
    return False


def _partner_count(problem: RoundProblem, person: int) -> int:
    return sum(1 for other in range(problem.count) if problem.compatible(person, other))


def unplaced_reason(problem: RoundProblem, draft: Draft, person: int) -> str:
    """Say why nobody could be grouped with this person, without revealing private blocks."""
    if problem.count == 1:
        return "the only eligible person this round"
    others = [other for other in range(problem.count) if other != person]
    if not any(problem.within_clock_window(person, other) for other in others):
        hours = problem.max_spread / 60
        return (
            f"nobody else's working hours are within {hours:g}h of "
            f"{format_offset(problem.offsets[person])}"
        )
    if not any(problem.compatible(person, other) for other in others):
        return "no compatible partner within the working-hours window"
    return "no circle with a compatible partner could take one more person"
