"""k-anonymity on cohorts of 4, 5 and 6 (k = 5), and the subtraction attempts an owner
could make: whole minus parts, one period minus another, before and after someone leaves,
and this week's figures."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import actor_for
from services.metrics import export
from services.metrics.kanon import hidden_parts
from services.metrics.models import CohortMetrics
from services.metrics.service import cohort_metrics
from services.people.models import Enrollment, EnrollmentStatus
from tests.metrics.factories import checkin, make_schedule
from tests.metrics.world import CURRENT_WEEK, NOW, WEEKS, Cohorts, build_cohort


async def metrics(session: AsyncSession, world: Cohorts, **options: Any) -> CohortMetrics:
    actor = await actor_for(session=session, workspace_id=world.workspace.id or 0,
                            role=Role.owner, member_id=world.owner.id)
    return await cohort_metrics(session=session, actor=actor, cohort_id=world.cohort.id or 0,
                                now=NOW, **options)


def figures_in(data: Any) -> list[Any]:
    """Every number anywhere in a response, apart from the counts of enrolled people."""
    if isinstance(data, dict):
        return [n for key, value in data.items()
                if key not in ("enrolled", "cohort_id", "k_anonymity_min", "weeks_hidden")
                for n in figures_in(value)]
    if isinstance(data, list):
        return [n for item in data for n in figures_in(item)]
    return [data] if isinstance(data, int | float) and not isinstance(data, bool) else []


async def test_a_cohort_of_four_shows_nothing_but_its_size(session: AsyncSession) -> None:
    world = await build_cohort(session, leaders=4)
    result = await metrics(session, world, by="team")
    assert result.suppressed and result.enrolled == 4
    assert figures_in(result.model_dump()) == []
    assert all(row[4] == "" for row in export.cohort_rows(result)
               if row[3] != "enrolled" and not row[3].startswith("weeks_hidden"))


@pytest.mark.parametrize("size", [5, 6])
async def test_cohorts_of_five_and_six_show_their_figures(
    session: AsyncSession, size: int
) -> None:
    world = await build_cohort(session, leaders=size)
    result = await metrics(session, world)
    assert not result.suppressed
    assert [week.week_start for week in result.weeks] == WEEKS
    week = result.weeks[0]
    assert week.enrolled == size
    assert week.checkins.model_dump() == {
        "suppressed": False, "leaders": size, "sent": size, "answered": size - 1,
        "response_rate": round((size - 1) / size, 4)}
    assert result.weeks[1].milestones.completed == size
    assert result.weeks[2].nudges.sent == size
    assert result.weeks[2].nudges.helpful == size // 2
    assert result.totals.checkins.sent == 5 * size
    assert result.plans.milestones_planned == 2 * size
    assert result.plans.completion_rate == 0.5
    assert result.plans.goals_by_status is not None
    assert result.plans.goals_by_status["on_track"] == size
    # Everyone joined on 2025-01-20 and completed a milestone on 2025-02-12.
    assert result.plans.median_days_to_first_milestone == 23.5


async def test_this_weeks_figures_are_nowhere(session: AsyncSession) -> None:
    """A week under way grows by the day: two readings would show the few in between."""
    world = await build_cohort(session, leaders=6)
    result = await metrics(session, world)
    assert result.last_complete_week == WEEKS[-1]
    assert CURRENT_WEEK not in [week.week_start for week in result.weeks]
    assert result.totals.checkins.sent == 5 * 6  # the current week's check-ins are left out


async def test_a_small_week_is_hidden_and_left_out_of_the_total(session: AsyncSession) -> None:
    world = await build_cohort(session, leaders=6)
    schedule = await make_schedule(session, world.cohort)
    # An extra check-in sent to three leaders only, in a week of its own population.
    for member in world.leaders[:3]:
        await checkin(session, schedule, member, WEEKS[3] + timedelta(days=2), answered=True)
    await session.commit()
    result = await metrics(session, world)
    week = result.weeks[3]
    # The week still has six leaders in it, so it shows; its figures include the extra three.
    assert week.checkins.sent == 9
    # Now a week holding only the three: the whole week is suppressed ...
    other = await build_cohort(session, leaders=6)
    schedule = await make_schedule(session, other.cohort)
    quiet = CURRENT_WEEK - timedelta(weeks=6)  # before the program's check-ins began
    for member in other.leaders[:3]:
        await checkin(session, schedule, member, quiet, answered=True)
    other.cohort.start_date = quiet
    session.add(other.cohort)
    await session.commit()
    result = await metrics(session, other, weeks=6)
    hidden = result.weeks[0]
    assert hidden.week_start == quiet and hidden.checkins.suppressed
    assert hidden.checkins.sent is None
    # ... and the total adds up only the shown weeks: total - shown weeks = 0, nothing learnt.
    shown = sum(week.checkins.sent or 0 for week in result.weeks)
    assert result.totals.checkins.sent == shown == 30
    assert result.weeks_hidden["checkins"] == 1


async def test_asking_for_more_weeks_does_not_change_the_totals(session: AsyncSession) -> None:
    world = await build_cohort(session, leaders=6)
    two = await metrics(session, world, weeks=2)
    three = await metrics(session, world, weeks=3)
    assert len(two.weeks) == 2 and len(three.weeks) == 3
    assert two.totals == three.totals  # no window minus another window


async def test_leaving_does_not_change_the_past(session: AsyncSession) -> None:
    """Six minus the one who left would be that one person's figures."""
    world = await build_cohort(session, leaders=6)
    before = (await metrics(session, world)).model_dump()
    row = (await session.exec(
        select(Enrollment).where(Enrollment.member_id == world.leaders[5].id))).one()
    row.status = EnrollmentStatus.left
    session.add(row)
    await session.commit()
    after = (await metrics(session, world)).model_dump()
    assert after.pop("enrolled") == 5 and before.pop("enrolled") == 6
    assert json.dumps(after, default=str) == json.dumps(before, default=str)


async def test_a_lone_team_is_hidden_with_its_complement(session: AsyncSession) -> None:
    """Cohort of 6: team A of 5 and team B of 1. Showing A next to the cohort would give B
    away by subtraction, so A is hidden too."""
    world = await build_cohort(session, leaders=6, teams=["A"] * 5 + ["B"])
    result = await metrics(session, world, by="team")
    assert [group.value for group in result.groups] == ["A", "B"]
    for group in result.groups:
        assert group.enrolled is None
        assert group.checkins.suppressed and group.plans.suppressed
    assert result.totals.checkins.sent == 30


async def test_the_smallest_shown_group_is_hidden_to_cover_a_small_one(
    session: AsyncSession
) -> None:
    """Twelve leaders: A 5, B 6, and one with no team. The one is hidden; A (the smallest
    other) joins it; B stays, and the cohort minus B is A and the one together: six."""
    world = await build_cohort(session, leaders=12, teams=["A"] * 5 + ["B"] * 6 + [None])
    result = await metrics(session, world, by="team")
    groups = {group.value: group for group in result.groups}
    assert groups["B"].enrolled == 6 and not groups["B"].checkins.suppressed
    assert groups["B"].checkins.sent == 30
    assert groups["A"].enrolled is None and groups["A"].checkins.suppressed
    assert groups[None].enrolled is None and groups[None].checkins.suppressed
    hidden_sent = result.totals.checkins.sent - groups["B"].checkins.sent  # type: ignore[operator]
    assert hidden_sent == 6 * 5  # six people's check-ins together, never one person's


def test_hidden_parts_rule() -> None:
    parts = {"a": frozenset(range(5)), "b": frozenset({5}), "c": frozenset(range(6, 13)),
             "d": frozenset()}
    assert hidden_parts(parts, 5) == {"a", "b"}
    assert hidden_parts({"a": frozenset(range(5)), "b": frozenset(range(5, 10))}, 5) == set()
    assert hidden_parts({"a": frozenset({1, 2}), "b": frozenset({3, 4, 5})}, 5) == {"a", "b"}
