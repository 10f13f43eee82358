"""Circles of three or more for every round left in a series, improved as one plan.

Forming circles one round at a time spends early the few partners that people at the edge
of the clock (Tokyo, Sydney, Los Angeles) can ever meet, and the last rounds are left with
repeats. So when a series of groups remembers its whole run and knows how many rounds
remain, the planner drafts every round left the usual way (each with its own clocks, and
the drafts before it as history), and this module improves that plan as a whole. The
plan starts instead, where one is found, from a mix of clocks chosen by an integer program
(clock_mix.py), which sizes the circles as the series asks where the drafts fall back to
threes, and which the search then turns into who meets whom.

The search is a tabu search over the plan. A move swaps two people between circles of one
round; both circles must still fit the working-hours window and hold no blocked pair. Each
step takes the cheapest move over every planned round, even one that costs, and the two
people moved then stay put in that round for a few steps so the search cannot walk
straight back (unless a move there beats the best plan so far). The cost is the matcher's
own: the repeat weight for every meeting of a pair after its first, history included,
plus each pair's same-team, same-level and affinity terms. Swaps keep every circle's size
and leave whoever a draft could not place where they were.

The planner takes this round's circles from the plan and hands the later rounds on: the
next round starts from them, where they still hold, with what actually happened as its
history, so the search carries on rather than starting over. The random tie-breaks come
from the round's seed, so the same inputs give the same plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.circles.problem import RoundProblem
from services.circles.timezones import offset_spread

# Rosters of at least two circles and up to this many people are planned whole. On 60
# people in fours over twelve rounds a round takes 6 s of CPU on average; the first, which
# also chooses the clock mix, up to 40 s, or 84 s where a mix keeps the drafts' threes and
# fives (twice the search steps cost twice the search time and saved no more than 3 repeats on
# two rosters); 1,000 people find new partners anyway.
SERIES_MAX_PEOPLE = 100
MAX_STEPS = 6_000
PATIENCE = 2_000  # steps without a cheaper plan before the search stops
MOVES_EXAMINED = 400  # the cheapest moves of a step looked at for one that is allowed
TENURE = (5, 20)  # steps a moved person stays put, drawn per move
EPSILON = 1e-9

Plan = list[list[list[int]]]  # round -> circles -> members


@dataclass(slots=True)
class _Search:
    problem: RoundProblem
    clocks: list[list[int]]
    rounds: Plan
    seat: np.ndarray  # seat[round, person]: index of the person's circle, -1 if unplaced
    meetings: np.ndarray  # history plus plan
    fixed: np.ndarray  # pair costs other than repeats
    blocked: np.ndarray
    repeat: float

    def cost(self) -> float:
        extra = np.triu(np.maximum(self.meetings - 1, 0), 1).sum()
        pairs = sum(
            self.fixed[np.ix_(circle, circle)].sum() / 2
            for circles in self.rounds
            for circle in circles
        )
        return float(self.repeat * extra + pairs)


def plans_whole(problem: RoundProblem) -> bool:
    """Whether a series with this round's roster has its rounds left planned as one."""
    return problem.size >= 3 and 2 * problem.size <= problem.count <= SERIES_MAX_PEOPLE


def improve_series_groups(
    *, problem: RoundProblem, plan: Plan, clocks: Sequence[Sequence[int]], seed: int
) -> Plan | None:
    """The plan of the rounds left, improved as a whole, or None.

    `plan` holds a draft of every round left, this one first, as member indices of
    `problem`; `clocks` each person's UTC offset in those rounds. None means the plan has
    no repeat to remove (or the roster is not one planned whole); a plan the search could
    not make cheaper comes back as it was."""
    if not plans_whole(problem) or not plan:
        return None
    search = _start(problem, plan, [list(round_clocks) for round_clocks in clocks])
    if not (np.triu(search.meetings, 1) >= 2).any():
        return None
    best_rounds = _tabu(search, np.random.default_rng(seed))
    return [[sorted(circle) for circle in circles] for circles in best_rounds]


def _start(problem: RoundProblem, plan: Plan, clocks: list[list[int]]) -> _Search:
    count = problem.count
    meetings = np.zeros((count, count), dtype=np.int64)
    for a, partners in enumerate(problem.met):
        for b, times in partners.items():
            meetings[a, b] = times
    seat = np.full((len(plan), count), -1, dtype=np.int64)
    for number, circles in enumerate(plan):
        for index, circle in enumerate(circles):
            seat[number, circle] = index
            members = np.array(circle)
            meetings[np.ix_(members, members)] += 1
    np.fill_diagonal(meetings, 0)
    fixed = np.zeros((count, count))
    blocked = np.zeros((count, count))
    for a in range(count):
        for b in range(a + 1, count):
            fixed[a, b] = fixed[b, a] = problem.pair_cost(a, b) - problem.repeat_cost[a].get(b, 0.0)
        for b in problem.blocked[a]:
            blocked[a, b] = 1.0
    return _Search(
        problem=problem,
        clocks=clocks,
        rounds=[[list(circle) for circle in circles] for circles in plan],
        seat=seat,
        meetings=meetings,
        fixed=fixed,
        blocked=blocked,
        repeat=problem.weights.repeat,
    )


def _tabu(search: _Search, rng: np.random.Generator) -> Plan:
    """The cheapest plan the search meets, starting from (and at worst returning) its own."""
    rounds = len(search.rounds)
    window = [_WindowCheck(search, number) for number in range(rounds)]
    allowed = [window[number].allowed() for number in range(rounds)]
    still_until = np.zeros(search.seat.shape, dtype=np.int64)
    current = best = search.cost()
    best_rounds = _copy(search.rounds)
    last_better = 0
    for step in range(MAX_STEPS):
        if step - last_better > PATIENCE:
            break
        met_once = (search.meetings >= 1).astype(float)
        met_twice = (search.meetings >= 2).astype(float)
        deltas = np.stack(
            [_deltas(search, n, allowed[n], met_once, met_twice) for n in range(rounds)]
        )
        deltas += rng.random(deltas.shape) * 1e-6  # seeded tie-break
        if not np.isfinite(deltas.min()):
            break  # no swap keeps both circles inside the rules
        move = _pick(deltas, still_until, step, current - best)
        if move is None:
            continue  # every cheap move is resting this step
        number, a, b = move
        _swap(search, number, a, b)
        allowed[number] = window[number].allowed()
        current += float(deltas[number, a, b])
        still_until[number, a] = step + rng.integers(*TENURE)
        still_until[number, b] = step + rng.integers(*TENURE)
        if current < best - EPSILON:
            best, best_rounds, last_better = current, _copy(search.rounds), step
    return best_rounds


def _deltas(
    search: _Search,
    number: int,
    allowed: np.ndarray,
    met_once: np.ndarray,
    met_twice: np.ndarray,
) -> np.ndarray:
    """delta[a, b]: what swapping a and b (in different circles) in this round changes."""
    seat = search.seat[number]
    placed = np.flatnonzero(seat >= 0)
    circles = len(search.rounds[number])
    count = len(seat)
    member = np.zeros((count, circles))
    member[placed, seat[placed]] = 1.0
    into = met_once @ member  # into[b, c]: members of circle c that b has met
    again = met_twice @ member
    paid = search.fixed @ member
    blocks = search.blocked @ member
    own = np.where(seat >= 0, seat, 0)
    people = np.arange(count)
    # joins[a, b]: what b pays in a's circle once a has left it; leaves[a]: what a stops paying.
    joins = search.repeat * (into[:, own].T - met_once.T) + (paid[:, own].T - search.fixed.T)
    leaves = search.repeat * again[people, own] + paid[people, own]
    half = joins - leaves[:, None]
    delta = half + half.T
    blocked = (blocks[:, own].T - search.blocked.T) > 0
    forbidden = ~allowed | blocked | blocked.T | (own[:, None] == own[None, :])
    forbidden[seat < 0, :] = True
    forbidden[:, seat < 0] = True
    delta[forbidden] = np.inf
    return delta


def _pick(
    deltas: np.ndarray, still_until: np.ndarray, step: int, above_best: float
) -> tuple[int, int, int] | None:
    flat = deltas.ravel()
    examined = min(MOVES_EXAMINED, flat.size)
    nearest = np.argpartition(flat, examined - 1)[:examined]
    for index in nearest[np.argsort(flat[nearest], kind="stable")]:
        change = flat[index]
        if not np.isfinite(change):
            break
        number, a, b = (int(i) for i in np.unravel_index(index, deltas.shape))
        if a > b:
            continue
        resting = still_until[number, a] > step or still_until[number, b] > step
        if resting and change + above_best >= -EPSILON:
            continue
        return number, a, b
    return None


def _swap(search: _Search, number: int, a: int, b: int) -> None:
    circles, seat = search.rounds[number], search.seat[number]
    first, second = circles[seat[a]], circles[seat[b]]
    stay_first = np.array([m for m in first if m != a])
    stay_second = np.array([m for m in second if m != b])
    for leaving, joining, stay in ((a, b, stay_first), (b, a, stay_second)):
        search.meetings[leaving, stay] -= 1
        search.meetings[stay, leaving] -= 1
        search.meetings[joining, stay] += 1
        search.meetings[stay, joining] += 1
    first[first.index(a)] = b
    second[second.index(b)] = a
    seat[a], seat[b] = seat[b], seat[a]


class _WindowCheck:
    """Which swaps of one round keep both circles inside the working-hours window."""

    def __init__(self, search: _Search, number: int) -> None:
        self.search = search
        self.number = number
        self.offsets = search.clocks[number]
        self.values = sorted(set(self.offsets))
        position = {value: index for index, value in enumerate(self.values)}
        self.column = np.array([position[offset] for offset in self.offsets])
        self.fits: dict[tuple[tuple[int, ...], int], bool] = {}

    def allowed(self) -> np.ndarray:
        """allowed[a, b]: b fits a's circle without a, and a fits b's without b."""
        count = len(self.offsets)
        joins = np.zeros((count, count), dtype=bool)
        circles, seat = self.search.rounds[self.number], self.search.seat[self.number]
        limit = self.search.problem.max_spread
        for a in range(count):
            if seat[a] < 0:
                continue
            rest = tuple(sorted(self.offsets[m] for m in circles[seat[a]] if m != a))
            row = []
            for value in self.values:
                key = (rest, value)
                if key not in self.fits:
                    self.fits[key] = offset_spread([*rest, value]) <= limit
                row.append(self.fits[key])
            joins[a] = np.array(row)[self.column]
        return joins & joins.T


def _copy(rounds: Plan) -> Plan:
    return [[list(circle) for circle in circles] for circles in rounds]
