"""The nudge a leader gets, the review request a coach gets, and the coach's Edit modal.

The builders are pure. `register(renderers)` adds the outbox renderers for the `nudge` and
`nudge_review` intents; they read the nudge through the service and build with these.
Every word a leader, coach or model wrote is escaped (`section`/`context` escape plain
strings), so no draft can mention anyone or link anywhere.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Final

from bot.blocks import JSON, actions, button, context, markup, plain_text, section
from bot.blocks.text import MESSAGE_TEXT, escape, truncate
from bot.render import RenderError, Renderers, RenderRequest
from services.errors import DomainError
from services.nudges.models import NudgeFeedback, NudgeStatus
from services.nudges.recording import NUDGE_KIND, REVIEW_KIND
from services.nudges.service import NudgeMessage, nudge_message
from services.nudges.validation import MAX_TEXT_CHARS

HELPFUL: Final = "nudge_helpful"
NOT_HELPFUL: Final = "nudge_not_helpful"
SNOOZE: Final = "nudge_snooze"
APPROVE: Final = "nudge_approve"
EDIT: Final = "nudge_edit"
REJECT: Final = "nudge_reject"
EDIT_MODAL: Final = "nudge_edit_modal"
EDIT_BLOCK: Final = "text"

FEEDBACK_ACTIONS: Final = {
    HELPFUL: NudgeFeedback.helpful,
    NOT_HELPFUL: NudgeFeedback.not_helpful,
    SNOOZE: NudgeFeedback.snoozed,
}
FEEDBACK_THANKS: Final = {
    NudgeFeedback.helpful: "Thanks, glad it helped.",
    NudgeFeedback.not_helpful: "Thanks for saying so; it helps us send better nudges.",
    NudgeFeedback.snoozed: "Snoozed: this nudge comes back once, tomorrow.",
}
DECISIONS: Final = {
    NudgeStatus.sent: "Sent to {leader}.",
    NudgeStatus.approved: "Approved for {leader}.",
    NudgeStatus.rejected: "Rejected: {leader} will not get this nudge.",
}


def cited(message: NudgeMessage) -> str:
    """What the nudge is about: the cited milestone and goal, by title."""
    goal, milestone = message.goal_title, message.milestone_title
    if goal and milestone:
        return f"the milestone “{milestone}” on the goal “{goal}”"
    if milestone:
        return f"the milestone “{milestone}”"
    if goal:
        return f"the goal “{goal}”"
    return "a goal"


def why_text(message: NudgeMessage) -> str:
    """The leader's "why you're getting this" line."""
    return f"Why you're getting this: it's about {cited(message)} in your plan."


def _fallback(text: str) -> str:
    return truncate(escape(text), MESSAGE_TEXT)


def _body(message: NudgeMessage) -> list[JSON]:
    blocks = [section(text=message.text)]
    if message.suggested_action:
        blocks.append(section(text=markup("*Next step:* {action}",
                                          action=message.suggested_action)))
    return blocks


def nudge_blocks(message: NudgeMessage, *, snooze: bool = True) -> JSON:
    """The leader's nudge: the text, the next step, why, and Helpful / Not helpful / Snooze
    (no Snooze on the copy that comes back after one)."""
    value = str(message.nudge_id)
    blocks = _body(message)
    blocks.append(context(texts=[why_text(message)], block_id="nudge_why"))
    if message.feedback is None:
        buttons = [
            button(text="Helpful", action_id=HELPFUL, value=value, style="primary"),
            button(text="Not helpful", action_id=NOT_HELPFUL, value=value),
        ]
        if snooze:
            buttons.append(button(text="Snooze", action_id=SNOOZE, value=value))
        blocks.append(actions(block_id="nudge_feedback", elements=buttons))
    else:
        blocks.append(context(texts=[FEEDBACK_THANKS[message.feedback]],
                              block_id="nudge_feedback"))
    return {"text": _fallback(message.text), "blocks": blocks}


def review_blocks(message: NudgeMessage) -> JSON:
    """The coach's review request: the draft, its rationale and Approve / Edit / Reject."""
    value = str(message.nudge_id)
    blocks = [section(text=markup("*Draft nudge for {leader}*", leader=message.leader_name))]
    blocks += _body(message)
    notes = [f"Cites {cited(message)}."]
    if message.rationale:
        notes.append(f"Drafted because: {message.rationale}")
    if message.edited:
        notes.append("Edited by a coach.")
    blocks.append(context(texts=notes, block_id="nudge_why"))
    if message.status == NudgeStatus.draft:
        blocks.append(actions(block_id="nudge_review", elements=[
            button(text="Approve", action_id=APPROVE, value=value, style="primary"),
            button(text="Edit", action_id=EDIT, value=value),
            button(text="Reject", action_id=REJECT, value=value, style="danger"),
        ]))
    else:
        decision = DECISIONS.get(message.status, "Decided.").format(leader=message.leader_name)
        blocks.append(context(texts=[decision], block_id="nudge_review"))
    fallback = f"Draft nudge for {message.leader_name}: {message.text}"
    return {"text": _fallback(fallback), "blocks": blocks}


def edit_modal(message: NudgeMessage) -> JSON:
    """The Edit modal: the draft in a text box; submitting sends the edited nudge."""
    return {
        "type": "modal",
        "callback_id": EDIT_MODAL,
        "title": plain_text("Edit nudge", limit=24),
        "submit": plain_text("Send", limit=24),
        "close": plain_text("Cancel", limit=24),
        "private_metadata": json.dumps({"nudge_id": message.nudge_id}),
        "blocks": [
            section(text=markup("To *{leader}*, about {about}.", leader=message.leader_name,
                                about=cited(message))),
            {
                "type": "input",
                "block_id": EDIT_BLOCK,
                "label": plain_text("Nudge", limit=2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": MAX_TEXT_CHARS,
                    "initial_value": message.text[:MAX_TEXT_CHARS],
                },
            },
        ],
    }


# --- outbox renderers ----------------------------------------------------------------------


def _nudge_id(request: RenderRequest) -> int:
    value = request.intent.get("nudge_id")
    if not isinstance(value, int) or isinstance(value, bool):
        raise RenderError("the intent needs an integer 'nudge_id'")
    return value


async def render_nudge(request: RenderRequest) -> JSON:
    """`{"kind": "nudge", "nudge_id": N}`: the nudge as its leader sees it."""
    try:
        message = await nudge_message(session=request.session, nudge_id=_nudge_id(request))
    except DomainError as error:
        raise RenderError(error.detail) from error
    if message.status != NudgeStatus.sent:
        raise RenderError(f"nudge {message.nudge_id} is {message.status.value}, not sent")
    if request.intent.get("snoozed"):
        # The copy after a snooze asks for feedback again, once more.
        if message.feedback is NudgeFeedback.snoozed:
            message = replace(message, feedback=None)
        return nudge_blocks(message, snooze=False)
    return nudge_blocks(message)


async def render_review(request: RenderRequest) -> JSON:
    """`{"kind": "nudge_review", "nudge_id": N}`: the draft as the reviewing coach sees it."""
    try:
        message = await nudge_message(
            session=request.session, nudge_id=_nudge_id(request), for_review=True
        )
    except DomainError as error:
        raise RenderError(error.detail) from error
    return review_blocks(message)


def register(renderers: Renderers) -> None:
    """Render nudges and review requests."""
    renderers.register_renderer(NUDGE_KIND, render_nudge)
    renderers.register_renderer(REVIEW_KIND, render_review)
