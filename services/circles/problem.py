"""One round's matching problem, indexed for speed: pair costs and hard constraints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from services.circles.candidates import Candidate, MatchSettings, Weights
from services.circles.timezones import MINUTES_PER_DAY, offset_spread
from services.errors import Invalid

History = Sequence[Sequence[Sequence[str]]]


@dataclass(slots=True)
class RoundProblem:
    """Eligible people as indices 0..n-1 with their attributes, history and blocks.

    The hot-path methods take positional ints: the local search calls them hundreds of
    thousands of times per round and keyword calls would cost a measurable share of that.
    """

    people: list[Candidate]
    team_ids: list[int]
    level_ids: list[int]
    offsets: list[int]
    met: list[dict[int, int]]
    repeat_cost: list[dict[int, float]]
    blocked: list[set[int]]
    size: int
    max_spread: int
    weights: Weights
    affinity: bool

    @property
    def count(self) -> int:
        return len(self.people)

    def pair_cost(self, a: int, b: int) -> float:
        cost = self.repeat_cost[a].get(b, 0.0)
        team = self.team_ids[a]
        if team >= 0 and team == self.team_ids[b]:
            cost += self.weights.same_team
        level = self.level_ids[a]
        if level >= 0 and level == self.level_ids[b]:
            cost += self.weights.same_level
        if self.affinity:
            shared = self.people[a].competencies & self.people[b].competencies
            cost -= self.weights.shared_competency * len(shared)
        return cost

    def cost_with(self, a: int, members: Iterable[int]) -> float:
        """Cost that person `a` adds to a group made of `members` (which excludes `a`)."""
        total = 0.0
        for member in members:
            total += self.pair_cost(a, member)
        return total

    def group_cost(self, members: Sequence[int]) -> float:
        return sum(
            self.pair_cost(a, b) for index, a in enumerate(members) for b in members[index + 1 :]
        )

    def fits(self, a: int, members: Sequence[int]) -> bool:
        """Whether `a` can join `members` without a blocked pair or too wide a clock spread."""
        blocked = self.blocked[a]
        if blocked and any(member in blocked for member in members):
            return False
        offsets, own, limit = self.offsets, self.offsets[a], self.max_spread
        for member in members:
            apart = abs(offsets[member] - own) % MINUTES_PER_DAY
            if min(apart, MINUTES_PER_DAY - apart) > limit:
                return False
        if limit < MINUTES_PER_DAY // 3 or len(members) < 2:
            # Clocks pairwise within a third of a day always fit in an arc that short.
            return True
        return offset_spread([own, *(offsets[member] for member in members)]) <= limit

    def circle_fits(self, circle: Sequence[int], offsets: Sequence[int]) -> bool:
        """Whether a whole circle holds no blocked pair and fits the window on clocks
        `offsets` (everyone's UTC offset on some round's date, by index)."""
        if any(b in self.blocked[a] for a, b in combinations(circle, 2)):
            return False
        return offset_spread([offsets[member] for member in circle]) <= self.max_spread

    def compatible(self, a: int, b: int) -> bool:
        return a != b and self.fits(a, [b])

    def within_clock_window(self, a: int, b: int) -> bool:
        return offset_spread([self.offsets[a], self.offsets[b]]) <= self.max_spread


def build_problem(
    *,
    candidates: Sequence[Candidate],
    blocks: Iterable[tuple[str, str]],
    history: History,
    settings: MatchSettings,
) -> RoundProblem:
    """Index the eligible candidates and fold blocks and history into per-pair lookups."""
    repeated = sorted(key for key, seen in Counter(c.key for c in candidates).items() if seen > 1)
    if repeated:
        raise Invalid(f"candidate {repeated[0]!r} appears more than once", field="candidates")
    # Sorting by key makes the result independent of the order the caller listed people in.
    people = sorted((c for c in candidates if c.eligible), key=lambda c: c.key)
    index = {person.key: position for position, person in enumerate(people)}
    blocked: list[set[int]] = [set() for _ in people]
    for blocker, blockee in blocks:
        if blocker in index and blockee in index and blocker != blockee:
            blocked[index[blocker]].add(index[blockee])
            blocked[index[blockee]].add(index[blocker])
    met, repeat_cost = _fold_history(
        index=index, history=history, window=settings.history_window, weights=settings.weights
    )
    return RoundProblem(
        people=people,
        team_ids=_label_ids([person.team for person in people]),
        level_ids=_label_ids([person.level for person in people]),
        offsets=[person.utc_offset_minutes for person in people],
        met=met,
        repeat_cost=repeat_cost,
        blocked=blocked,
        size=settings.size,
        max_spread=settings.max_spread_minutes,
        weights=settings.weights,
        affinity=settings.affinity,
    )


def repeat_penalty(*, weights: Weights, window: int, age: int) -> float:
    """What meeting someone again costs, `age` rounds after the round they last met in."""
    if age >= window:
        return 0.0
    # Last round weighs 2x the repeat penalty, fading linearly to ~1x at the window's edge.
    return weights.repeat * (1.0 + (window - age) / window)


def _label_ids(labels: list[str | None]) -> list[int]:
    # A missing team or level never counts as "the same" as anyone else's.
    known = sorted({label.strip().casefold() for label in labels if label and label.strip()})
    ids = {label: position for position, label in enumerate(known)}
    return [ids[label.strip().casefold()] if label and label.strip() else -1 for label in labels]


def _fold_history(
    *, index: dict[str, int], history: History, window: int, weights: Weights
) -> tuple[list[dict[int, int]], list[dict[int, float]]]:
    met: list[dict[int, int]] = [{} for _ in index]
    repeat_cost: list[dict[int, float]] = [{} for _ in index]
    recent = list(history)[-window:] if window else []
    for age, past_round in enumerate(reversed(recent)):
        penalty = repeat_penalty(weights=weights, window=window, age=age)
        for group in past_round:
            members = sorted({index[key] for key in group if key in index})
            for position, a in enumerate(members):
                for b in members[position + 1 :]:
                    for x, y in ((a, b), (b, a)):
                        met[x][y] = met[x].get(y, 0) + 1
                        repeat_cost[x][y] = repeat_cost[x].get(y, 0.0) + penalty
    return met, repeat_cost
