"""Choosing a round's draft: seeded restarts, and for small rosters a look at the rounds after.

Minimising one round at a time can corner a small roster. Eight people in pairs can
meet everyone once in seven rounds, but a matcher that keeps dodging same-team pairs is
left with only same-team pairs at the end, and those form triangles that no set of pairs
can cover, so a repeat is forced. Small rosters therefore compare the best few drafts from
their restarts by their own cost plus the best cost the next rounds could then reach.

The smallest rosters, which look two rounds ahead, also compare drafts built while
ignoring team and level: they are what closes those triangles early. Looking one round
ahead cannot tell that apart from moving same-team pairs from next round into this one;
on synthetic rosters of 24 and 25 people in pairs over twelve rounds such drafts won that
shorter look often enough to add same-team pairs without saving repeats, so rosters that
look one round ahead compare only drafts built with the real weights.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from services.circles.candidates import Candidate, MatchSettings, Weights
from services.circles.clock_mix import clock_mix_plan
from services.circles.grouping import Draft, build_groups, clock_order, retry_unplaced
from services.circles.pairing import pair_round
from services.circles.problem import History, RoundProblem, build_problem
from services.circles.search import improve
from services.circles.series_groups import improve_series_groups, plans_whole
from services.circles.series_pairs import MAX_ROUNDS_PLANNED, plan_series_pairs

# Restarts share a budget of roughly this many person-visits, so small rosters get several
# fresh starts and large ones a single start.
RESTART_BUDGET = 100
MAX_RESTARTS = 4
# Rosters up to this size look ahead this many rounds, comparing this many candidates.
# Each simulated round costs about as much as the real one, so the look stays short.
LOOKAHEAD_DEPTH = {16: 2, 40: 1}
LOOKAHEAD_CANDIDATES = 2  # from each weighting compared
MIX_ANY_SIZE_MAX_PEOPLE = 40  # see _mix_sizes


@dataclass(frozen=True, slots=True)
class RoundInputs:
    """Everything but the history that a round's problem is built from."""

    candidates: Sequence[Candidate]
    blocks: Sequence[tuple[str, str]]
    settings: MatchSettings
    # Each later round's UTC offsets by person key, when the caller knows those dates.
    later_clocks: Sequence[Mapping[str, int]] = ()
    # The circles an earlier round planned for this round and the ones after, by key.
    plan: Sequence[Sequence[Sequence[str]]] = ()


def plan_round(
    *, inputs: RoundInputs, history: History, seed: int, rounds_left: int | None = None
) -> tuple[RoundProblem, Draft]:
    """Build the round's problem and pick its best draft, looking ahead on small rosters
    (for small series, all the way to the series' end)."""
    problem = _problem(inputs, history)
    whole_series = rounds_left is not None and _remembers_series(inputs, history, rounds_left)
    if whole_series and rounds_left is not None:
        planned = plan_series_pairs(
            problem=problem, clocks=_clocks(problem, inputs.later_clocks, rounds_left)
        )
        if planned is not None:
            return problem, planned
    draft = _round_draft(problem, inputs, history, seed, rounds_left)
    if whole_series and rounds_left is not None:
        improved = _improve_series(problem, inputs, history, draft, seed, rounds_left)
        if improved is not None:
            return problem, improved
    return problem, draft


def _round_draft(
    problem: RoundProblem,
    inputs: RoundInputs,
    history: History,
    seed: int,
    rounds_left: int | None,
) -> Draft:
    if rounds_left is not None:
        paired = pair_round(
            problem=problem,
            past=_as_indices(problem, history),
            rounds_left=rounds_left,
            window=inputs.settings.history_window,
        )
        if paired is not None:
            return paired
    drafts = _candidate_drafts(problem, seed=seed)
    depth = _lookahead_depth(problem.count)
    if depth == 0 or len(drafts) == 1:
        return drafts[0]
    return min(
        drafts,
        key=lambda draft: (
            *_shape(draft),
            draft.total + _future_cost(inputs, _extend(problem, history, draft), depth, seed),
        ),
    )


def _improve_series(
    problem: RoundProblem,
    inputs: RoundInputs,
    history: History,
    draft: Draft,
    seed: int,
    rounds_left: int,
) -> Draft | None:
    """This round's draft from a plan of the rounds left improved as a whole (groups of
    three or more), with the plan's later rounds, or None when round by round does as well.

    The plan starts from the one an earlier round left (`inputs.plan`) as far as it still
    holds, so the search carries on where it stopped; later rounds are drafted one by one."""
    if not plans_whole(problem):
        return None
    clocks = _clocks(problem, inputs.later_clocks, min(rounds_left, MAX_ROUNDS_PLANNED))
    carried = _carried_plan(problem, inputs.plan, clocks, allowed_out=set(draft.unplaced))
    drafts = carried or [draft]
    planned = list(map(_as_lists, history))
    for earlier in drafts:
        planned = _extend(problem, planned, earlier)
    for number in range(len(drafts), len(clocks)):
        moved = [
            replace(person, utc_offset_minutes=clocks[number][index])
            for index, person in enumerate(problem.people)
        ]
        later = _problem(replace(inputs, candidates=moved), planned)
        later_draft = _candidate_drafts(later, seed=seed + number, varied=False)[0]
        drafts.append(later_draft)
        planned = _extend(later, planned, later_draft)
    plan = _fullest_shapes(problem, drafts, clocks)
    start = [d.groups for d in plan]
    mixed = None
    if not carried and not any(d.unplaced for d in plan):
        mixed = _clock_mix(problem, start, clocks, seed)
    start = mixed or start
    improved = improve_series_groups(problem=problem, plan=start, clocks=clocks, seed=seed)
    if improved is None:
        if not (carried or mixed):
            return None
        improved = start
    groups = improved[0]
    return Draft(
        groups=groups,
        unplaced={m: draft.unplaced.get(m) or plan[0].unplaced[m] for m in plan[0].unplaced},
        total=sum(problem.group_cost(group) for group in groups),
        later=improved[1:],
    )


def _clock_mix(
    problem: RoundProblem, start: list[list[list[int]]], clocks: list[list[int]], seed: int
) -> list[list[list[int]]] | None:
    """A clock mix of the plan's rounds, all circles on size where one exists.

    Above MIX_ANY_SIZE_MAX_PEOPLE, drafts that hold threes or fives among fours are first
    tried as a mix of fours alone; only where none exists may each round keep as many
    circles off size as its draft. On the 60-person benchmark roster whose drafts hold a
    three and a five in five rounds of twelve, fours alone meet as few repeats (158)."""
    off_size = _most_off_size(problem, start)
    if off_size is not None and any(off_size) and problem.count % problem.size == 0:
        on_size = clock_mix_plan(
            problem=problem,
            circles=[problem.count // problem.size] * len(start),
            sizes={problem.size},
            clocks=clocks,
            seed=seed,
        )
        if on_size is not None:
            return on_size
    return clock_mix_plan(
        problem=problem,
        circles=[len(groups) for groups in start],
        sizes=_mix_sizes(problem, start),
        clocks=clocks,
        seed=seed,
        most_off_size=off_size,
    )


def _mix_sizes(problem: RoundProblem, start: list[list[list[int]]]) -> set[int]:
    """Circle sizes a clock mix may use.

    Up to MIX_ANY_SIZE_MAX_PEOPLE, one below or above the series' size as well: the drafts
    for 24 in fours fall back to threes that the mix turns into fours, and a 16-person
    test roster meets 64 different pairs instead of 56. Larger rosters keep to the sizes
    the drafts used (and, by _most_off_size, to as many circles off size): on 60 in fours,
    threes and fives anywhere put about half the circles off size."""
    if problem.count <= MIX_ANY_SIZE_MAX_PEOPLE:
        return {size for size in (problem.size - 1, problem.size, problem.size + 1) if size >= 2}
    return {problem.size} | {len(group) for groups in start for group in groups}


def _most_off_size(problem: RoundProblem, start: list[list[list[int]]]) -> list[int] | None:
    """Per round, how many circles off the series' size a clock mix may hold: above
    MIX_ANY_SIZE_MAX_PEOPLE, no more than that round's draft. Left free, the mix for one
    60-person roster in fours turned the drafts' one three and one five, in five rounds of
    twelve, into two to five of each in every round (92 of 180 circles off size)."""
    if problem.count <= MIX_ANY_SIZE_MAX_PEOPLE:
        return None
    return [sum(len(group) != problem.size for group in groups) for groups in start]


def _carried_plan(
    problem: RoundProblem,
    plan: Sequence[Sequence[Sequence[str]]],
    clocks: list[list[int]],
    *,
    allowed_out: set[int],
) -> list[Draft]:
    """The rounds of an earlier plan that still hold, from this round on: each circle
    inside the window on its date and free of blocks, each person in one circle at most,
    and nobody left out whom this round's draft could place."""
    index = {person.key: position for position, person in enumerate(problem.people)}
    kept: list[Draft] = []
    for groups, offsets in zip(plan, clocks, strict=False):
        if any(key not in index for group in groups for key in group):
            break
        circles = [sorted(index[key] for key in group) for group in groups]
        seated = [m for circle in circles for m in circle]
        out = set(range(problem.count)) - set(seated)
        fits = all(len(c) >= 2 and problem.circle_fits(c, offsets) for c in circles)
        if len(seated) != len(set(seated)) or not out <= allowed_out or not fits:
            break
        unplaced = dict.fromkeys(sorted(out), "")
        kept.append(Draft(groups=circles, unplaced=unplaced))
    return kept


def _fullest_shapes(
    problem: RoundProblem, drafts: list[Draft], clocks: list[list[int]]
) -> list[Draft]:
    """Give a round whose draft left someone out or split into extra circles the circles
    of the fullest draft instead, where those fit its clocks. The search that follows keeps
    each circle's size, so it must start from the fullest shape; it then remixes members."""
    fullest = min(drafts, key=_shape)
    shaped = []
    for draft, offsets in zip(drafts, clocks, strict=True):
        fits = all(problem.circle_fits(group, offsets) for group in fullest.groups)
        shaped.append(fullest if _shape(draft) > _shape(fullest) and fits else draft)
    return shaped


def _remembers_series(inputs: RoundInputs, history: History, rounds_left: int) -> bool:
    # Planning the rest of the series counts every meeting after a pair's first as a
    # repeat, which is what the series means only when it remembers its whole run.
    return inputs.settings.history_window >= len(history) + rounds_left - 1


def _clocks(
    problem: RoundProblem, later: Sequence[Mapping[str, int]], rounds_left: int
) -> list[list[int]]:
    """Everyone's offset in each round left; a round with no clocks given keeps the last."""
    clocks = [list(problem.offsets)]
    for number in range(1, rounds_left):
        known = later[number - 1] if number <= len(later) else {}
        clocks.append(
            [known.get(person.key, clocks[-1][i]) for i, person in enumerate(problem.people)]
        )
    return clocks


def _as_indices(problem: RoundProblem, history: History) -> list[list[list[int]]]:
    index = {person.key: position for position, person in enumerate(problem.people)}
    return [
        [[index[key] for key in group if key in index] for group in past_round]
        for past_round in history
    ]


def _lookahead_depth(count: int) -> int:
    return next((depth for limit, depth in sorted(LOOKAHEAD_DEPTH.items()) if count <= limit), 0)


def _problem(inputs: RoundInputs, history: History) -> RoundProblem:
    return build_problem(
        candidates=inputs.candidates,
        blocks=inputs.blocks,
        history=history,
        settings=inputs.settings,
    )


def _extend(problem: RoundProblem, history: History, draft: Draft) -> list[list[list[str]]]:
    keys = [person.key for person in problem.people]
    return [*map(_as_lists, history), [[keys[m] for m in group] for group in draft.groups]]


def _as_lists(past_round: Sequence[Sequence[str]]) -> list[list[str]]:
    return [list(group) for group in past_round]


def _future_cost(inputs: RoundInputs, history: History, depth: int, seed: int) -> float:
    problem = _problem(inputs, history)
    if depth == 1:
        return _candidate_drafts(problem, seed=seed + 1, varied=False)[0].total
    drafts = _candidate_drafts(problem, seed=seed + 1)
    return min(
        draft.total + _future_cost(inputs, _extend(problem, history, draft), depth - 1, seed + 1)
        for draft in drafts
    )


def _candidate_drafts(problem: RoundProblem, *, seed: int, varied: bool = True) -> list[Draft]:
    """The best drafts from seeded restarts; when varied, also some built ignoring mixing."""
    rng = random.Random(seed)
    restarts = max(1, min(MAX_RESTARTS, RESTART_BUDGET // max(problem.count, 1)))
    drafts = _best_of([_draft(problem, rng) for _ in range(restarts)])
    depth = _lookahead_depth(problem.count)
    if not (varied and depth):
        return drafts[:1]
    if depth == 1:
        return drafts[: 2 * LOOKAHEAD_CANDIDATES]
    # Drafts that weigh only repeats add the variety the two-round look chooses from; they
    # are then costed under the real weights.
    repeats_only = replace(
        problem,
        weights=Weights(
            repeat=problem.weights.repeat, same_team=0, same_level=0, shared_competency=0
        ),
    )
    others = [_draft(repeats_only, rng) for _ in range(restarts)]
    for draft in others:
        draft.total = sum(problem.group_cost(group) for group in draft.groups)
    return _best_of(drafts[:LOOKAHEAD_CANDIDATES] + _best_of(others)[:LOOKAHEAD_CANDIDATES])


def _best_of(drafts: list[Draft]) -> list[Draft]:
    unique = {_signature(draft): draft for draft in reversed(drafts)}
    return sorted(unique.values(), key=lambda d: (*_shape(d), d.total))


def _shape(draft: Draft) -> tuple[int, int]:
    # Fewer people left out first, then fewer (so fuller) groups: smaller groups have fewer
    # pairs and so cost less, but a draft must not win by having people meet fewer others.
    return len(draft.unplaced), len(draft.groups)


def _draft(problem: RoundProblem, rng: random.Random) -> Draft:
    order = clock_order(problem, rng)
    draft = build_groups(problem, order)
    draft.total = improve(problem, draft.groups, order, rng)
    if draft.unplaced:
        retry_unplaced(problem, draft)
        draft.total = sum(problem.group_cost(group) for group in draft.groups)
    return draft


def _signature(draft: Draft) -> tuple[tuple[int, ...], ...]:
    return tuple(sorted(tuple(sorted(group)) for group in draft.groups))
