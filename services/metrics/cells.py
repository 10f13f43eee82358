"""Cells: the leaders and the counts behind one figure, and the figures they become.

A cell is one metric family (check-ins, milestones, circles, nudges) over one population
in one week (or a total of weeks). Whether a cell may be shown is decided in kanon.py;
here a cell only adds up and turns into the API's figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

from services.metrics.facts import LeaderFacts, WeekFacts
from services.metrics.models import (
    CheckinFigures,
    CircleFigures,
    Engagement,
    MilestoneFigures,
    NudgeFigures,
)

FAMILIES: Final = ("checkins", "milestones", "circles", "nudges")
_EMPTY = WeekFacts()


@dataclass
class Cell:
    """The leaders a figure is about and what they add up to."""

    members: set[int] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, other: Cell) -> None:
        self.members |= other.members
        self.counts.update(other.counts)


def _week_end(week: date) -> date:
    return week + timedelta(days=6)


def _checkins(leader: LeaderFacts, week: date, facts: WeekFacts) -> dict[str, int] | None:
    if not facts.checkins_sent:
        return None
    return {"sent": facts.checkins_sent, "answered": facts.checkins_answered}


def _milestones(leader: LeaderFacts, week: date, facts: WeekFacts) -> dict[str, int] | None:
    # Everyone enrolled by the week's end could have completed one: they are the population.
    if leader.enrolled_on > _week_end(week) and not facts.milestones_completed:
        return None
    return {"completed": facts.milestones_completed}


def _circles(leader: LeaderFacts, week: date, facts: WeekFacts) -> dict[str, int] | None:
    if not facts.circle_invited:
        return None
    return {"invited": facts.circle_invited, "answered": facts.circle_answered,
            "met": facts.circle_met}


def _nudges(leader: LeaderFacts, week: date, facts: WeekFacts) -> dict[str, int] | None:
    if not facts.nudges_sent:
        return None
    return {"sent": facts.nudges_sent, "rated": facts.nudges_rated,
            "helpful": facts.nudges_helpful}


CONTRIBUTION: Final[dict[str, Callable[[LeaderFacts, date, WeekFacts],
                                       dict[str, int] | None]]] = {
    "checkins": _checkins,
    "milestones": _milestones,
    "circles": _circles,
    "nudges": _nudges,
}


def week_cell(family: str, leaders: Iterable[LeaderFacts], week: date) -> Cell:
    """One family's cell for these leaders in one week."""
    cell = Cell()
    contribute = CONTRIBUTION[family]
    for leader in leaders:
        found = contribute(leader, week, leader.weeks.get(week, _EMPTY))
        if found is not None:
            cell.members.add(leader.member_id)
            cell.counts.update(found)
    return cell


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _checkin_figures(cell: Cell | None) -> CheckinFigures:
    if cell is None:
        return CheckinFigures(suppressed=True)
    c = cell.counts
    return CheckinFigures(leaders=len(cell.members), sent=c["sent"], answered=c["answered"],
                          response_rate=_rate(c["answered"], c["sent"]))


def _milestone_figures(cell: Cell | None) -> MilestoneFigures:
    if cell is None:
        return MilestoneFigures(suppressed=True)
    return MilestoneFigures(leaders=len(cell.members), completed=cell.counts["completed"])


def _circle_figures(cell: Cell | None) -> CircleFigures:
    if cell is None:
        return CircleFigures(suppressed=True)
    c = cell.counts
    return CircleFigures(leaders=len(cell.members), invited=c["invited"],
                         answered=c["answered"], met=c["met"],
                         attendance_rate=_rate(c["met"], c["answered"]))


def _nudge_figures(cell: Cell | None) -> NudgeFigures:
    if cell is None:
        return NudgeFigures(suppressed=True)
    c = cell.counts
    return NudgeFigures(leaders=len(cell.members), sent=c["sent"], rated=c["rated"],
                        helpful=c["helpful"], helpful_rate=_rate(c["helpful"], c["rated"]))


def engagement(cells: dict[str, Cell | None]) -> Engagement:
    """Figures for every family; a family missing or None is suppressed."""
    return Engagement(
        checkins=_checkin_figures(cells.get("checkins")),
        milestones=_milestone_figures(cells.get("milestones")),
        circles=_circle_figures(cells.get("circles")),
        nudges=_nudge_figures(cells.get("nudges")),
    )
