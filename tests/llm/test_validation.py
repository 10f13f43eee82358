"""validate_draft: grounded citations, sane length, nothing that pings or names anyone else."""

from __future__ import annotations

import pytest

from services.nudges.schema import NudgeDraft
from services.nudges.validation import ProblemKind, draft_problems, validate_draft
from tests.llm.sample_plans import (
    ALICE_GOAL,
    ALICE_MILESTONE,
    AT_RISK_GOAL,
    DONE_GOAL,
    DONE_MILESTONE,
    LATER_MILESTONE,
    ON_TRACK_MILESTONE,
    OVERDUE_MILESTONE,
    maya_context,
)

CONTEXT = maya_context()
GOOD_TEXT = "Hi Maya, the hand-over notes are three days late. Could you draft one section today?"


def draft(**changes: object) -> NudgeDraft:
    fields: dict[str, object] = {
        "text": GOOD_TEXT,
        "cited_goal_id": AT_RISK_GOAL,
        "cited_milestone_id": OVERDUE_MILESTONE,
        "rationale": "Overdue milestone on an at-risk goal.",
        "suggested_action": "Draft the first section of the hand-over notes.",
    }
    fields.update(changes)
    return NudgeDraft.model_validate(fields)


def test_a_grounded_draft_passes() -> None:
    assert validate_draft(draft=draft(), context=CONTEXT) == []
    assert validate_draft(draft=draft(cited_milestone_id=None), context=CONTEXT) == []
    assert validate_draft(draft=draft(cited_milestone_id=LATER_MILESTONE), context=CONTEXT) == []


@pytest.mark.parametrize(
    ("changes", "problem", "kind"),
    [
        ({"cited_goal_id": 999}, "not one of this leader's goals", ProblemKind.ungrounded),
        ({"cited_goal_id": ALICE_GOAL, "cited_milestone_id": None}, "not one of this leader's",
         ProblemKind.ungrounded),
        ({"cited_goal_id": DONE_GOAL, "cited_milestone_id": None}, "not one of this leader's",
         ProblemKind.ungrounded),
        ({"cited_milestone_id": ALICE_MILESTONE}, "does not belong to goal",
         ProblemKind.ungrounded),
        ({"cited_milestone_id": ON_TRACK_MILESTONE}, "does not belong to goal",
         ProblemKind.ungrounded),
        ({"cited_milestone_id": DONE_MILESTONE}, "is done", ProblemKind.ungrounded),
        ({"text": "Keep going!"}, "shorter than 20", ProblemKind.too_short),
        ({"text": "Hi Maya, " + "keep going. " * 60}, "longer than 600", ProblemKind.too_long),
        ({"suggested_action": "  "}, "suggested action is empty", ProblemKind.too_short),
        ({"suggested_action": "x" * 201}, "suggested action is longer", ProblemKind.too_long),
        ({"rationale": "x" * 501}, "rationale is longer", ProblemKind.too_long),
    ],
)
def test_citation_and_length_problems(
    changes: dict[str, object], problem: str, kind: ProblemKind
) -> None:
    problems = draft_problems(draft=draft(**changes), context=CONTEXT)
    assert any(problem in p.message and p.kind is kind for p in problems), problems
    assert validate_draft(draft=draft(**changes), context=CONTEXT) == [p.message for p in problems]


UNSAFE_TEXT = [
    "<!channel> Hi Maya, the hand-over notes are late.",
    "<!here> Hi Maya, the hand-over notes are late.",
    "<!everyone> Hi Maya, the hand-over notes are late.",
    "<!subteam^S0123|leads> Hi Maya, the hand-over notes are late.",
    "@channel Hi Maya, the hand-over notes are late.",
    "Hi Maya, tell @here the hand-over notes are late.",
    "Hi Maya, tell @Everyone the hand-over notes are late.",
    "Hi Maya, ask <@U024BE7LH> about the hand-over notes.",
    "Hi Maya, ask <@W024BE7LH|sam> about the hand-over notes.",
    "Hi Maya, post the hand-over notes in <#C024BE91L|general>.",
    "Hi Maya, ask @sam.lee about the hand-over notes.",
    "Hi Maya, the template is at <https://example.com|this page>.",
    "Hi Maya, the template is at https://example.com/notes today.",
    "Hi Maya, the template is at www.example.org today.",
    "Hi Maya, the template is at wiki.example.com for you.",
    "Hi Maya, send the hand-over notes to sam.lee@example.com today.",
    "Hi Maya, Alice Moreau already handed over her report, so can you?",
    "Hi Maya, alice moreau already handed over her report, so can you?",
    "Hi Maya, ask Carlos how he handed over his report this month.",
    "Hi Maya, Carlos's hand-over went well; what about yours this week?",
    "Hi Maya, the hand-over notes are late.\u200b Al\u200bice did hers.",
    "Hi Maya, the hand-over notes are late.\x07 Draft one today.",
]


@pytest.mark.parametrize("text", UNSAFE_TEXT)
def test_unsafe_text_is_rejected(text: str) -> None:
    assert validate_draft(draft=draft(text=text), context=CONTEXT)


def test_a_name_is_told_apart_from_other_unsafe_text() -> None:
    named = draft_problems(draft=draft(text="Hi Maya, Alice Moreau already handed hers over."),
                           context=CONTEXT)
    assert [p.kind for p in named] == [ProblemKind.names_other_person]
    linked = draft_problems(draft=draft(text="Hi Maya, the template is at www.example.org."),
                            context=CONTEXT)
    assert [p.kind for p in linked] == [ProblemKind.unsafe]


@pytest.mark.parametrize("field", ["suggested_action", "rationale"])
def test_every_field_is_checked(field: str) -> None:
    assert validate_draft(draft=draft(**{field: "Ask <!here> for help"}), context=CONTEXT)


@pytest.mark.parametrize(
    "text",
    [
        GOOD_TEXT,
        "Hi Maya, the hand-over notes will take an hour: could you book it for Friday?",
        "Hi Maya, the R&D hand-over is 3 days late. Could you do 1:1 prep first? e.g. notes.",
    ],
)
def test_ordinary_prose_is_not_mistaken_for_unsafe(text: str) -> None:
    assert validate_draft(draft=draft(text=text), context=CONTEXT) == []


def test_problems_never_echo_the_matched_content() -> None:
    problems = validate_draft(
        draft=draft(text="Hi Maya, Alice Moreau mailed alice@example.com about it."),
        context=CONTEXT,
    )
    assert problems
    assert not any("Alice" in p or "example" in p for p in problems)


def test_the_leaders_own_first_name_is_not_another_person() -> None:
    context = CONTEXT.model_copy(update={"other_people": frozenset({"Maya", "Maya Patel"})})
    assert validate_draft(draft=draft(), context=context) == []
