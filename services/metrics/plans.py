"""The plan snapshot of a group of leaders: goals by status, milestones, time to the first."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence

from services.metrics.facts import LeaderFacts
from services.metrics.models import PlanSnapshot
from services.plans.models import GoalStatus

SECONDS_PER_DAY = 86_400


def days_to_first(leader: LeaderFacts) -> float | None:
    """Days from joining to the first completed milestone (0 when it came before joining)."""
    if leader.first_done_at is None:
        return None
    return max(0.0, (leader.first_done_at - leader.started_at).total_seconds() / SECONDS_PER_DAY)


def snapshot(leaders: Sequence[LeaderFacts], *, k: int, show: bool = True,
             show_first: bool = True) -> PlanSnapshot:
    """The group's plans, or a suppressed snapshot when the group (or, for the time to the
    first milestone, those who have completed one) is below k or was hidden by rule 2."""
    if not show or len(leaders) < k:
        return PlanSnapshot(suppressed=True)
    goals: Counter[str] = Counter({status.value: 0 for status in GoalStatus})
    for leader in leaders:
        goals.update(leader.goals_by_status)
    planned = sum(leader.milestones_planned for leader in leaders)
    done = sum(leader.milestones_done for leader in leaders)
    firsts = [d for d in (days_to_first(leader) for leader in leaders) if d is not None]
    first_shown = show_first and len(firsts) >= k
    return PlanSnapshot(
        leaders=len(leaders), goals_by_status=dict(goals), milestones_planned=planned,
        milestones_done=done, completion_rate=round(done / planned, 4) if planned else None,
        first_milestone_leaders=len(firsts) if first_shown else None,
        median_days_to_first_milestone=(round(statistics.median(firsts), 2) if first_shown
                                        else None),
    )
