"""A cohort broken down by team, level or region, under the rules in kanon.py.

Within each week a group's cell is shown only if the cohort's cell for that week is, it
holds at least k leaders, and the hidden groups of that week together hold at least k
(rule 2). A group's total adds up only its cells that survived, so the cohort's total
minus the groups' totals is a sum of hidden cells each week of which holds k or more.
The plan snapshot and the enrolment count follow rule 2 across the groups directly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Final

from services.metrics.cells import FAMILIES, Cell, engagement, week_cell
from services.metrics.facts import LeaderFacts
from services.metrics.kanon import hidden_parts
from services.metrics.models import GroupMetrics
from services.metrics.plans import days_to_first, snapshot

ATTRIBUTES: Final = ("team", "level", "region")


def _partition(leaders: Sequence[LeaderFacts], by: str) -> dict[str | None, list[LeaderFacts]]:
    groups: dict[str | None, list[LeaderFacts]] = defaultdict(list)
    for leader in leaders:
        groups[leader.attribute(by)].append(leader)
    return dict(groups)


def breakdown(
    *,
    leaders: Sequence[LeaderFacts],
    by: str,
    weeks: Sequence[date],
    shown_weeks: dict[str, set[date]],
    k: int,
) -> list[GroupMetrics]:
    """Program-to-date figures per group, groups ordered by value (no value last)."""
    groups = _partition(leaders, by)
    totals: dict[str | None, dict[str, Cell]] = {g: {f: Cell() for f in FAMILIES} for g in groups}
    lost: set[tuple[str | None, str]] = set()
    for family in FAMILIES:
        for week in weeks:
            if week not in shown_weeks[family]:
                continue
            cells = {g: week_cell(family, members, week) for g, members in groups.items()}
            hidden = hidden_parts({g: frozenset(c.members) for g, c in cells.items()}, k)
            for g, cell in cells.items():
                if g in hidden:
                    lost.add((g, family))
                else:
                    totals[g][family].add(cell)
    enrolled_hidden = hidden_parts(
        {g: frozenset(m.member_id for m in members) for g, members in groups.items()}, k)
    first_hidden = hidden_parts(
        {g: frozenset(m.member_id for m in members if days_to_first(m) is not None)
         for g, members in groups.items()}, k)
    result = []
    for g in sorted(groups, key=lambda value: (value is None, value or "")):
        members = groups[g]
        # A group whose every cell was hidden shows nothing; one that never took part, zeros.
        figures = engagement({f: (None if not cell.members and (g, f) in lost else cell)
                              for f, cell in totals[g].items()})
        result.append(GroupMetrics(
            value=g,
            enrolled=None if g in enrolled_hidden else len(members),
            plans=snapshot(members, k=k, show=g not in enrolled_hidden,
                           show_first=g not in first_hidden),
            **figures.model_dump(),
        ))
    return result
