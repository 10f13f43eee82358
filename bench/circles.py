"""Benchmark the peer-circle matcher against a random shuffle and, for pairs, colette.

Run from the repository root:

    .venv/bin/python bench/circles.py

Synthetic rosters (5 teams, 3 levels, 3 regions with real IANA timezones) meet for
weekly rounds; every method sees the same roster and the same dates. Results go to
docs/benchmarks-circles.md and a chart to docs/benchmarks-circles.png. colette and
matplotlib are benchmark-only dependencies; without them those parts are skipped and
the document says so.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.circles_bounds import (  # noqa: E402
    Reference,
    Schedule,
    groups_repeat_bound,
    pairs_repeat_minimum,
    pairs_team_bound,
    render,
    whole_program_search,
)
from services.circles import (  # noqa: E402
    Candidate,
    MatchSettings,
    form_circles,
    utc_offset_minutes,
)
from services.circles.grouping import plan_sizes  # noqa: E402
from services.circles.timezones import offset_spread  # noqa: E402

TEAMS = ("Sales", "Ops", "Engineering", "Finance", "People")
LEVELS = ("L1", "L2", "L3")
REGIONS = {  # region: (share of the roster, its timezones)
    "Americas": (
        0.40,
        ("America/Los_Angeles", "America/Chicago", "America/New_York", "America/Sao_Paulo"),
    ),
    "EMEA": (0.35, ("Europe/London", "Europe/Berlin", "Africa/Johannesburg", "Asia/Dubai")),
    "APAC": (0.25, ("Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney")),
}
FIRST_ROUND = date(2026, 1, 5)  # weekly rounds from here cross the US daylight-saving switch
SPREAD = 6 * 60
CONFIGS = ((24, 2), (25, 2), (60, 2), (1000, 2), (24, 4), (25, 4), (60, 4), (1000, 4))
OTHER_ROSTERS_MAX_PEOPLE = 60
COLETTE_MAX_PEOPLE = 1000  # its model has n²/2 binary variables: 500,500 at 1,000 people

Groups = list[list[str]]
# (this round's people, earlier rounds, group size, seed, later rounds' people) -> groups
Method = Callable[
    [list[Candidate], list[Groups], int, int, list[list[Candidate]]], tuple[Groups, int]
]


@dataclass
class Tally:
    method: str
    pairs: int = 0
    repeats: int = 0
    same_team: int = 0
    same_level: int = 0
    circles: int = 0
    team_circles: int = 0  # circles with at least one same-team pair
    unmatched: int = 0
    violations: int = 0
    floor: int = 0
    meetings: dict[str, int] = field(default_factory=dict)
    rounds: list[Groups] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    note: str = ""


def synthetic_roster(count: int, seed: int = 7) -> list[tuple[str, str, str, str]]:
    """Return (key, team, level, timezone) rows for `count` people."""
    rng = random.Random(seed)
    regions = list(REGIONS)
    shares = [REGIONS[region][0] for region in regions]
    rows = []
    for number in range(count):
        region = rng.choices(regions, weights=shares)[0]
        rows.append(
            (
                f"U{number:05d}",
                rng.choice(TEAMS),
                rng.choice(LEVELS),
                rng.choice(REGIONS[region][1]),
            )
        )
    return rows


def candidates_on(rows: Sequence[tuple[str, str, str, str]], on: date) -> list[Candidate]:
    return [
        Candidate(
            key=key,
            team=team,
            level=level,
            utc_offset_minutes=utc_offset_minutes(timezone=tz, on=on),
        )
        for key, team, level, tz in rows
    ]


def coachbot_method(*, rounds: int) -> Method:
    """form_circles, told how many of the series' `rounds` are left (this one included)."""

    carried: list[tuple[tuple[tuple[str, ...], ...], ...]] = [()]

    def run(
        people: list[Candidate],
        history: list[Groups],
        size: int,
        seed: int,
        later: list[list[Candidate]],
    ) -> tuple[Groups, int]:
        settings = MatchSettings(size=size, max_spread_minutes=SPREAD, history_window=rounds)
        if not history:
            carried[0] = ()
        result = form_circles(
            candidates=people,
            history=history,
            settings=settings,
            seed=seed,
            rounds_left=rounds - len(history),
            later_clocks=[{p.key: p.utc_offset_minutes for p in round_} for round_ in later],
            plan=carried[0],
        )
        carried[0] = result.plan  # as a live series keeps it for its next round
        return result.groups, result.figures.unmatched

    return run


def random_shuffle(
    people: list[Candidate],
    history: list[Groups],
    size: int,
    seed: int,
    later: list[list[Candidate]],
) -> tuple[Groups, int]:
    keys = [person.key for person in people]
    random.Random(seed).shuffle(keys)
    groups, start = [], 0
    for length in plan_sizes(count=len(keys), size=size):
        groups.append(keys[start : start + length])
        start += length
    return groups, 0


APART = 10_000_000  # colette's cost for a pair whose clocks are too far apart
KEEP_EVERYONE = 9_000_000  # a drop cost above any repeat (1e6) but below APART


def colette_method(*, drop_cost: int | None = None) -> Method | str:
    """Wrap colette's solver, or say why it cannot run here.

    By default colette leaves a person out of a round (cost 50) rather than repeat a
    recent pair; `drop_cost` raises that cost so it drops people only when the window
    leaves it no other choice, or when the roster is odd (it has no groups of three).
    """
    try:
        from colette.models import Overrides, Person, RoundConfig, Solution
        from colette.solver import solve_round
    except ImportError as exc:
        return f"colette is not installed ({exc})"
    solutions: list[Solution] = []

    def run(
        people: list[Candidate],
        history: list[Groups],
        size: int,
        seed: int,
        later: list[list[Candidate]],
    ) -> tuple[Groups, int]:
        if not history:
            solutions.clear()
        random.seed(seed)  # colette draws its pair roles from the global generator
        roster = {
            p.key: Person(name=p.key, organisation=p.team or "", active=True, email="")
            for p in people
        }
        # colette has no timezones; its per-pair overrides keep incompatible pairs apart at a
        # cost above everything else it weighs (1e6 for last round's partner).
        apart = {
            frozenset({roster[a.key], roster[b.key]}): APART
            for a, b in combinations(people, 2)
            if offset_spread([a.utc_offset_minutes, b.utc_offset_minutes]) > SPREAD
        }
        costs = {} if drop_cost is None else {"cost_of_not_pairing": drop_cost}
        config = RoundConfig(
            number=len(history) + 1,
            people=roster,
            date=FIRST_ROUND,
            overrides=Overrides(apart),
            cost_of_pairing_previous_partner_n=12,
            **costs,
        )
        solution = solve_round(config, solutions, max_seconds=60)
        solutions.append(solution)
        pairs = [[pair.primary.name, pair.secondary.name] for pair in solution.pairs]
        return [p for p in pairs if p[0] != p[1]], sum(1 for p in pairs if p[0] == p[1])

    return run


def tally_round(
    tally: Tally, groups: Groups, people: list[Candidate], met: set[frozenset[str]]
) -> None:
    by_key = {person.key: person for person in people}
    for group in groups:
        offsets = [by_key[key].utc_offset_minutes for key in group]
        tally.violations += offset_spread(offsets) > SPREAD
        for key in group:
            tally.meetings[key] = tally.meetings.get(key, 0) + len(group) - 1
        same_team = 0
        for a, b in combinations(group, 2):
            pair = frozenset((a, b))
            tally.pairs += 1
            tally.repeats += pair in met
            same_team += by_key[a].team == by_key[b].team
            tally.same_level += by_key[a].level == by_key[b].level
            met.add(pair)
        tally.same_team += same_team
        tally.circles += 1
        tally.team_circles += same_team > 0
    tally.rounds.append(groups)


def reachable_counts(rows: Sequence[tuple[str, str, str, str]], rounds: int) -> dict[str, int]:
    """How many people each person could ever meet: clocks within the window on some date."""
    dates = [FIRST_ROUND + timedelta(weeks=week) for week in range(rounds)]
    offsets = [[utc_offset_minutes(timezone=row[3], on=day) for row in rows] for day in dates]
    return {
        row[0]: sum(
            1
            for other in range(len(rows))
            if other != person
            and any(offset_spread([day[person], day[other]]) <= SPREAD for day in offsets)
        )
        for person, row in enumerate(rows)
    }


def repeat_floor(meetings: dict[str, int], reachable: dict[str, int]) -> int:
    """Fewest repeat pairs that counting alone forces on a schedule with these meetings.

    Person i met m_i people over all rounds (group size - 1 per round placed) but can meet
    at most d_i distinct people, so at least m_i - d_i of those meetings were repeats.
    Every repeat pair is two such meetings: floor = ceil(sum_i max(0, m_i - d_i) / 2).
    With everyone reachable and groups of k this is n/2 * max(0, r(k-1) - (n-1)): pairs
    repeat only once r > n-1, groups of k once r(k-1) > n-1.
    """
    excess = sum(max(0, count - reachable[key]) for key, count in meetings.items())
    return math.ceil(excess / 2)


def run_config(
    count: int, size: int, rounds: int, methods: dict[str, Method | str], roster_seed: int = 7
) -> list[Tally]:
    rows = synthetic_roster(count, roster_seed)
    reachable = reachable_counts(rows, rounds)
    # A series knows its round dates, so every method may see each later round's clocks.
    rosters = [candidates_on(rows, FIRST_ROUND + timedelta(weeks=n)) for n in range(rounds)]
    tallies = []
    for name, method in methods.items():
        tally = Tally(method=name)
        tallies.append(tally)
        if isinstance(method, str):
            tally.note = method
            continue
        history: list[Groups] = []
        met: set[frozenset[str]] = set()
        for number in range(rounds):
            people = rosters[number]
            started, cpu_started = time.perf_counter(), time.process_time()
            try:
                groups, unmatched = method(people, history, size, number, rosters[number + 1 :])
            except Exception as exc:  # a competitor's failure is a result, not a crash
                tally.note = (
                    f"failed in round {number + 1} after "
                    f"{time.perf_counter() - started:.0f} s: {exc}"
                )
                break
            tally.seconds.append(time.perf_counter() - started)
            tally.cpu_seconds.append(time.process_time() - cpu_started)
            tally_round(tally, groups, people, met)
            tally.unmatched += unmatched
            history.append(groups)
            print(
                f"  {count:>5} people, size {size}, {name:<9} round {number + 1:>2}: "
                f"{tally.cpu_seconds[-1]:.2f}s CPU",
                file=sys.stderr,
                flush=True,
            )
        # A method that ignores the window can meet anyone, so its floor counts everyone.
        everyone = dict.fromkeys(reachable, count - 1)
        tally.floor = repeat_floor(tally.meetings, everyone if tally.violations else reachable)
    return tallies


def methods_for(count: int, size: int, colette_max: int, rounds: int) -> dict[str, Method | str]:
    methods: dict[str, Method | str] = {
        "coachbot": coachbot_method(rounds=rounds),
        "random": random_shuffle,
    }
    if size != 2:
        return methods
    too_big = f"not run: {count} people is {count * (count + 1) // 2:,} binary variables"
    for name, drop_cost in (("colette", None), ("colette-keep", KEEP_EVERYONE)):
        methods[name] = colette_method(drop_cost=drop_cost) if count <= colette_max else too_big
    return methods


def rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


Results = list[tuple[int, int, list[Tally]]]


def markdown(
    results: Results,
    command: str,
    rounds: int,
    chart: str,
    load: tuple[float, float],
    sections: list[str],
) -> str:
    lines = [
        "# Peer-circle matcher benchmark",
        "",
        f"Produced by `{command}` on the project's 2-core machine "
        f"(Python {sys.version.split()[0]}). Other work shared the machine (load average "
        f"{load[0]:.1f} at the start, {load[1]:.1f} at the end), so per-round times are given "
        "as CPU seconds of this process next to wall-clock seconds.",
        "",
        INTRO.format(rounds=rounds, first=FIRST_ROUND, hours=SPREAD // 60),
        "## Results",
        "",
        "| people | size | method | pairs | repeat pairs | floor | repeat rate | floor rate "
        "| same-team rate | same-level rate | circles | circles with a same-team pair "
        "| unmatched person-rounds | window violations "
        "| CPU s/round mean | CPU s/round max | wall s/round mean |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for count, size, tallies in results:
        for t in tallies:
            if t.note:
                lines.append(f"| {count} | {size} | {t.method} | {t.note} |" + " |" * 13)
                continue
            lines.append(
                f"| {count} | {size} | {t.method} | {t.pairs} | {t.repeats} | {t.floor} | "
                f"{rate(t.repeats, t.pairs)} | {rate(t.floor, t.pairs)} | "
                f"{rate(t.same_team, t.pairs)} | {rate(t.same_level, t.pairs)} | {t.circles} | "
                f"{rate(t.team_circles, t.circles)} | {t.unmatched} | {t.violations} | "
                f"{mean(t.cpu_seconds):.3f} | {max(t.cpu_seconds):.3f} | {mean(t.seconds):.3f} |"
            )
    lines += ["", chart, "", "## Reading the results", "", *findings(results), ""]
    lines += [*sections, FLOOR_NOTE, ""]
    return "\n".join(lines)


def findings(results: Results) -> list[str]:
    """Plain statements drawn from the figures, so they stay true when the run is redone."""
    notes = []
    for count, size, tallies in results:
        by_name = {t.method: t for t in tallies if not t.note and t.pairs}
        ours = by_name["coachbot"]
        gap = ours.repeats - ours.floor
        where = "at the floor" if gap == 0 else f"{gap} above the floor of {ours.floor}"
        line = (
            f"- {count} people in groups of {size}: coachbot made {ours.repeats} repeat pairs "
            f"({where}) and {ours.pairs - ours.repeats} pairs that met for the first time, "
            f"{rate(ours.same_team, ours.pairs)} same-team pairs "
            f"({rate(ours.team_circles, ours.circles)} of its {ours.circles} circles hold one), "
            f"left nobody out and used at most {max(ours.cpu_seconds):.2f} CPU s a round."
            if ours.unmatched == 0
            else f"- {count}/{size}: coachbot left {ours.unmatched} person-rounds out."
        )
        for name in ("colette", "colette-keep"):
            if name in by_name:
                other = by_name[name]
                line += (
                    f" {name}: {rate(other.same_team, other.pairs)} same-team pairs "
                    f"({rate(other.team_circles, other.circles)} of {other.circles} circles), "
                    f"{other.unmatched} person-rounds left out, {other.pairs} pairs "
                    f"to coachbot's {ours.pairs}."
                )
        notes.append(line)
    return notes


INTRO = """Synthetic rosters: 5 teams, 3 levels, and three regions with real IANA timezones \
(Americas 40%: Los Angeles, Chicago, New York, São Paulo; EMEA 35%: London, Berlin, \
Johannesburg, Dubai; APAC 25%: Kolkata, Singapore, Tokyo, Sydney). {rounds} weekly rounds \
from {first}, so the US daylight-saving switch falls inside the run; offsets are computed \
per round date. Groups must fit a {hours}h window on the 24-hour clock (Sydney and Los \
Angeles fit: 5h apart across the date line). The history window covers all rounds, so a \
repeat is any pair that met in any earlier round.

Methods, all fed the same rosters and dates:

- **coachbot**: `services.circles.form_circles` with default weights (repeat 100-200 per \
earlier meeting, same team 4, same level 1), seed = round number, told how many rounds \
are left (this one included) and each later round's clocks, as a series knows its round \
dates. With that, rosters of up to 25 in pairs plan every round left as one integer \
program (HiGHS through SciPy: one column per round and possible pair, or three on an odd \
roster; a repeat costs 100 whenever it falls) and take this round from the plan, solving \
again each round. Rosters of up to 100 in fours plan every round left, improve that plan \
as a whole with a tabu search over swaps inside each round, take this round from it and \
hand the plan's later rounds to the next round, which starts from them (as a live series \
does through the database). The first plan comes from an integer program over clock \
groups (how many circles of each mix of clocks each round holds, with the fewest repeats \
that mix forces, and a small cost for filling two clock groups' fresh pairs beyond 85%), \
with circles one smaller or larger than asked allowed up to 40 people. Other \
rosters use the seeded greedy pass and local search. It keeps levels apart as well as \
teams (the same-level column); colette \
weighs teams only.
- **random**: shuffle, then cut into the same group sizes coachbot plans. It ignores \
timezones, so it breaks the window (counted under "window violations") and its floor \
counts everyone as reachable; that wider pool is why, in the small rosters in fours, it \
repeats less than a method that keeps to the window.
- **colette** (PyPI `colette` 0.3.1, pairs only): its own integer program (python-mip with \
CBC) with its default costs: same organisation (= team) 10, a partner from last round \
1,000,000, from 2-12 rounds ago 50, leaving a person out 50. colette knows no \
timezones, so every pair outside the window gets its per-pair override cost of \
10,000,000. With these defaults it prefers leaving someone out over a repeat. Each \
round gets `max_seconds=60` (colette's default is 30).
- **colette-keep**: the same, with the cost of leaving someone out raised to 9,000,000 so \
it only does so when the window or an odd roster forces it (colette has no groups of \
three, so an odd roster always leaves one person out per round).

"""

FLOOR_NOTE = """## The floor

The floor is the fewest repeat pairs that counting alone forces on a schedule. Person i \
meets m_i people over all rounds (group size minus one, each round they are placed) but \
has only d_i people they can ever meet: everyone whose clock is within the window on at \
least one round's date (everyone, for a method that ignores the window). So at least \
m_i - d_i of i's meetings are repeats, and as each repeat pair is two such meetings:

    floor = ceil( sum_i max(0, m_i - d_i) / 2 )

With everyone reachable (d_i = n - 1) and every round in groups of k, m_i = r(k-1) and the \
floor is n/2 * max(0, r(k-1) - (n-1)): pairs repeat only once r > n-1, groups of k once \
r(k-1) > n-1. For 24 people in fours that is after 7 rounds, and 12 rounds force at \
least 24/2 * (36 - 23) = 156 repeats. The floor is computed from each method's own \
meetings, so a method that leaves people out has a lower floor; the "pairs" column shows \
how many meetings each method actually made. It is a lower bound, not always reachable: \
it ignores that the people someone could meet may all be needed by others too (a \
timezone cluster too small for its share of rounds).

For groups, `--bounds` also proves a stronger bound where there is one: the clock-group \
bound. People whose clocks agree on every round's date are interchangeable for the \
window, so any schedule has a mix of clock groups per circle; an integer program over how \
many circles of each mix every round holds (at the schedule's own circle sizes), counting \
each meeting between two clock groups beyond the pairs of people they hold as a repeat, \
gives the fewest repeats any such mix forces. CBC's bound on it is a proof; it is at or \
above the counting floor, and may still be out of reach, as it does not say who sits \
where."""


REPEAT_MINIMUM_MAX_PEOPLE = 30  # a pairs program with threes stays solvable in minutes
# CBC closes the clock-group program for 24 and 25 in fours in seconds; for 60 it had not
# in 5 minutes and its bound was still the counting floor, so only seed 7 gets one there.
GROUP_BOUND_MAX_PEOPLE = 40


def other_rosters(
    configs: list[tuple[int, int]], rounds: int, seeds: list[int], bounds: int = 0
) -> list[str]:
    """One roster can flatter or wrong a method; these sum each small config over several.

    With `bounds`, each roster also gets a proven lower bound on repeats: for pairs, the
    fewest any schedule that places everyone can have (CBC; colette leaves people out, so
    it has none); for groups, the clock-group bound at coachbot's own circle sizes."""
    if not seeds:
        return []
    lines = [
        "## More rosters",
        "",
        f"The small configurations again on rosters drawn the same way with seeds "
        f"{', '.join(map(str, seeds))} (the results above use seed 7), summed over the rosters.",
        "",
        "| people | size | method | repeats above the floor, per roster "
        "| repeats above the proven bound, per roster | same-team rate "
        "| circles with a same-team pair | unmatched person-rounds |",
        "|---:|---:|---|---|---|---:|---:|---:|",
    ]
    for count, size in configs:
        if count > OTHER_ROSTERS_MAX_PEOPLE:
            continue
        print(f"{count} people in groups of {size}, more rosters", file=sys.stderr, flush=True)
        methods: dict[str, Method | str] = {"coachbot": coachbot_method(rounds=rounds)}
        if size == 2:
            for name, drop_cost in (("colette", None), ("colette-keep", KEEP_EVERYONE)):
                methods[name] = colette_method(drop_cost=drop_cost)
        runs = [run_config(count, size, rounds, methods, roster_seed=seed) for seed in seeds]
        fewest = (
            [fewest_repeats(count, rounds, seed, bounds) for seed in seeds]
            if bounds and size == 2 and count <= REPEAT_MINIMUM_MAX_PEOPLE
            else []
        )
        for name in methods:
            tallies = [t for tallies in runs for t in tallies if t.method == name and not t.note]
            if len(tallies) < len(seeds):
                continue
            gaps = [t.repeats - t.floor for t in tallies]
            least = fewest
            if bounds and size > 2 and name == "coachbot" and count <= GROUP_BOUND_MAX_PEOPLE:
                least = [
                    groups_bound(count, rounds, seed, t, bounds)
                    for seed, t in zip(seeds, tallies, strict=True)
                ]
            proven = "–"
            if least and not any(t.unmatched for t in tallies):
                above = [t.repeats - bound for t, bound in zip(tallies, least, strict=True)]
                proven = f"{', '.join(map(str, above))} (total {sum(above)})"
            lines.append(
                f"| {count} | {size} | {name} | {', '.join(map(str, gaps))} (total {sum(gaps)}) | "
                f"{proven} | "
                f"{rate(sum(t.same_team for t in tallies), sum(t.pairs for t in tallies))} | "
                f"{rate(sum(t.team_circles for t in tallies), sum(t.circles for t in tallies))} | "
                f"{sum(t.unmatched for t in tallies)} |"
            )
    lines += [
        "",
        "The proven bound: for pairs, the fewest repeats of any schedule that places everyone "
        "(an integer program over every round, solved by CBC); for groups, the clock-group "
        "bound at coachbot's own circle sizes (see the next section). Where CBC stopped at "
        "its time limit the bound is its best proof so far, still a lower bound.",
    ]
    return [*lines, ""]


def bench_schedule(rows: Sequence[tuple[str, str, str, str]], rounds: int) -> Schedule:
    """The roster as the whole-program references see it: teams, and clocks per round."""
    dates = [FIRST_ROUND + timedelta(weeks=week) for week in range(rounds)]
    return Schedule(
        teams=[row[1] for row in rows],
        offsets=[[p.utc_offset_minutes for p in candidates_on(rows, day)] for day in dates],
        spread=SPREAD,
    )


def fewest_repeats(count: int, rounds: int, seed: int, seconds: int) -> int:
    """The proven fewest repeats of an everyone-placed pairs schedule for this roster."""
    print(f"  {count} in pairs, roster {seed}: fewest repeats", file=sys.stderr, flush=True)
    schedule = bench_schedule(synthetic_roster(count, seed), rounds)
    return pairs_repeat_minimum(schedule, seconds=seconds).proven_minimum


def groups_bound(count: int, rounds: int, seed: int, tally: Tally, seconds: int) -> int:
    """A proven lower bound on repeats for schedules with this tally's circle sizes."""
    print(f"  {count} in groups, roster {seed}: clock-group bound", file=sys.stderr, flush=True)
    schedule = bench_schedule(synthetic_roster(count, seed), rounds)
    sizes = [[len(group) for group in groups] for groups in tally.rounds]
    return groups_repeat_bound(schedule, sizes, seconds=seconds).proven_minimum


def whole_program_references(
    results: Results, rounds: int, seconds: int, swaps_per_seat: int = 2_000
) -> list[Reference]:
    """Small rosters only: a proven same-team minimum for pairs, a schedule search for fours."""
    references: list[Reference] = []
    for count, size, tallies in results if seconds else []:
        ours = next(t for t in tallies if t.method == "coachbot")
        if count > 100 or ours.note or ours.unmatched or ours.repeats == 0:
            continue
        rows = synthetic_roster(count)
        schedule = bench_schedule(rows, rounds)
        matcher = f"{ours.repeats} repeats, {ours.same_team} same-team pairs"
        if size == 2:
            print(f"  {count} in pairs: whole-program integer program", file=sys.stderr)
            bound = pairs_team_bound(schedule, repeats_cap=ours.repeats, seconds=seconds)
            least = bound.proven_minimum
            finding = f"with everyone placed and at most {ours.repeats} repeats: " + (
                f"the fewest same-team pairs any schedule can have is {least} "
                f"({rate(least, ours.pairs)} of {ours.pairs}), proven optimal by CBC"
                if bound.optimal
                else f"at least {least} same-team pairs ({rate(least, ours.pairs)} of "
                f"{ours.pairs}), CBC's bound after {seconds} s; best schedule found: "
                f"{'none' if bound.best_found is None else bound.best_found}"
            )
        else:
            print(f"  {count} in groups of {size}: whole-program search", file=sys.stderr)
            index = {row[0]: position for position, row in enumerate(rows)}
            schedule_rounds = [[[index[k] for k in g] for g in groups] for groups in ours.rounds]
            moves = swaps_per_seat * count * rounds
            found_schedule = whole_program_search(schedule, schedule_rounds, moves=moves)
            sizes = [[len(group) for group in groups] for groups in ours.rounds]
            bound = groups_repeat_bound(schedule, sizes, seconds=seconds)
            proof = "proven optimal" if bound.optimal else f"CBC's bound after {seconds} s"
            finding = (
                f"same group sizes: no schedule has fewer than {bound.proven_minimum} repeats "
                f"(clock-group bound, {proof}; counting floor {ours.floor}); annealed from "
                f"coachbot's schedule ({moves:,} swaps): {found_schedule.repeats} repeats, "
                f"{found_schedule.same_team} same-team pairs (a schedule that exists)"
            )
        references.append(Reference(count, size, matcher, finding))
    return references


def draw_chart(results: Results, path: Path) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "(matplotlib is not installed, so no chart was drawn.)"
    labels = [f"{count}/{size}" for count, size, _ in results]
    names = ["coachbot", "random", "colette", "colette-keep"]
    figure, axes = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    for offset, name in enumerate(names):
        xs, repeat, floor, team = [], [], [], []
        for position, (_, _, tallies) in enumerate(results):
            for t in tallies:
                if t.method == name and not t.note and t.pairs:
                    xs.append(position + (offset - 1.5) * 0.2)
                    repeat.append(100 * t.repeats / t.pairs)
                    floor.append(100 * t.floor / t.pairs)
                    team.append(100 * t.same_team / t.pairs)
        axes[0].bar(xs, repeat, width=0.2, label=name)
        axes[0].scatter(
            xs,
            floor,
            marker="_",
            s=120,
            c="black",
            zorder=3,
            label="floor" if offset == 0 else None,
        )
        axes[1].bar(xs, team, width=0.2, label=name)
    axes[0].set_ylabel("repeat pairs (%)")
    axes[1].set_ylabel("same-team pairs (%)")
    axes[1].set_xticks(range(len(labels)), labels)
    axes[1].set_xlabel("people / group size")
    axes[0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return f"![repeat and same-team rates by method]({path.name})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--only", nargs="*", default=[], help="configs as PEOPLE/SIZE, e.g. 1000/2")
    parser.add_argument("--colette-max", type=int, default=COLETTE_MAX_PEOPLE)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks-circles.md"))
    parser.add_argument(
        "--bounds",
        type=int,
        default=0,
        metavar="SECONDS",
        help="also run the whole-program references, giving each solve this many seconds",
    )
    parser.add_argument(
        "--search-swaps",
        type=int,
        default=2_000,
        metavar="PER_SEAT",
        help="swaps per person and round for the whole-program search of groups (with --bounds)",
    )
    parser.add_argument(
        "--roster-seeds",
        type=lambda text: [int(seed) for seed in text.split(",")],
        default=[],
        help="also sum the small configs over rosters drawn with these seeds, e.g. 7,8,9",
    )
    args = parser.parse_args(argv)
    configs = [tuple(map(int, c.split("/"))) for c in args.only] or list(CONFIGS)
    results: Results = []
    load_at_start = os.getloadavg()[0]
    for count, size in configs:
        print(f"{count} people in groups of {size}", file=sys.stderr, flush=True)
        methods = methods_for(count, size, args.colette_max, args.rounds)
        results.append((count, size, run_config(count, size, args.rounds, methods)))
    references = whole_program_references(results, args.rounds, args.bounds, args.search_swaps)
    more = other_rosters(configs, args.rounds, args.roster_seeds, args.bounds)
    chart = draw_chart(results, args.out.with_suffix(".png"))
    command = shlex.join([".venv/bin/python", "bench/circles.py", *(argv or sys.argv[1:])])
    load = (load_at_start, os.getloadavg()[0])
    page = markdown(results, command, args.rounds, chart, load, [*more, *render(references)])
    args.out.write_text(page)
    print(args.out.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
