"""Planning every round left of a small series in pairs at once."""

from __future__ import annotations

from collections import Counter
from itertools import combinations, combinations_with_replacement

from services.circles import Candidate, MatchSettings, Weights, form_circles
from services.circles.timezones import offset_spread
from tests.circles.rosters import all_pairs, person

SIX_HOURS = 6 * 60


def run_series(
    roster: list[Candidate],
    *,
    rounds: int,
    clocks: list[dict[str, int]] | None = None,
    settings: MatchSettings | None = None,
    planned: bool = True,
) -> list[list[list[str]]]:
    """Form `rounds` rounds; `clocks[n]` moves people's offsets in round n."""
    settings = settings or MatchSettings(size=2, history_window=rounds)
    clocks = clocks or [{} for _ in range(rounds)]
    history: list[list[list[str]]] = []
    for number in range(rounds):
        people = [_moved(candidate, clocks[number]) for candidate in roster]
        later = [
            {c.key: clocks[n].get(c.key, c.utc_offset_minutes) for c in roster}
            for n in range(number + 1, rounds)
        ]
        result = form_circles(
            candidates=people,
            history=history,
            settings=settings,
            seed=number,
            rounds_left=rounds - number if planned else None,
            later_clocks=later if planned else (),
        )
        assert result.unmatched == ()
        history.append(result.groups)
    return history


def _moved(candidate: Candidate, clocks: dict[str, int]) -> Candidate:
    offset = clocks.get(candidate.key, candidate.utc_offset_minutes)
    return Candidate(
        key=candidate.key,
        team=candidate.team,
        level=candidate.level,
        utc_offset_minutes=offset,
    )


def meetings(history: list[list[list[str]]]) -> list[frozenset[str]]:
    return [frozenset(pair) for groups in history for g in groups for pair in combinations(g, 2)]


def test_a_pair_that_daylight_saving_splits_meets_before_the_clocks_change() -> None:
    # Four people meet everyone once in three rounds only if A and B, whose clocks drift
    # seven hours apart in the last round, meet in one of the first two. Planned with
    # this round's clocks only, this roster's plan leaves them for the last round.
    roster = [
        person("A", utc_offset_minutes=0),
        person("B", utc_offset_minutes=360),
        person("C", utc_offset_minutes=90),
        person("D", utc_offset_minutes=60),
    ]
    history = run_series(roster, rounds=3, clocks=[{}, {}, {"B": 420}])
    met = meetings(history)
    assert len(met) == len(set(met)) == 6
    assert frozenset("AB") in meetings(history[:2])


def test_a_planned_series_spends_cross_team_partners_where_they_are_scarce() -> None:
    # Ten people over nine rounds meet everyone exactly once when planned whole, however
    # teams are spread: the plan must end on a perfect round, not a corner of leftovers.
    teams = ["Sales", "Sales", "Sales", "Sales", "Ops", "Ops", "Ops", "Eng", "Eng", "Fin"]
    roster = [person(f"U{n}", team=team) for n, team in enumerate(teams)]
    met = meetings(run_series(roster, rounds=9))
    assert len(met) == len(set(met)) == 45


def test_the_plan_honours_blocks_and_the_window_in_every_round() -> None:
    offsets = [0, 0, 60, 120, 300, 330, 540, 600]
    roster = [person(f"U{n}", utc_offset_minutes=o) for n, o in enumerate(offsets)]
    blocks = [("U0", "U1"), ("U4", "U5")]
    settings = MatchSettings(size=2, history_window=4, max_spread_minutes=SIX_HOURS)
    history: list[list[list[str]]] = []
    for number in range(4):
        result = form_circles(
            candidates=roster,
            blocks=blocks,
            history=history,
            settings=settings,
            seed=number,
            rounds_left=4 - number,
        )
        assert result.unmatched == ()
        pairs = all_pairs(result)
        assert not pairs & {frozenset(block) for block in blocks}
        offset = {c.key: c.utc_offset_minutes for c in roster}
        assert all(abs(offset[a] - offset[b]) <= SIX_HOURS for a, b in map(sorted, pairs))
        history.append(result.groups)


def test_repeats_come_only_where_the_window_forces_them() -> None:
    # Six people, two of whom are each other's only partner in reach: they meet every
    # round, and the other four repeat only as often as counting forces.
    offsets = {"U0": 0, "U1": 0, "U2": 0, "U3": 0, "U4": 720, "U5": 720}
    roster = [person(key, utc_offset_minutes=o) for key, o in offsets.items()]
    settings = MatchSettings(size=2, history_window=5, max_spread_minutes=SIX_HOURS)
    met = meetings(run_series(roster, rounds=5, settings=settings))
    far = frozenset({"U4", "U5"})
    repeats = len(met) - len(set(met))
    assert met.count(far) == 5
    # U0-U3 meet in pairs five times over (ten meetings) across six possible pairs.
    assert repeats == 4 + (10 - 6)


def test_the_plan_weighs_teams_like_the_round_by_round_matcher() -> None:
    # Two teams of three in pairs for one planned round pair across teams: same-team pairs
    # cost, repeats do not arise.
    roster = [person(f"U{n}", team="AB"[n // 3]) for n in range(6)]
    settings = MatchSettings(size=2, history_window=2, weights=Weights(same_level=0))
    history = run_series(roster, rounds=2, settings=settings)
    teams = {c.key: c.team for c in roster}
    cross = [pair for pair in meetings(history[:1]) if len({teams[k] for k in pair}) == 2]
    assert len(cross) == 3


def test_a_whole_plan_reaches_the_fewest_repeats_any_schedule_has() -> None:
    # Eight people in three timezone clusters, six rounds: matching each round on its own
    # leaves later rounds only old partners; the plan reaches the true minimum, found here
    # by trying every multiset of six perfect pairings.
    clocks = [0, 540, 660, 0, -300, -480, 540, 60]
    teams = "AACBCCCA"
    roster = [
        person(f"U{n}", team=team, utc_offset_minutes=o)
        for n, (team, o) in enumerate(zip(teams, clocks, strict=True))
    ]
    settings = MatchSettings(size=2, history_window=6, max_spread_minutes=SIX_HOURS)
    planned = meetings(run_series(roster, rounds=6, settings=settings))
    unplanned = meetings(run_series(roster, rounds=6, settings=settings, planned=False))
    fewest = _fewest_repeats(roster, rounds=6)
    assert len(planned) - len(set(planned)) == fewest
    assert len(unplanned) - len(set(unplanned)) > fewest


def _fewest_repeats(roster: list[Candidate], *, rounds: int) -> int:
    keys = [c.key for c in roster]
    offset = {c.key: c.utc_offset_minutes for c in roster}

    def pairings(left: list[str]) -> list[list[frozenset[str]]]:
        if not left:
            return [[]]
        first, rest = left[0], left[1:]
        found = []
        for other in rest:
            if offset_spread([offset[first], offset[other]]) <= SIX_HOURS:
                remaining = [k for k in rest if k != other]
                found += [[frozenset({first, other}), *p] for p in pairings(remaining)]
        return found

    options = pairings(keys)
    return min(
        sum(count - 1 for count in Counter(p for i in chosen for p in options[i]).values())
        for chosen in combinations_with_replacement(range(len(options)), rounds)
    )


def test_a_long_series_is_planned_a_stretch_at_a_time() -> None:
    # A year of weekly rounds for 24 people: the plan looks twelve rounds ahead, and this
    # round still pairs everyone with someone new.
    roster = [person(f"U{n:02d}", team="ABCD"[n % 4]) for n in range(24)]
    result = form_circles(
        candidates=roster,
        settings=MatchSettings(size=2, history_window=52),
        rounds_left=52,
    )
    assert result.unmatched == ()
    assert result.figures.repeat_pairs == result.figures.same_team_pairs == 0
    assert len(result.circles) == 12
