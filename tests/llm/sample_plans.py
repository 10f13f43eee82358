"""Plain factories for nudge contexts: one leader's plan with another leader's rows mixed in."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from services.nudges.context import (
    Audience,
    GoalFacts,
    MilestoneFacts,
    NoteFacts,
    build_nudge_context,
)
from services.nudges.schema import NudgeContext
from services.plans.models import GoalStatus, MilestoneStatus, Visibility

TODAY = date(2025, 3, 10)
MAYA = 7
ALICE = 8

AT_RISK_GOAL = 101
ON_TRACK_GOAL = 102
DONE_GOAL = 103
DROPPED_GOAL = 104
OVERDUE_MILESTONE = 201
LATER_MILESTONE = 202
DONE_MILESTONE = 203
ON_TRACK_MILESTONE = 204
ALICE_GOAL = 301
ALICE_MILESTONE = 401
ALICE_GOAL_TITLE = "Quietly restructure the Lisbon analytics team"
ALICE_NOTE = "Told HR about the restructure before the team knows"
OTHER_PEOPLE = ("Alice Moreau", "Alice", "Carlos Ruiz", "Carlos", "Sam Lee")


def days_ago(days: int) -> datetime:
    return datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0, tzinfo=UTC) - timedelta(days=days)


@dataclass
class PlanFacts:
    goals: list[GoalFacts] = field(default_factory=list)
    milestones: list[MilestoneFacts] = field(default_factory=list)
    notes: list[NoteFacts] = field(default_factory=list)


def maya_plan() -> PlanFacts:
    """Maya's plan (an at-risk goal with an overdue milestone, an on-track one, a done and a
    dropped goal), plus Alice's goal, milestone and note, as a careless caller might pass them."""
    goals = [
        GoalFacts(
            id=AT_RISK_GOAL, member_id=MAYA, title="Delegate the weekly operations report",
            why="I spend Friday afternoons on it and my team never sees the whole picture.",
            competency="Delegation", status=GoalStatus.at_risk, visibility=Visibility.coach,
        ),
        GoalFacts(
            id=ON_TRACK_GOAL, member_id=MAYA, title="Speak up earlier in executive reviews",
            why="My point lands better before the decision is made.",
            competency="Stakeholder management", status=GoalStatus.on_track,
            visibility=Visibility.private,
        ),
        GoalFacts(
            id=DONE_GOAL, member_id=MAYA, title="Write the incident communication playbook",
            status=GoalStatus.done, visibility=Visibility.coach,
        ),
        GoalFacts(
            id=DROPPED_GOAL, member_id=MAYA, title="Learn SQL for the dashboards",
            status=GoalStatus.dropped, visibility=Visibility.coach,
        ),
        GoalFacts(
            id=ALICE_GOAL, member_id=ALICE, title=ALICE_GOAL_TITLE,
            status=GoalStatus.at_risk, visibility=Visibility.coach,
        ),
    ]
    milestones = [
        MilestoneFacts(
            id=OVERDUE_MILESTONE, goal_id=AT_RISK_GOAL,
            title="Write hand-over notes for the report",
            status=MilestoneStatus.open, due_date=TODAY - timedelta(days=3),
        ),
        MilestoneFacts(
            id=LATER_MILESTONE, goal_id=AT_RISK_GOAL, title="Shadow the first hand-over",
            status=MilestoneStatus.open, due_date=TODAY + timedelta(days=10),
        ),
        MilestoneFacts(
            id=DONE_MILESTONE, goal_id=AT_RISK_GOAL, title="List the report's sections",
            status=MilestoneStatus.done, due_date=TODAY - timedelta(days=20),
        ),
        MilestoneFacts(
            id=ON_TRACK_MILESTONE, goal_id=ON_TRACK_GOAL,
            title="Prepare one question before the next review",
            status=MilestoneStatus.in_progress, due_date=TODAY + timedelta(days=4),
        ),
        MilestoneFacts(
            id=205, goal_id=DONE_GOAL, title="Publish the playbook", status=MilestoneStatus.done,
        ),
        MilestoneFacts(
            id=ALICE_MILESTONE, goal_id=ALICE_GOAL, title="Draft the new org chart",
            status=MilestoneStatus.open, due_date=TODAY,
        ),
    ]
    notes = [
        NoteFacts(
            member_id=MAYA, goal_id=AT_RISK_GOAL, text="Asked Priya's team lead to pair on it.",
            recorded_at=days_ago(2), visibility=Visibility.coach, confidence=3,
        ),
        NoteFacts(
            member_id=MAYA, text="Too many meetings; the hand-over keeps slipping.",
            question="What got in the way this week?", recorded_at=days_ago(1),
            visibility=Visibility.coach,
        ),
        NoteFacts(
            member_id=MAYA, goal_id=ON_TRACK_GOAL, text="Raised the pricing risk first this time.",
            recorded_at=days_ago(6), visibility=Visibility.private, confidence=4,
        ),
        NoteFacts(
            member_id=MAYA, goal_id=DONE_GOAL, text="Playbook shipped.",
            recorded_at=days_ago(12), visibility=Visibility.coach,
        ),
        NoteFacts(
            member_id=ALICE, goal_id=ALICE_GOAL, text=ALICE_NOTE, recorded_at=days_ago(1),
            visibility=Visibility.coach,
        ),
    ]
    return PlanFacts(goals=goals, milestones=milestones, notes=notes)


def context_from(
    plan: PlanFacts,
    *,
    audience: Audience = Audience.leader,
    token_budget: int = 1500,
    first_name: str = "Maya",
) -> NudgeContext:
    return build_nudge_context(
        leader_id=MAYA,
        first_name=first_name,
        local_date=TODAY,
        goals=plan.goals,
        milestones=plan.milestones,
        notes=plan.notes,
        cohort_focus=["Delegation", "Giving feedback"],
        other_people=OTHER_PEOPLE,
        audience=audience,
        token_budget=token_budget,
    )


def maya_context(**options: object) -> NudgeContext:
    return context_from(maya_plan(), **options)  # type: ignore[arg-type]


INJECTION_PLACES = ("goal_title", "goal_why", "milestone_title", "progress_note", "answer")


def with_injection(plan: PlanFacts, *, text: str, place: str) -> PlanFacts:
    """The same plan with `text` written by Maya into one of her own fields."""
    goals, milestones, notes = list(plan.goals), list(plan.milestones), list(plan.notes)
    if place == "goal_title":
        goals[0] = replace(goals[0], title=text)
    elif place == "goal_why":
        goals[0] = replace(goals[0], why=text)
    elif place == "milestone_title":
        milestones[0] = replace(milestones[0], title=text)
    elif place == "progress_note":
        notes[0] = replace(notes[0], text=text)
    elif place == "answer":
        notes[1] = replace(notes[1], text=text)
    else:
        raise ValueError(place)
    return PlanFacts(goals=goals, milestones=milestones, notes=notes)
