"""What a nudge is drafted from (one leader's own plan) and what a draft must look like."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from services.plans.models import OPEN_GOAL_STATUSES, GoalStatus, MilestoneStatus

OPEN_MILESTONE_STATUSES = (MilestoneStatus.open, MilestoneStatus.in_progress)

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class NoteKind(StrEnum):
    progress = "progress"
    answer = "answer"


class ContextGoal(BaseModel):
    model_config = _FROZEN
    id: int
    title: str
    why: str | None = None
    competency: str | None = None
    status: GoalStatus

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_GOAL_STATUSES


class ContextMilestone(BaseModel):
    model_config = _FROZEN
    id: int
    goal_id: int
    title: str
    due_date: date | None = None
    status: MilestoneStatus

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_MILESTONE_STATUSES


class ContextNote(BaseModel):
    """A progress note or a check-in answer, as the leader wrote it."""

    model_config = _FROZEN
    kind: NoteKind
    recorded_on: date
    goal_id: int | None = None
    question: str | None = None
    text: str
    confidence: int | None = None


class NudgeContext(BaseModel):
    """Everything a drafter may see: one leader's own plan, already filtered for visibility."""

    model_config = _FROZEN
    leader_first_name: str
    local_date: date
    cohort_focus: tuple[str, ...] = ()
    goals: tuple[ContextGoal, ...] = ()
    milestones: tuple[ContextMilestone, ...] = ()
    notes: tuple[ContextNote, ...] = Field(default=(), description="newest first")
    # Names of other people in the workspace. Used only to check drafts, never sent to a model.
    other_people: frozenset[str] = Field(default=frozenset(), exclude=True)

    def goal(self, goal_id: int) -> ContextGoal | None:
        return next((g for g in self.goals if g.id == goal_id), None)

    def milestone(self, milestone_id: int) -> ContextMilestone | None:
        return next((m for m in self.milestones if m.id == milestone_id), None)

    @property
    def open_goals(self) -> tuple[ContextGoal, ...]:
        return tuple(g for g in self.goals if g.is_open)


class NudgeDraft(BaseModel):
    """The structured answer a drafter returns; `validate_draft` decides whether it may be used."""

    text: str = Field(description="The nudge, written to the leader by first name.")
    cited_goal_id: int = Field(description="The id of the open goal this nudge is about.")
    cited_milestone_id: int | None = Field(
        description="The id of an open milestone of that goal, or null."
    )
    rationale: str = Field(description="One sentence for the coach: why this goal, why now.")
    suggested_action: str = Field(description="One concrete next step for this week.")
