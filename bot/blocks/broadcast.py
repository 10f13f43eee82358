"""A cohort broadcast as its recipients see it, the Answer modal, the owner's compose modal,
and the owner's Home tab section.

The builders are pure. `register(renderers)` adds the outbox renderer for the
`broadcast_message` intent, which reads the broadcast at send time. Everything an owner
or a recipient wrote is escaped, so no broadcast can mention `@channel` or link anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from bot.blocks import JSON, actions, button, context, markup, option, plain_text, section
from bot.blocks.text import MESSAGE_TEXT, escape, truncate
from bot.blocks.validate import MESSAGE_BLOCKS
from bot.render import RenderError, Renderers, RenderRequest, text_sections
from services.broadcasts.answers import BroadcastMessage, broadcast_message
from services.broadcasts.fanout import BROADCAST_KIND
from services.broadcasts.models import (
    MAX_ANSWER_CHARS,
    MAX_QUESTION_CHARS,
    MAX_TEXT_CHARS,
    Audience,
)
from services.errors import DomainError

ANSWER: Final = "broadcast_answer"
ANSWER_MODAL: Final = "broadcast_answer_modal"
ANSWER_BLOCK: Final = "answer"
COMPOSE_MODAL: Final = "broadcast_compose"
COHORT_BLOCK: Final = "cohort"
AUDIENCE_BLOCK: Final = "audience"
TEXT_BLOCK: Final = "text"
QUESTION_BLOCK: Final = "question"
DATE_BLOCK: Final = "send_date"
TIME_BLOCK: Final = "send_time"
AUDIENCE_CHOICES: Final = (
    (Audience.leaders, "Leaders"),
    (Audience.coaches, "Coaches"),
    (Audience.everyone, "Everyone in the cohort"),
)


def _fallback(text: str) -> str:
    return truncate(escape(text), MESSAGE_TEXT)


def message_blocks(message: BroadcastMessage) -> JSON:
    """A recipient's copy: the text, the question with an Answer button (or their answer)."""
    block_id = f"broadcast:{message.broadcast_id}"
    tail: list[JSON] = []
    if message.question:
        tail.append(section(text=markup("*Question:* {q}", q=message.question),
                            block_id=f"{block_id}:question"))
        if message.answer is None:
            tail.append(actions(block_id=f"{block_id}:answer", elements=[
                button(text="Answer", action_id=ANSWER, value=str(message.broadcast_id),
                       style="primary")]))
        else:
            tail.append(context(block_id=f"{block_id}:answer", texts=[
                markup("Your answer: {a}", a=message.answer)]))
    sender = f"From {message.author_name}" if message.author_name else "From your program team"
    tail.append(context(block_id=f"{block_id}:from",
                        texts=[markup("{sender} to {cohort}", sender=sender,
                                      cohort=message.cohort_name)]))
    body = text_sections(message.text, limit=MESSAGE_BLOCKS - len(tail))
    fallback = f"{message.text}\n\n{message.question}" if message.question else message.text
    return {"text": _fallback(fallback), "blocks": body + tail}


def answer_modal(message: BroadcastMessage, *, channel: str | None, ts: str | None) -> JSON:
    """The Answer modal; the message it came from is redrawn with the answer afterwards."""
    metadata = {"broadcast_id": message.broadcast_id, "channel": channel, "ts": ts}
    element: JSON = {"type": "plain_text_input", "action_id": "value", "multiline": True,
                     "max_length": MAX_ANSWER_CHARS}
    if message.answer:
        element["initial_value"] = message.answer[:MAX_ANSWER_CHARS]
    return {
        "type": "modal",
        "callback_id": ANSWER_MODAL,
        "title": plain_text("Answer", limit=24),
        "submit": plain_text("Send", limit=24),
        "close": plain_text("Cancel", limit=24),
        "private_metadata": json.dumps(metadata),
        "blocks": [
            section(text=markup("*{q}*", q=message.question or "")),
            {"type": "input", "block_id": ANSWER_BLOCK, "element": element,
             "label": plain_text("Your answer", limit=2000)},
            context(texts=["Your program team sees how many answered, and an answer's words "
                           "only when enough people gave the same one."]),
        ],
    }


def _input(block_id: str, label: str, element: JSON, *, optional: bool = False,
           hint: str | None = None) -> JSON:
    block: JSON = {"type": "input", "block_id": block_id, "element": element,
                   "label": plain_text(label, limit=2000), "optional": optional}
    if hint:
        block["hint"] = plain_text(hint, limit=2000)
    return block


def compose_modal(cohorts: Sequence[tuple[int, str]]) -> JSON:
    """The owner's compose modal: cohort, audience, message, optional question and time."""
    cohort_options = [option(text=name, value=str(cohort_id)) for cohort_id, name in cohorts]
    cohort: JSON = {"type": "static_select", "action_id": "value", "options": cohort_options,
                    "placeholder": plain_text("Choose a cohort", limit=150)}
    if len(cohort_options) == 1:
        cohort["initial_option"] = cohort_options[0]
    audience_options = [option(text=text, value=value.value) for value, text in AUDIENCE_CHOICES]
    return {
        "type": "modal",
        "callback_id": COMPOSE_MODAL,
        "title": plain_text("Broadcast", limit=24),
        "submit": plain_text("Send", limit=24),
        "close": plain_text("Cancel", limit=24),
        "blocks": [
            _input(COHORT_BLOCK, "Cohort", cohort),
            _input(AUDIENCE_BLOCK, "To", {"type": "radio_buttons", "action_id": "value",
                                          "options": audience_options,
                                          "initial_option": audience_options[0]}),
            _input(TEXT_BLOCK, "Message", {"type": "plain_text_input", "action_id": "value",
                                           "multiline": True, "max_length": MAX_TEXT_CHARS}),
            _input(QUESTION_BLOCK, "Question (optional)",
                   {"type": "plain_text_input", "action_id": "value",
                    "max_length": MAX_QUESTION_CHARS}, optional=True,
                   hint="Ask one, and each recipient gets an Answer button."),
            _input(DATE_BLOCK, "Send on (optional)", {"type": "datepicker", "action_id": "value"},
                   optional=True, hint="Leave the date and time empty to send now."),
            _input(TIME_BLOCK, "At (optional)", {"type": "timepicker", "action_id": "value"},
                   optional=True, hint="In the cohort's own timezone."),
        ],
    }


def sent_notice(*, cohort_name: str, recipients: int, scheduled_for: str | None) -> str:
    """What the owner is told after composing."""
    if scheduled_for:
        return str(markup("Scheduled for {when} to {cohort}. Cancel it from the API or "
                          "before it goes out.", when=scheduled_for, cohort=cohort_name))
    return str(markup("Sending to {n} people in {cohort}. Follow its status in your Home tab.",
                      n=recipients, cohort=cohort_name))


# --- outbox renderer -------------------------------------------------------------------------


def _broadcast_id(request: RenderRequest) -> int:
    value = request.intent.get("broadcast_id")
    if not isinstance(value, int) or isinstance(value, bool):
        raise RenderError("the intent needs an integer 'broadcast_id'")
    return value


async def render_broadcast_message(request: RenderRequest) -> JSON:
    """`{"kind": "broadcast_message", "broadcast_id": N}`: the broadcast as sent to one member."""
    try:
        message = await broadcast_message(session=request.session,
                                          broadcast_id=_broadcast_id(request),
                                          member_id=request.member_id)
    except DomainError as error:
        raise RenderError(error.detail) from error
    if message.cancelled:
        raise RenderError(f"broadcast {message.broadcast_id} was cancelled")
    return message_blocks(message)


def register(renderers: Renderers) -> None:
    """Render cohort broadcasts."""
    renderers.register_renderer(BROADCAST_KIND, render_broadcast_message)

