"""The nudge messages and the Edit modal as Block Kit: valid, escaped, with the right buttons."""

from __future__ import annotations

import json

import pytest

from bot.blocks import validate_message, validate_view
from bot.blocks.nudge import edit_modal, nudge_blocks, review_blocks, why_text
from services.nudges.models import NudgeFeedback, NudgeStatus
from services.nudges.service import NudgeMessage


def message(**changes: object) -> NudgeMessage:
    fields: dict[str, object] = {
        "nudge_id": 7, "text": "Hi Maya, one page today?", "suggested_action": "Write a page.",
        "rationale": "Overdue milestone.", "goal_title": "Delegate {the} <report> & more",
        "milestone_title": "Hand-over *notes*", "leader_name": "Maya <Patel>",
        "status": NudgeStatus.sent, "feedback": None, "edited": False,
    }
    return NudgeMessage(**{**fields, **changes})  # type: ignore[arg-type]


def test_the_nudge_cites_its_goal_and_milestone_escaped() -> None:
    built = nudge_blocks(message())
    validate_message(built)
    text = json.dumps(built, ensure_ascii=False)
    assert "“Hand-over *notes*” on the goal “Delegate {the} &lt;report&gt; &amp; more”" in text
    buttons = [e["action_id"] for b in built["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons == ["nudge_helpful", "nudge_not_helpful", "nudge_snooze"]


@pytest.mark.parametrize(
    ("goal", "milestone", "about"),
    [
        ("G", "M", "the milestone “M” on the goal “G”"),
        ("G", None, "the goal “G”"),
        (None, "M", "the milestone “M”"),
        (None, None, "a goal"),
    ],
)
def test_why_names_what_it_can(goal: str | None, milestone: str | None, about: str) -> None:
    assert about in why_text(message(goal_title=goal, milestone_title=milestone))


def test_after_feedback_the_buttons_give_way() -> None:
    built = nudge_blocks(message(feedback=NudgeFeedback.not_helpful))
    validate_message(built)
    assert not [b for b in built["blocks"] if b["type"] == "actions"]


def test_model_text_cannot_mention_anyone() -> None:
    built = nudge_blocks(message(text="<!channel> hi <@U123> see <http://x.io|here>"))
    validate_message(built)
    assert "<!" not in json.dumps(built) and "<@" not in json.dumps(built)


def test_the_review_has_approve_edit_reject_then_the_decision() -> None:
    draft = review_blocks(message(status=NudgeStatus.draft))
    validate_message(draft)
    text = json.dumps(draft, ensure_ascii=False)
    assert "Maya &lt;Patel&gt;" in text and "Drafted because: Overdue milestone." in text
    buttons = [e["action_id"] for b in draft["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons == ["nudge_approve", "nudge_edit", "nudge_reject"]
    rejected = review_blocks(message(status=NudgeStatus.rejected, edited=True))
    validate_message(rejected)
    assert "Rejected" in json.dumps(rejected) and "Edited by a coach" in json.dumps(rejected)


def test_long_texts_stay_within_limits() -> None:
    long = "word " * 2000
    for built in (nudge_blocks(message(text=long, goal_title=long, suggested_action=long)),
                  review_blocks(message(text=long, rationale=long, status=NudgeStatus.draft))):
        validate_message(built)


def test_the_edit_modal() -> None:
    view = edit_modal(message(status=NudgeStatus.draft))
    validate_view(view)
    assert view["callback_id"] == "nudge_edit_modal"
    assert json.loads(view["private_metadata"]) == {"nudge_id": 7}
    assert view["blocks"][1]["element"]["initial_value"] == "Hi Maya, one page today?"
