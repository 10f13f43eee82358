"""The offline drafter: a deterministic nudge about the leader's most urgent open milestone."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.nudges.schema import ContextGoal, ContextMilestone, NudgeContext, NudgeDraft
from services.nudges.validation import validate_draft
from services.plans.models import GoalStatus
from services.prompts import render_prompt

OFFLINE_MODEL = "offline"
# Quoted titles are clipped so that every template stays well inside the text limit.
MAX_QUOTED_CHARS = 80
MAX_NAME_CHARS = 40
URGENCY = {GoalStatus.off_track: 0, GoalStatus.at_risk: 1}


class FocusKind(StrEnum):
    overdue = "overdue"
    upcoming = "upcoming"
    at_risk = "at_risk"
    open_goal = "open_goal"


@dataclass(frozen=True, slots=True)
class Focus:
    """What the nudge is about, and how many days overdue (or until due) it is."""

    kind: FocusKind
    goal: ContextGoal
    milestone: ContextMilestone | None
    days: int = 0


@dataclass(frozen=True, slots=True)
class OfflineDraft:
    draft: NudgeDraft
    prompt_version: str


def most_urgent(*, context: NudgeContext) -> Focus | None:
    """Overdue milestones first, then the nearest due date, then at-risk goals, then any goal."""
    open_goals = {g.id: g for g in context.open_goals}
    if not open_goals:
        return None
    milestones = [m for m in context.milestones if m.is_open and m.goal_id in open_goals]
    dated = sorted(
        ((m.due_date, m) for m in milestones if m.due_date is not None),
        key=lambda pair: (pair[0], pair[1].id),
    )
    if dated:
        due_date, first = dated[0]
        days = (due_date - context.local_date).days
        kind = FocusKind.overdue if days < 0 else FocusKind.upcoming
        return Focus(kind=kind, goal=open_goals[first.goal_id], milestone=first, days=abs(days))
    ranked = sorted(open_goals.values(), key=lambda g: (URGENCY.get(g.status, len(URGENCY)), g.id))
    goal = ranked[0]
    milestone = next((m for m in milestones if m.goal_id == goal.id), None)
    kind = FocusKind.at_risk if goal.status in URGENCY else FocusKind.open_goal
    return Focus(kind=kind, goal=goal, milestone=milestone)


def compose_offline_draft(*, context: NudgeContext) -> OfflineDraft | None:
    """A nudge from `prompts/nudges/offline_*.j2` that passes validation; None if no open goal."""
    focus = most_urgent(context=context)
    if focus is None:
        return None
    # The leader's own words may contain things a nudge must not carry (a colleague's name,
    # a link, "@channel"). Each fallback quotes less of them, the last one nothing at all.
    attempts = (
        (focus.kind.value, True, context.leader_first_name),
        ("plain", False, context.leader_first_name),
        ("plain", False, "there"),
    )
    for template, quote_titles, first_name in attempts:
        offline = _render(focus=focus, template=template, quote=quote_titles, first_name=first_name)
        if not validate_draft(draft=offline.draft, context=context):
            return offline
    return None


def _render(*, focus: Focus, template: str, quote: bool, first_name: str) -> OfflineDraft:
    milestone = focus.milestone
    milestone_title = _clip(milestone.title, MAX_QUOTED_CHARS) if milestone and quote else None
    rendered = render_prompt(
        name=f"nudges/offline_{template}",
        variables={
            "first_name": _clip(first_name, MAX_NAME_CHARS) or "there",
            "goal_title": _clip(focus.goal.title, MAX_QUOTED_CHARS) if quote else None,
            "goal_status": focus.goal.status.value,
            "milestone_title": milestone_title,
            "days": focus.days,
        },
    )
    draft = NudgeDraft(
        text=_one_paragraph(rendered.blocks["text"]),
        cited_goal_id=focus.goal.id,
        cited_milestone_id=focus.milestone.id if focus.milestone is not None else None,
        rationale=_one_paragraph(rendered.blocks["rationale"]),
        suggested_action=_one_paragraph(rendered.blocks["action"]),
    )
    return OfflineDraft(draft=draft, prompt_version=rendered.versioned_name)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _one_paragraph(text: str) -> str:
    return " ".join(text.split())
