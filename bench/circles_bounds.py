"""Whole-program references for the circle benchmark: what any schedule could reach.

The matcher forms one round at a time, planning the rest of the series for most rosters.
These look at all rounds at once and optimise further than the matcher can afford each
round, to tell how far a figure is from what is possible at all:

- `pairs_team_bound`: an integer program over every round of a pairs schedule (everyone
  placed, a group of three when the roster is odd, each group inside the window on its
  date) that minimises same-team pairs among schedules with at most a given number of
  repeats. The solver's bound is a proof: no such schedule has fewer same-team pairs.
- `pairs_repeat_minimum`: the same program minimising repeats alone: the fewest any
  everyone-placed pairs schedule has, which can sit above the counting floor.
- `groups_repeat_bound`: for groups, an integer program over clock groups (people whose
  clocks agree on every round's date): how many circles of each mix of clock groups every
  round holds, at given circle sizes, with a repeat for each meeting between two clock
  groups beyond the pairs of people they hold. Every schedule with those sizes has such a
  mix, so CBC's bound proves no schedule with those sizes has fewer repeats. It sits at or
  above the counting floor, and can be out of reach: it does not say who sits where.
- `whole_program_search`: annealing over a whole schedule with its group sizes fixed,
  started from the matcher's own schedule. It proves nothing; it shows a schedule with
  fewer repeats exists when it finds one.

python-mip (CBC) comes with colette, so this runs wherever the comparison does.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations, combinations_with_replacement
from typing import Any

from services.circles.timezones import offset_spread


@dataclass(frozen=True)
class Schedule:
    """A benchmark roster as the references see it: teams, and offsets per round."""

    teams: list[str]
    offsets: list[list[int]]  # offsets[round][person]
    spread: int

    def fits(self, number: int, members: Sequence[int]) -> bool:
        clocks = self.offsets[number]
        return offset_spread([clocks[m] for m in members]) <= self.spread


@dataclass(frozen=True)
class TeamBound:
    repeats_cap: int
    best_found: int | None
    proven_minimum: int
    optimal: bool
    seconds: int


@dataclass
class _PairsModel:
    model: Any  # mip.Model: python-mip is a benchmark-only dependency, imported late
    every: list[Any]
    met: list[Any]
    same_team: list[Any]


def _pairs_model(schedule: Schedule) -> _PairsModel:
    """Every everyone-placed pairs schedule (a three a round when the roster is odd)."""
    import mip

    count, rounds = len(schedule.teams), len(schedule.offsets)
    model = mip.Model(sense=mip.MINIMIZE, solver_name=mip.CBC)
    model.verbose = 0
    model.threads = 1
    meetings: dict[tuple[int, int], list[mip.Var]] = {}
    same_team: list[mip.Var] = []
    every: list[mip.Var] = []
    for number in range(rounds):
        groups = list(combinations(range(count), 2))
        if count % 2:
            groups += list(combinations(range(count), 3))
        seats: list[list[mip.Var]] = [[] for _ in range(count)]
        triples = []
        for group in groups:
            if not schedule.fits(number, group):
                continue
            var = model.add_var(var_type=mip.BINARY)
            if len(group) == 3:
                triples.append(var)
            for member in group:
                seats[member].append(var)
            for pair in combinations(group, 2):
                meetings.setdefault(pair, []).append(var)
                every.append(var)
                if schedule.teams[pair[0]] == schedule.teams[pair[1]]:
                    same_team.append(var)
        if count % 2:
            model += mip.xsum(triples) == 1
        for member_seats in seats:
            model += mip.xsum(member_seats) == 1
    # A pair counts as met at most once; every meeting beyond that is a repeat.
    met = []
    for terms in meetings.values():
        once = model.add_var(var_type=mip.BINARY)
        model += once <= mip.xsum(terms)
        met.append(once)
    return _PairsModel(model=model, every=every, met=met, same_team=same_team)


def pairs_team_bound(schedule: Schedule, *, repeats_cap: int, seconds: int) -> TeamBound:
    """Fewest same-team pairs any everyone-placed pairs schedule with <= cap repeats has."""
    import mip

    built = _pairs_model(schedule)
    built.model += mip.xsum(built.every) - mip.xsum(built.met) <= repeats_cap
    found = _minimise(built.model, mip.xsum(built.same_team), seconds)
    return TeamBound(
        repeats_cap=repeats_cap,
        best_found=found.best_found,
        proven_minimum=found.proven_minimum,
        optimal=found.optimal,
        seconds=seconds,
    )


@dataclass(frozen=True)
class Minimum:
    best_found: int | None
    proven_minimum: int
    optimal: bool


def pairs_repeat_minimum(schedule: Schedule, *, seconds: int) -> Minimum:
    """Fewest repeats any everyone-placed pairs schedule has; CBC's bound proves it."""
    import mip

    built = _pairs_model(schedule)
    return _minimise(built.model, mip.xsum(built.every) - mip.xsum(built.met), seconds)


def _minimise(model: Any, objective: Any, seconds: int) -> Minimum:
    import mip

    model.objective = objective
    status = model.optimize(max_seconds=seconds)
    found = None
    if status in (mip.OptimizationStatus.OPTIMAL, mip.OptimizationStatus.FEASIBLE):
        found = round(model.objective_value)
    return Minimum(
        best_found=found,
        proven_minimum=math.ceil(model.objective_bound - 1e-6),
        optimal=status == mip.OptimizationStatus.OPTIMAL,
    )


def groups_repeat_bound(
    schedule: Schedule, sizes: Sequence[Sequence[int]], *, seconds: int
) -> Minimum:
    """Fewest repeats any schedule with these circle sizes per round can have, at least."""
    import mip

    # People whose clocks agree on every round's date: one clock group.
    people = Counter(zip(*schedule.offsets, strict=True))
    kinds = sorted(people)
    counts = [people[kind] for kind in kinds]
    model = mip.Model(sense=mip.MINIMIZE, solver_name=mip.CBC)
    model.verbose = 0
    model.threads = 1
    meetings: dict[tuple[int, int], list[Any]] = {}
    for number, round_sizes in enumerate(sizes):
        seats: list[list[Any]] = [[] for _ in kinds]
        for size, wanted in Counter(round_sizes).items():
            circles = []
            for mix in combinations_with_replacement(range(len(kinds)), size):
                held = Counter(mix)
                if any(times > counts[kind] for kind, times in held.items()):
                    continue
                if offset_spread([kinds[kind][number] for kind in held]) > schedule.spread:
                    continue
                var = model.add_var(var_type=mip.INTEGER, lb=0)
                circles.append(var)
                for kind, times in held.items():
                    seats[kind].append(times * var)
                for a, b in combinations(mix, 2):
                    meetings.setdefault((a, b), []).append(var)
            model += mip.xsum(circles) == wanted
        for kind, kind_seats in enumerate(seats):
            model += mip.xsum(kind_seats) == counts[kind]
    repeats = []
    for (a, b), terms in meetings.items():
        pairs = counts[a] * (counts[a] - 1) // 2 if a == b else counts[a] * counts[b]
        extra = model.add_var(lb=0)
        model += mip.xsum(terms) - extra <= pairs
        repeats.append(extra)
    return _minimise(model, mip.xsum(repeats), seconds)


@dataclass(frozen=True)
class SearchResult:
    repeats: int
    same_team: int
    moves: int


def whole_program_search(
    schedule: Schedule, rounds: list[list[list[int]]], *, moves: int, seed: int = 1
) -> SearchResult:
    """Anneal a whole schedule (group sizes fixed) towards fewer repeats, then same-team."""
    rng = random.Random(seed)
    count, teams = len(schedule.teams), schedule.teams
    rounds = [[list(group) for group in groups] for groups in rounds]
    met = [[0] * count for _ in range(count)]
    for groups in rounds:
        for group in groups:
            for a, b in combinations(group, 2):
                met[a][b] += 1
                met[b][a] += 1
    team_weight = 0.01  # repeats first; same-team only breaks ties
    best = current = _schedule_cost(met, rounds, teams, team_weight)
    best_counts = _counts(met, rounds, teams)
    for step in range(moves):
        temperature = 1.0 * (0.02 / 1.0) ** (step / moves)
        number = rng.randrange(len(rounds))
        groups = rounds[number]
        if len(groups) < 2:
            continue
        first, second = rng.sample(range(len(groups)), 2)
        one, two = groups[first], groups[second]
        i, j = rng.randrange(len(one)), rng.randrange(len(two))
        a, b = one[i], two[j]
        rest_a = [x for x in one if x != a]
        rest_b = [x for x in two if x != b]
        delta = 0.0
        for x in rest_a:
            delta += (met[b][x] >= 1) - (met[a][x] >= 2)
            delta += team_weight * ((teams[b] == teams[x]) - (teams[a] == teams[x]))
        for x in rest_b:
            delta += (met[a][x] >= 1) - (met[b][x] >= 2)
            delta += team_weight * ((teams[a] == teams[x]) - (teams[b] == teams[x]))
        if delta > 0 and rng.random() >= math.exp(-delta / temperature):
            continue
        if not (schedule.fits(number, [*rest_a, b]) and schedule.fits(number, [*rest_b, a])):
            continue
        for x in rest_a:
            _meet(met, a, x, -1)
            _meet(met, b, x, 1)
        for x in rest_b:
            _meet(met, b, x, -1)
            _meet(met, a, x, 1)
        one[i], two[j] = b, a
        current += delta
        if current < best - 1e-9:
            best, best_counts = current, _counts(met, rounds, teams)
    return SearchResult(repeats=best_counts[0], same_team=best_counts[1], moves=moves)


def _meet(met: list[list[int]], a: int, b: int, change: int) -> None:
    met[a][b] += change
    met[b][a] += change


def _counts(
    met: list[list[int]], rounds: list[list[list[int]]], teams: list[str]
) -> tuple[int, int]:
    repeats = sum(max(0, met[a][b] - 1) for a in range(len(met)) for b in range(a + 1, len(met)))
    same = sum(
        teams[a] == teams[b]
        for groups in rounds
        for group in groups
        for a, b in combinations(group, 2)
    )
    return repeats, same


def _schedule_cost(
    met: list[list[int]], rounds: list[list[list[int]]], teams: list[str], team_weight: float
) -> float:
    repeats, same = _counts(met, rounds, teams)
    return repeats + team_weight * same


@dataclass(frozen=True)
class Reference:
    """One benchmark row's whole-program figure, ready for the results page."""

    people: int
    size: int
    matcher: str
    finding: str


def render(references: list[Reference]) -> list[str]:
    """The results page's section on what whole-program methods found."""
    if not references:
        return []
    lines = [
        "## What any schedule could reach",
        "",
        "Whole-program references from `bench/circles_bounds.py` (run with `--bounds`): they "
        "see all rounds at once, with every round's own clocks, and optimise one figure. "
        "Knowing the series runs twelve rounds, a schedule can take a few repeats early "
        "among people who will run out of new partners anyway, leaving room for everyone "
        "else later. coachbot plans that way too for rosters of up to 25 in pairs (but it "
        "weighs levels as well as teams, so its same-team count can sit above the "
        "team-only minimum) and for up to 100 in groups.",
        "",
        "| people | size | coachbot | whole-program figure |",
        "|---:|---:|---|---|",
    ]
    lines += [f"| {r.people} | {r.size} | {r.matcher} | {r.finding} |" for r in references]
    return [*lines, ""]
