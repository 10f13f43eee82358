"""Modals for editing a plan: goals, milestones and progress. Pure: no I/O."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.blocks import JSON, option, plain_text, truncate
from bot.blocks.text import OPTION_TEXT
from services.plans.models import GoalPublic, GoalStatus, MilestonePublic, Visibility

COMPETENCIES = (
    "communicating in a crisis",
    "stakeholder management",
    "deciding under uncertainty",
    "resilience",
    "delegation",
    "giving feedback",
    "strategic thinking",
    "inclusive leadership",
)
# A milestone listed with its goal shows at most this much of the goal's title.
GOAL_IN_OPTION = 30
VISIBILITY_OPTIONS = (
    (Visibility.coach.value, "Me and my coach"),
    (Visibility.private.value, "Only me"),
    (Visibility.aggregate.value, "Counts only (nobody reads it)"),
)
STATUS_OPTIONS = tuple((status.value, status.value.replace("_", " ")) for status in GoalStatus)


def _modal(
    *,
    callback_id: str,
    title: str,
    submit: str,
    blocks: list[JSON],
    metadata: dict[str, int | None],
) -> JSON:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain_text(title, limit=24),
        "submit": plain_text(submit, limit=24),
        "close": plain_text("Cancel", limit=24),
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def _text_input(
    *,
    block_id: str,
    label: str,
    initial: str | None = None,
    multiline: bool = False,
    optional: bool = False,
    max_length: int = 200,
) -> JSON:
    element: JSON = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial[:max_length]
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain_text(label, limit=2000),
        "element": element,
        "optional": optional,
    }


def _select(
    *,
    block_id: str,
    label: str,
    choices: Sequence[tuple[str, str]],
    initial: str | None = None,
    optional: bool = False,
) -> JSON:
    options = [option(text=text, value=value) for value, text in choices]
    element: JSON = {
        "type": "static_select",
        "action_id": "value",
        "options": options,
        "placeholder": plain_text("Choose", limit=150),
    }
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain_text(label, limit=2000),
        "element": element,
        "optional": optional,
    }


def goal_modal(goal: GoalPublic | None = None) -> JSON:
    """Create a goal, or edit one when `goal` is given."""
    blocks = [
        _text_input(block_id="title", label="Goal", initial=goal.title if goal else None),
        _text_input(
            block_id="why",
            label="Why it matters to you",
            multiline=True,
            optional=True,
            initial=goal.why if goal else None,
            max_length=2000,
        ),
        _select(
            block_id="competency",
            label="Competency",
            optional=True,
            choices=[(c, c.capitalize()) for c in COMPETENCIES],
            initial=goal.competency if goal else None,
        ),
        _select(
            block_id="visibility",
            label="Who can read it",
            choices=VISIBILITY_OPTIONS,
            initial=goal.visibility if goal else Visibility.coach.value,
        ),
    ]
    if goal is not None:
        blocks.append(
            _select(block_id="status", label="Status", choices=STATUS_OPTIONS, initial=goal.status)
        )
    return _modal(
        callback_id="goal_modal",
        title="Edit goal" if goal else "New goal",
        submit="Save",
        blocks=blocks,
        metadata={"goal_id": goal.id if goal else None},
    )


def milestone_modal(*, goal_id: int, milestone: MilestonePublic | None = None) -> JSON:
    """Add a milestone to a goal, or edit one."""
    date_picker: JSON = {
        "type": "datepicker",
        "action_id": "value",
        "placeholder": plain_text("Pick a date", limit=150),
    }
    if milestone is not None and milestone.due_date:
        date_picker["initial_date"] = milestone.due_date.isoformat()
    blocks = [
        _text_input(
            block_id="title", label="Milestone", initial=milestone.title if milestone else None
        ),
        {
            "type": "input",
            "block_id": "due_date",
            "label": plain_text("Due", limit=2000),
            "element": date_picker,
            "optional": True,
        },
    ]
    return _modal(
        callback_id="milestone_modal",
        title="Edit milestone" if milestone else "New milestone",
        submit="Save",
        blocks=blocks,
        metadata={"goal_id": goal_id, "milestone_id": milestone.id if milestone else None},
    )


def progress_modal(
    *,
    goals: Sequence[GoalPublic],
    milestones: Sequence[MilestonePublic],
    goal_id: int | None = None,
) -> JSON:
    """Log progress on a goal (and maybe one of its milestones)."""
    blocks: list[JSON] = []
    if goal_id is None:
        blocks.append(
            _select(
                block_id="goal", label="Goal", choices=[(str(g.id), g.title[:75]) for g in goals]
            )
        )
    open_milestones = [m for m in milestones if m.status != "done"]
    if open_milestones:
        blocks.append(
            _select(
                block_id="milestone",
                label="Milestone (optional)",
                optional=True,
                choices=[
                    (str(m.id), _milestone_label(m, goals, one_goal=goal_id is not None))
                    for m in open_milestones[:100]
                ],
            )
        )
        blocks.append(
            {
                "type": "input",
                "block_id": "milestone_done",
                "optional": True,
                "label": plain_text("Milestone", limit=2000),
                "element": {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [option(text="Mark this milestone done", value="done")],
                },
            }
        )
    blocks += [
        _text_input(block_id="note", label="What happened?", multiline=True, max_length=4000),
        _select(
            block_id="confidence",
            label="How confident are you now?",
            optional=True,
            choices=[
                (str(n), f"{n} — {label}")
                for n, label in (
                    (1, "not at all"),
                    (2, "a little"),
                    (3, "somewhat"),
                    (4, "quite"),
                    (5, "very"),
                )
            ],
        ),
    ]
    return _modal(
        callback_id="progress_modal",
        title="Log progress",
        submit="Log",
        blocks=blocks,
        metadata={"goal_id": goal_id},
    )


def _milestone_label(
    milestone: MilestonePublic, goals: Sequence[GoalPublic], *, one_goal: bool
) -> str:
    """A milestone as its option reads: its title alone when the modal is for one goal,
    else after its goal's title, shortened so that both fit Slack's 75 characters."""
    if one_goal:
        return milestone.title
    goal = next((g.title for g in goals if g.id == milestone.goal_id), "")
    title = truncate(milestone.title, OPTION_TEXT - GOAL_IN_OPTION - len(" › "))
    return f"{truncate(goal, GOAL_IN_OPTION)} › {title}"
