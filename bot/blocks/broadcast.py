"""A cohort broadcast as its recipients see it, the Answer modal, the owner's compose modal,
and the owner's Home tab section.

The builders are pure. `register(renderers)` adds the outbox renderer for the
`broadcast_message` intent, which reads the broadcast at send time. Everything an owner
or a recipient wrote is escaped, so no broadcast can mention `@channel` or link anywhere.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Final

from bot.blocks import JSON, actions, button, context, markup, option, plain_text, section
from bot.blocks.text import MESSAGE_TEXT, Markup, escape, truncate
from bot.blocks.validate import MESSAGE_BLOCKS
from bot.render import RenderError, Renderers, RenderRequest, text_sections
from services.broadcasts.answers import BroadcastMessage, broadcast_message
from services.broadcasts.fanout import BROADCAST_KIND
from services.broadcasts.models import (
    MAX_ANSWER_CHARS,
    MAX_QUESTION_CHARS,
    MAX_TEXT_CHARS,
    Audience,
    BroadcastPublic,
)
from services.errors import DomainError
from services.metrics.home import CohortHeadline, OwnerHome

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


class BroadcastRenderer:
    """Renders `{"kind": "broadcast_message", "broadcast_id": N}`: the broadcast as sent.

    Every recipient's copy is the same message, so one read of the broadcast serves a few
    seconds of sends (a 5,000-leader broadcast is read once every few seconds, not 5,000
    times). A cancel reaches the outbox at once; the short life of the cache only matters
    for copies already being sent.
    """

    def __init__(self, *, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic,
                 size: int = 64) -> None:
        self._ttl = ttl
        self._clock = clock
        self._size = size
        self._cache: dict[int, tuple[float, BroadcastMessage]] = {}

    async def _message(self, request: RenderRequest) -> BroadcastMessage:
        broadcast_id = _broadcast_id(request)
        now = self._clock()
        hit = self._cache.get(broadcast_id)
        if hit is not None and now - hit[0] <= self._ttl:
            return hit[1]
        try:
            # A new copy has no answer yet (the Answer modal shows one given by other means).
            message = await broadcast_message(session=request.session,
                                              broadcast_id=broadcast_id, member_id=None)
        except DomainError as error:
            raise RenderError(error.detail) from error
        if len(self._cache) >= self._size:
            self._cache.clear()
        self._cache[broadcast_id] = (now, message)
        return message

    async def __call__(self, request: RenderRequest) -> JSON:
        message = await self._message(request)
        if message.cancelled:
            raise RenderError(f"broadcast {message.broadcast_id} was cancelled")
        return message_blocks(message)


def register(renderers: Renderers) -> None:
    """Render cohort broadcasts."""
    renderers.register_renderer(BROADCAST_KIND, BroadcastRenderer())


# --- the owner's Home tab --------------------------------------------------------------------

NEW_BROADCAST: Final = "broadcast_compose_open"
STATUS_LABEL: Final = {"scheduled": "Scheduled", "sending": "Sending", "sent": "Sent",
                       "cancelled": "Cancelled"}


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _headline(item: CohortHeadline) -> JSON:
    if item.suppressed:
        figures = (f"{item.enrolled} leaders: figures appear once the cohort has enough "
                   "leaders to keep them anonymous")
        return section(text=markup("*{name}* · {figures}", name=item.name, figures=figures))
    week = f"week of {item.last_week:%d %b}" if item.last_week else "no complete week yet"
    return section(text=markup("*{name}* · {week}", name=item.name, week=week), fields=[
        markup("*Check-in response*\n{v}", v=_percent(item.response_rate)),
        markup("*Milestones completed*\n{v}",
               v="—" if item.milestones_completed is None else str(item.milestones_completed)),
        markup("*Circle attendance*\n{v}", v=_percent(item.attendance_rate)),
        markup("*Nudges found helpful*\n{v}", v=_percent(item.helpful_rate)),
        markup("*Milestones done overall*\n{v}", v=_percent(item.completion_rate)),
    ])


def _broadcast_line(item: BroadcastPublic, cohort: str) -> str:
    counts = item.deliveries
    status = STATUS_LABEL.get(item.status.value, item.status.value)
    parts = [f"{counts.sent}/{item.recipients} sent"] if item.recipients else []
    parts += [f"{n} {label}" for n, label in ((counts.queued, "queued"),
                                               (counts.failed, "failed"),
                                               (item.answered, "answered")) if n]
    when = f"{item.send_at:%d %b %H:%M} UTC"
    return markup("• *{status}* {when} to {cohort}{counts} — {text}", status=status, when=when,
                  cohort=cohort, counts=f" · {', '.join(parts)}" if parts else "",
                  text=truncate(item.text.replace("\n", " "), 80))


def owner_home_blocks(home: OwnerHome) -> list[JSON]:
    """The owner's part of the Home tab: headline figures, latest broadcasts, New broadcast."""
    blocks: list[JSON] = [section(text=markup("*Program figures*"))]
    blocks += [_headline(item) for item in home.headlines]
    blocks.append(context(texts=["Figures cover complete weeks; any group smaller than the "
                                 "cohort's anonymity minimum is hidden."]))
    lines = [_broadcast_line(b, home.cohort_names.get(b.cohort_id, "a cohort"))
             for b in home.broadcasts]
    text = Markup("*Latest broadcasts*\n" + ("\n".join(lines) if lines else "None yet."))
    blocks.append(section(text=text, accessory=button(text="New broadcast",
                                                      action_id=NEW_BROADCAST, value="new")))
    return blocks
