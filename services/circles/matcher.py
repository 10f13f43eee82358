"""The peer-circle matcher: one round's groups from a roster, blocks and past rounds.

Pure: no database, no Slack. Hard constraints (blocked pairs, the working-hours window,
opt-outs and pauses) are never broken; repeat pairings, same-team and same-level pairs are
penalised and optional shared competencies rewarded. A seeded greedy pass in clock order
builds the first groups (grouping.py), local search swaps members and runs cyclic
exchanges between nearby groups (search.py), and small rosters compare a few drafts by
what the next rounds could still reach (planning.py). Small rosters in pairs whose series
says how many rounds are left are matched exactly instead (pairing.py), and those of up
to 25 people whose series remembers all its rounds plan every round left at once
(series_pairs.py). Series in groups of up to 100 people (two circles or more) that
remember all their rounds plan every round left and improve that plan as a whole
(series_groups.py), starting from the mix of clocks each round's circles should hold
(clock_mix.py), or from round-by-round drafts where no mix is found."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.circles.candidates import Candidate, MatchSettings
from services.circles.explain import ScoreParts, explain_circle, score_circle
from services.circles.grouping import Draft
from services.circles.planning import RoundInputs, plan_round
from services.circles.problem import History, RoundProblem
from services.circles.timezones import offset_spread
from services.errors import Invalid


@dataclass(frozen=True, slots=True)
class Circle:
    """One group: its members' keys, why they were put together, and how it scored."""

    members: tuple[str, ...]
    explanation: str
    score: ScoreParts


@dataclass(frozen=True, slots=True)
class Unmatched:
    """An eligible person no group could take without breaking a hard constraint."""

    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class RoundFigures:
    """Round-level counts for previews, dashboards and benchmarks."""

    eligible: int
    groups: int
    placed: int
    unmatched: int
    pairs: int
    repeat_pairs: int
    same_team_pairs: int
    same_level_pairs: int
    max_spread_minutes: int
    penalty: float

    @property
    def cross_level_share(self) -> float:
        """Share of pairs whose members sit at different (or unknown) levels."""
        return 1.0 - self.same_level_pairs / self.pairs if self.pairs else 0.0


@dataclass(frozen=True, slots=True)
class MatchResult:
    """A round's circles, who could not be placed and why, and its figures."""

    circles: tuple[Circle, ...]
    unmatched: tuple[Unmatched, ...]
    excluded: tuple[str, ...]
    figures: RoundFigures
    # When the series was planned as a whole: the circles planned for the rounds after this
    # one, by key. Passing them back as the next round's `plan` lets that plan carry on.
    plan: tuple[tuple[tuple[str, ...], ...], ...] = ()

    @property
    def groups(self) -> list[list[str]]:
        """Members of each circle by key, in the JSON-friendly shape."""
        return [list(circle.members) for circle in self.circles]


def sum_figures(figures: Iterable[RoundFigures]) -> RoundFigures:
    """Add up several rounds' figures; the widest spread is kept rather than summed."""
    rounds = list(figures)
    return RoundFigures(
        eligible=sum(f.eligible for f in rounds),
        groups=sum(f.groups for f in rounds),
        placed=sum(f.placed for f in rounds),
        unmatched=sum(f.unmatched for f in rounds),
        pairs=sum(f.pairs for f in rounds),
        repeat_pairs=sum(f.repeat_pairs for f in rounds),
        same_team_pairs=sum(f.same_team_pairs for f in rounds),
        same_level_pairs=sum(f.same_level_pairs for f in rounds),
        max_spread_minutes=max((f.max_spread_minutes for f in rounds), default=0),
        penalty=round(sum(f.penalty for f in rounds), 6),
    )


def form_circles(
    *,
    candidates: Sequence[Candidate],
    blocks: Iterable[tuple[str, str]] = (),
    history: History = (),
    settings: MatchSettings | None = None,
    seed: int = 0,
    rounds_left: int | None = None,
    later_clocks: Sequence[Mapping[str, int]] = (),
    plan: Sequence[Sequence[Sequence[str]]] = (),
) -> MatchResult:
    """Form one round of circles; the same inputs and seed always give the same result.

    `rounds_left` counts this round and those still to come in the series, when known;
    small rosters in pairs are then matched exactly, with an eye on the rounds left, and
    those of up to 25 people whose series remembers every round plan the rounds left
    together, as do series in groups of up to 100 people. `later_clocks` gives each later
    round's UTC offsets by candidate key, so that plan knows whose hours daylight saving
    brings together or apart. `plan` is the previous round's `MatchResult.plan`: a series
    in groups planned whole starts from the rounds of it that still hold (everyone seated
    once, inside the window, no blocked pair) instead of planning afresh."""
    if rounds_left is not None and rounds_left < 1:
        raise Invalid("rounds_left must be at least 1 (this round)", field="rounds_left")
    inputs = RoundInputs(
        candidates=candidates,
        blocks=list(blocks),
        settings=settings or MatchSettings(),
        later_clocks=later_clocks,
        plan=plan,
    )
    problem, draft = plan_round(
        inputs=inputs, history=history, seed=seed, rounds_left=rounds_left
    )
    return _result(
        problem,
        draft,
        excluded=tuple(sorted(c.key for c in candidates if not c.eligible)),
    )


def _result(problem: RoundProblem, draft: Draft, *, excluded: tuple[str, ...]) -> MatchResult:
    keys = [person.key for person in problem.people]
    circles: list[Circle] = []
    # Members in key order; circles in clock order so a listing reads east to west.
    for group in sorted(draft.groups, key=lambda g: (min(problem.offsets[m] for m in g), min(g))):
        members = sorted(group)
        parts = score_circle(problem, members)
        circles.append(
            Circle(
                members=tuple(keys[m] for m in members),
                explanation=explain_circle(problem, members, parts),
                score=parts,
            )
        )
    unmatched = tuple(
        Unmatched(key=keys[person], reason=reason)
        for person, reason in sorted(draft.unplaced.items())
    )
    return MatchResult(
        circles=tuple(circles),
        unmatched=unmatched,
        excluded=excluded,
        figures=_figures(problem, draft, circles, unmatched=len(unmatched)),
        plan=tuple(
            tuple(tuple(keys[m] for m in sorted(group)) for group in groups)
            for groups in draft.later
        ),
    )


def _figures(
    problem: RoundProblem, draft: Draft, circles: list[Circle], *, unmatched: int
) -> RoundFigures:
    scores = [circle.score for circle in circles]
    return RoundFigures(
        eligible=problem.count,
        groups=len(circles),
        placed=sum(len(circle.members) for circle in circles),
        unmatched=unmatched,
        pairs=sum(s.pairs for s in scores),
        repeat_pairs=sum(s.repeat_pairs for s in scores),
        same_team_pairs=sum(s.same_team_pairs for s in scores),
        same_level_pairs=sum(s.same_level_pairs for s in scores),
        max_spread_minutes=max(
            (offset_spread(problem.offsets[m] for m in g) for g in draft.groups), default=0
        ),
        penalty=round(sum(s.penalty for s in scores), 6),
    )
