"""Build a nudge context from one leader's plan rows, filtered for visibility, within a budget."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.nudges.schema import (
    ContextGoal,
    ContextMilestone,
    ContextNote,
    NoteKind,
    NudgeContext,
)
from services.plans.models import OPEN_GOAL_STATUSES, GoalStatus, MilestoneStatus, Visibility

DEFAULT_TOKEN_BUDGET = 1500
MAX_NOTES = 20
MAX_TITLE_CHARS = 200
MAX_WHY_CHARS = 600
MAX_NOTE_CHARS = 600
TRIMMED_WHY_CHARS = 160
CHARS_PER_TOKEN = 4


class Audience(StrEnum):
    """Who will read the draft before it is final: the leader alone, or their coach first."""

    leader = "leader"
    coach_review = "coach_review"


# The leader owns every one of their own goals, so a nudge sent only to them may draw on all
# of it. A draft a coach reviews first may only use what the coach is allowed to read.
VISIBLE_TO = {
    Audience.leader: frozenset(Visibility),
    Audience.coach_review: frozenset({Visibility.coach}),
}


@dataclass(frozen=True, slots=True)
class GoalFacts:
    id: int
    member_id: int
    title: str
    status: GoalStatus
    visibility: Visibility
    why: str | None = None
    competency: str | None = None


@dataclass(frozen=True, slots=True)
class MilestoneFacts:
    id: int
    goal_id: int
    title: str
    status: MilestoneStatus
    due_date: date | None = None


@dataclass(frozen=True, slots=True)
class NoteFacts:
    """A progress update or a check-in answer; `question` is set for answers."""

    member_id: int
    text: str
    recorded_at: datetime
    visibility: Visibility
    goal_id: int | None = None
    question: str | None = None
    confidence: int | None = None


def build_nudge_context(
    *,
    leader_id: int,
    first_name: str,
    local_date: date,
    goals: Iterable[GoalFacts],
    milestones: Iterable[MilestoneFacts],
    notes: Iterable[NoteFacts],
    cohort_focus: Iterable[str] = (),
    other_people: Iterable[str] = (),
    audience: Audience = Audience.leader,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
) -> NudgeContext:
    """The leader's own open goals, their milestones and recent visible notes, within a budget."""
    visible = VISIBLE_TO[audience]
    # Rows of anyone else are dropped here even if a caller passes them by mistake.
    own_goals = [
        g for g in goals
        if g.member_id == leader_id and g.visibility in visible and g.status in OPEN_GOAL_STATUSES
    ]
    goal_ids = {g.id for g in own_goals}
    own_notes = sorted(
        (
            n for n in notes
            if n.member_id == leader_id and n.visibility in visible
            and (n.goal_id is None or n.goal_id in goal_ids)
        ),
        key=lambda n: n.recorded_at,
        reverse=True,
    )[:MAX_NOTES]
    context = NudgeContext(
        leader_first_name=_clip(first_name, 60),
        local_date=local_date,
        cohort_focus=tuple(_clip(c, 100) for c in cohort_focus),
        goals=tuple(_context_goal(g) for g in sorted(own_goals, key=lambda g: g.id)),
        milestones=tuple(
            _context_milestone(m) for m in milestones if m.goal_id in goal_ids
        ),
        notes=tuple(_context_note(n) for n in own_notes),
        other_people=frozenset(name.strip() for name in other_people if name.strip()),
    )
    return fit_to_budget(context=context, token_budget=token_budget)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _context_goal(goal: GoalFacts) -> ContextGoal:
    return ContextGoal(
        id=goal.id,
        title=_clip(goal.title, MAX_TITLE_CHARS),
        why=_clip(goal.why, MAX_WHY_CHARS) if goal.why else None,
        competency=_clip(goal.competency, 100) if goal.competency else None,
        status=goal.status,
    )


def _context_milestone(milestone: MilestoneFacts) -> ContextMilestone:
    return ContextMilestone(
        id=milestone.id,
        goal_id=milestone.goal_id,
        title=_clip(milestone.title, MAX_TITLE_CHARS),
        due_date=milestone.due_date,
        status=milestone.status,
    )


def _context_note(note: NoteFacts) -> ContextNote:
    return ContextNote(
        kind=NoteKind.answer if note.question is not None else NoteKind.progress,
        recorded_on=note.recorded_at.date(),
        goal_id=note.goal_id,
        question=_clip(note.question, MAX_TITLE_CHARS) if note.question is not None else None,
        text=_clip(note.text, MAX_NOTE_CHARS),
        confidence=note.confidence,
    )


# --- what the model sees ----------------------------------------------------------------


def render_context_json(*, context: NudgeContext) -> str:
    """The context as JSON that can sit inside a tagged fence without ever closing it."""
    payload = context.model_dump(mode="json", exclude_none=True)
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    # Inside JSON, `<`, `>` and `&` only occur within strings, where \u escapes mean the same
    # thing; escaping them means no value can spell the closing tag of the data fence.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def estimate_tokens(text: str) -> int:
    """A rough token count (four characters a token), enough to keep prompts within budget."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def context_tokens(*, context: NudgeContext) -> int:
    """Approximate tokens the context takes up in a prompt."""
    return estimate_tokens(render_context_json(context=context))


def fit_to_budget(*, context: NudgeContext, token_budget: int) -> NudgeContext:
    """Shrink the context until it fits: oldest notes go first, open goals go last."""
    while context_tokens(context=context) > token_budget:
        smaller = _shrink_once(context)
        if smaller is None:
            break
        context = smaller
    return context


def _shrink_once(context: NudgeContext) -> NudgeContext | None:
    steps: tuple[Callable[[NudgeContext], NudgeContext | None], ...] = (
        _drop_oldest_note,
        _drop_closed_milestone,
        _shorten_longest_why,
        _drop_latest_milestone,
        _drop_calmest_goal,
    )
    for step in steps:
        smaller = step(context)
        if smaller is not None:
            return smaller
    return None


def _drop_oldest_note(context: NudgeContext) -> NudgeContext | None:
    if not context.notes:
        return None
    return context.model_copy(update={"notes": context.notes[:-1]})


def _drop_closed_milestone(context: NudgeContext) -> NudgeContext | None:
    closed = next((m for m in context.milestones if not m.is_open), None)
    if closed is None:
        return None
    return context.model_copy(
        update={"milestones": tuple(m for m in context.milestones if m is not closed)}
    )


def _shorten_longest_why(context: NudgeContext) -> NudgeContext | None:
    longest = max(context.goals, key=lambda g: len(g.why or ""), default=None)
    if longest is None or len(longest.why or "") <= TRIMMED_WHY_CHARS:
        return None
    shorter = longest.model_copy(update={"why": _clip(longest.why or "", TRIMMED_WHY_CHARS)})
    return context.model_copy(
        update={"goals": tuple(shorter if g is longest else g for g in context.goals)}
    )


def _drop_latest_milestone(context: NudgeContext) -> NudgeContext | None:
    # Keep at least one milestone per goal for as long as possible: drop from crowded goals.
    per_goal = {g.id: [m for m in context.milestones if m.goal_id == g.id] for g in context.goals}
    crowded = [m for ms in per_goal.values() if len(ms) > 1 for m in ms]
    if not crowded:
        return None
    latest = max(crowded, key=lambda m: (m.due_date is None, m.due_date or date.min, m.id))
    return context.model_copy(
        update={"milestones": tuple(m for m in context.milestones if m is not latest)}
    )


def _drop_calmest_goal(context: NudgeContext) -> NudgeContext | None:
    if len(context.goals) <= 1:
        return None
    has_open_milestone = {m.goal_id for m in context.milestones if m.is_open}
    calmest = max(
        context.goals,
        key=lambda g: (g.status is GoalStatus.on_track, g.id not in has_open_milestone, g.id),
    )
    kept = tuple(g for g in context.goals if g is not calmest)
    kept_ids = {g.id for g in kept}
    return context.model_copy(
        update={
            "goals": kept,
            "milestones": tuple(m for m in context.milestones if m.goal_id in kept_ids),
        }
    )
