"""The offline drafter: the most urgent open item, a specific nudge, always valid."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.llm import DraftMode, DraftOutcome, OfflineDrafter
from services.nudges.offline import FocusKind, compose_offline_draft, most_urgent
from services.nudges.schema import ContextGoal, ContextMilestone, NudgeContext
from services.nudges.validation import validate_draft
from services.plans.models import GoalStatus, MilestoneStatus
from tests.llm.sample_plans import (
    AT_RISK_GOAL,
    LATER_MILESTONE,
    ON_TRACK_GOAL,
    ON_TRACK_MILESTONE,
    OTHER_PEOPLE,
    OVERDUE_MILESTONE,
    TODAY,
    context_from,
    maya_context,
    maya_plan,
)


def test_overdue_milestone_comes_first_and_is_quoted() -> None:
    offline = compose_offline_draft(context=maya_context())
    assert offline is not None
    draft = offline.draft
    assert (draft.cited_goal_id, draft.cited_milestone_id) == (AT_RISK_GOAL, OVERDUE_MILESTONE)
    assert "Write hand-over notes for the report" in draft.text
    assert "3 days ago" in draft.text
    assert draft.text.startswith("Hi Maya,")
    assert offline.prompt_version == "nudges/offline_overdue@1"


def test_then_the_nearest_due_date() -> None:
    plan = maya_plan()
    plan.milestones[0] = replace(plan.milestones[0], status=MilestoneStatus.done)
    focus = most_urgent(context=context_from(plan))
    assert focus is not None
    assert (focus.kind, focus.milestone and focus.milestone.id, focus.days) == (
        FocusKind.upcoming, ON_TRACK_MILESTONE, 4,
    )


def test_then_at_risk_goals_then_any_open_goal() -> None:
    plan = maya_plan()
    plan.milestones = [replace(m, due_date=None) for m in plan.milestones]
    focus = most_urgent(context=context_from(plan))
    assert focus is not None
    assert (focus.kind, focus.goal.id) == (FocusKind.at_risk, AT_RISK_GOAL)
    assert focus.milestone is not None
    assert focus.milestone.id in {OVERDUE_MILESTONE, LATER_MILESTONE}

    plan.goals[0] = replace(plan.goals[0], status=GoalStatus.on_track)
    focus = most_urgent(context=context_from(plan))
    assert focus is not None
    assert (focus.kind, focus.goal.id) == (FocusKind.open_goal, AT_RISK_GOAL)


def test_off_track_outranks_at_risk() -> None:
    plan = maya_plan()
    plan.milestones = []
    plan.goals[1] = replace(plan.goals[1], status=GoalStatus.off_track)
    focus = most_urgent(context=context_from(plan))
    assert focus is not None and focus.goal.id == ON_TRACK_GOAL
    offline = compose_offline_draft(context=context_from(plan))
    assert offline is not None and "off track" in offline.draft.text


def test_titles_that_would_fail_validation_are_not_quoted() -> None:
    plan = maya_plan()
    plan.milestones[0] = replace(plan.milestones[0], title="Hand over to Carlos Ruiz @channel")
    context = context_from(plan)
    offline = compose_offline_draft(context=context)
    assert offline is not None
    assert offline.prompt_version == "nudges/offline_plain@1"
    assert offline.draft.cited_goal_id == AT_RISK_GOAL
    assert "Carlos" not in offline.draft.text and "@" not in offline.draft.text
    assert validate_draft(draft=offline.draft, context=context) == []


def test_no_open_goal_means_no_draft() -> None:
    plan = maya_plan()
    plan.goals = [replace(g, status=GoalStatus.done) for g in plan.goals]
    assert compose_offline_draft(context=context_from(plan)) is None


def test_deterministic() -> None:
    assert compose_offline_draft(context=maya_context()) == compose_offline_draft(
        context=maya_context()
    )


async def test_offline_drafter_records_its_template(offline: OfflineDrafter) -> None:
    result = await offline.draft(context=maya_context())
    assert result.draft is not None
    assert result.record.model == "offline"
    assert result.record.mode is DraftMode.offline
    assert result.record.outcome is DraftOutcome.ok
    assert result.record.prompt_version == "nudges/offline_overdue@1"


# --- property: whatever the leader wrote, the offline draft is valid --------------------------

texts = st.text(min_size=1, max_size=250)
names = st.sampled_from(OTHER_PEOPLE)


@st.composite
def contexts(draw: st.DrawFn) -> NudgeContext:
    goal_count = draw(st.integers(min_value=1, max_value=4))
    goals = tuple(
        ContextGoal(
            id=i + 1,
            title=draw(texts | names),
            why=draw(st.none() | texts),
            status=draw(st.sampled_from(list(GoalStatus))),
        )
        for i in range(goal_count)
    )
    milestones = tuple(
        ContextMilestone(
            id=100 + i,
            goal_id=draw(st.integers(min_value=1, max_value=goal_count)),
            title=draw(texts | names.map(lambda n: f"Ask {n} @here")),
            due_date=draw(st.none() | st.integers(-400, 400).map(lambda d: TODAY + timedelta(d))),
            status=draw(st.sampled_from(list(MilestoneStatus))),
        )
        for i in range(draw(st.integers(min_value=0, max_value=6)))
    )
    return NudgeContext(
        leader_first_name=draw(st.sampled_from(["Maya", "Jo", "Anne-Marie", "@here", "", "<!x>"])),
        local_date=TODAY,
        goals=goals,
        milestones=milestones,
        other_people=frozenset(OTHER_PEOPLE),
    )


@settings(max_examples=150, deadline=None)
@given(context=contexts())
def test_offline_draft_always_validates(context: NudgeContext) -> None:
    offline = compose_offline_draft(context=context)
    if not context.open_goals:
        assert offline is None
        return
    assert offline is not None
    assert validate_draft(draft=offline.draft, context=context) == []
