"""Check-in surfaces: the invitation DM, the answering modal, the coach's review thread and
relayed replies. The builders are pure; `register(renderers)` adds the outbox renderers for
check-in invitations and reminders, the review thread's parent, answered check-ins in it
and relayed replies, which read what they show at send time.

Every word a leader or coach wrote is escaped, so nothing relayed can mention or link.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from bot.blocks import JSON, actions, button, context, header, option, plain_text, section
from bot.blocks.text import MESSAGE_TEXT, Markup, escape, truncate
from bot.render import RenderError, Renderers, RenderRequest
from services.checkins.answers import CheckinForm, FormQuestion, MilestoneItem
from services.checkins.models import CheckinKind, QuestionKind
from services.checkins.relays import RELAY_KIND, Relay, relay_view
from services.checkins.reviews import (
    PARENT_KIND,
    POST_KIND,
    ReviewAnswer,
    ReviewPost,
    review_post,
    thread_people,
)
from services.checkins.service import InviteView, invite_view
from services.checkins.sweep import INVITE_KIND, REMINDER_KIND

START: Final = "checkin_start"
SKIP: Final = "checkin_skip"
SNOOZE_HOUR: Final = "checkin_snooze_hour"
SNOOZE_TOMORROW: Final = "checkin_snooze_tomorrow"
PAUSE: Final = "checkin_pause"
MODAL: Final = "checkin_modal"
PAUSE_MODAL: Final = "checkin_pause_modal"
PAUSE_BLOCK: Final = "until"
PRIVATE_BLOCK: Final = "private"
MILESTONE_STATUSES: Final = (
    ("open", "Not started"), ("in_progress", "In progress"), ("done", "Done"),
    ("skipped", "Dropped"),
)
SCALE: Final = ((1, "1 — poor"), (2, "2"), (3, "3 — okay"), (4, "4"), (5, "5 — great"))
TEXT_INPUT_MAX: Final = 3000


def slack_date(instant: datetime, fallback: str = "soon") -> Markup:
    """A date Slack shows in the reader's own timezone."""
    epoch = int(instant.timestamp())
    return Markup(f"<!date^{epoch}^{{date_short_pretty}} at {{time}}|{escape(fallback)}>")


def _count(questions: Sequence[object]) -> str:
    return "1 question" if len(questions) == 1 else f"{len(questions)} questions"


def invite_blocks(view: InviteView, *, reminder: int | None = None) -> JSON:
    """The DM that invites a leader to a check-in (or reminds them of it)."""
    value = str(view.checkin_id)
    blocks: list[JSON] = [header(text=view.title)]
    if view.kind is CheckinKind.reflection and view.questions:
        blocks.append(section(text=Markup(f"> {escape(str(view.questions[0]['text']))}")))
        summary = "A one-question reflection"
    else:
        summary = f"{_count(view.questions)}, about {max(1, len(view.questions))} minutes"
    when = slack_date(view.expires_at, view.expires_at.strftime("%Y-%m-%d %H:%M UTC"))
    lines = [Markup(f"{escape(summary)} · open until {when}")]
    if reminder:
        lines.insert(0, Markup("*Reminder:* this check-in is still open."))
    blocks.append(context(texts=lines))
    blocks.append(actions(block_id=f"checkin:{value}", elements=[
        button(text="Start check-in", action_id=START, value=value, style="primary"),
        button(text="Snooze 1 hour", action_id=SNOOZE_HOUR, value=value),
        button(text="Tomorrow", action_id=SNOOZE_TOMORROW, value=value),
        button(text="Skip this one", action_id=SKIP, value=value),
        button(text="Pause…", action_id=PAUSE, value=value),
    ]))
    prefix = "Reminder: " if reminder else ""
    return {"text": truncate(escape(f"{prefix}{view.title}: {summary}"), MESSAGE_TEXT),
            "blocks": blocks}


def closed_blocks(title: str, line: str) -> JSON:
    """The invitation after the leader acted on it (answered, skipped, snoozed)."""
    return {"text": truncate(escape(f"{title}: {line}"), MESSAGE_TEXT),
            "blocks": [header(text=title), section(text=escape(line))]}


def snoozed_blocks(title: str, line: str, checkin_id: int) -> JSON:
    """The invitation while snoozed: it can still be started or skipped now."""
    value = str(checkin_id)
    message = closed_blocks(title, line)
    message["blocks"].append(actions(block_id=f"checkin:{value}", elements=[
        button(text="Start now", action_id=START, value=value),
        button(text="Skip this one", action_id=SKIP, value=value),
    ]))
    return message


def answered_line(*, late: bool, private: bool, coached: bool) -> str:
    """What the leader is told once their answers are in."""
    parts = ["✅ Done, thank you."]
    if late:
        parts.append("It came in after the check-in closed, so it is marked late.")
    if private:
        parts.append("Your answers are private: only you can see them.")
    elif coached:
        parts.append("Your coach will see the answers you shared.")
    return " ".join(parts)


# --- the modal ---------------------------------------------------------------------------


def question_block_id(question_id: str) -> str:
    """The modal block holding a question's answer."""
    return f"q:{question_id}"


def item_block_id(question_id: str, milestone_id: int, part: str) -> str:
    """The modal block of one part (status, confidence, note) of a milestone's answer."""
    return f"gp:{question_id}:{milestone_id}:{part}"


def _input(block_id: str, label: str, element: JSON, *, optional: bool) -> JSON:
    return {"type": "input", "block_id": block_id, "label": plain_text(label, limit=2000),
            "element": {"action_id": "value", **element}, "optional": optional}


def _select(choices: Sequence[tuple[str, str]], initial: str | None = None) -> JSON:
    options = [option(text=text, value=value) for value, text in choices]
    element: JSON = {"type": "static_select", "options": options,
                     "placeholder": plain_text("Choose", limit=150)}
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def _text(multiline: bool = True) -> JSON:
    return {"type": "plain_text_input", "multiline": multiline, "max_length": TEXT_INPUT_MAX}


def _question_blocks(question: FormQuestion) -> list[JSON]:
    optional = not question.required
    if question.kind is QuestionKind.text:
        return [_input(question_block_id(question.id), question.text, _text(), optional=optional)]
    if question.kind is QuestionKind.scale:
        return [_input(question_block_id(question.id), question.text,
                       _select([(str(n), label) for n, label in SCALE]), optional=optional)]
    if question.kind is QuestionKind.choice:
        return [_input(question_block_id(question.id), question.text,
                       _select([(c, c) for c in question.choices]), optional=optional)]
    if not question.items:
        return [section(text=escape(question.text)),
                context(texts=["No open milestones in your plan right now."])]
    blocks: list[JSON] = [section(text=Markup(f"*{escape(question.text)}*"))]
    for item in question.items:
        blocks += _item_blocks(question.id, item)
    return blocks


def _item_blocks(question_id: str, item: MilestoneItem) -> list[JSON]:
    name = f"{item.goal_title} › {item.title}"
    return [
        _input(item_block_id(question_id, item.milestone_id, "status"), name,
               _select(MILESTONE_STATUSES, initial=item.status.value), optional=True),
        _input(item_block_id(question_id, item.milestone_id, "confidence"),
               "How confident are you now?",
               _select([(str(n), str(n)) for n in range(1, 6)]), optional=True),
        _input(item_block_id(question_id, item.milestone_id, "note"), "Note (optional)",
               _text(), optional=True),
    ]


def checkin_modal(form: CheckinForm, *, channel: str | None, ts: str | None) -> JSON:
    """The check-in's questions as a modal."""
    blocks: list[JSON] = []
    if form.late:
        blocks.append(context(texts=["This check-in has closed; your answers are still "
                                     "welcome and will be marked late."]))
    for question in form.questions:
        blocks += _question_blocks(question)
    blocks.append(_input(PRIVATE_BLOCK, "Privacy", {
        "type": "checkboxes",
        "options": [option(text="Keep these answers private", value="private",
                           description="Your coach won't see them")],
    }, optional=True))
    metadata = {"checkin_id": form.checkin_id, "channel": channel, "ts": ts,
                "title": form.title[:150],
                "scale": [q.id for q in form.questions if q.kind is QuestionKind.scale]}
    return {
        "type": "modal", "callback_id": MODAL,
        "title": plain_text(form.title, limit=24), "submit": plain_text("Send", limit=24),
        "close": plain_text("Cancel", limit=24), "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def pause_modal(*, earliest: str) -> JSON:
    """Pause check-ins (and nudges) until a date."""
    return {
        "type": "modal", "callback_id": PAUSE_MODAL,
        "title": plain_text("Pause check-ins", limit=24), "submit": plain_text("Pause", limit=24),
        "close": plain_text("Cancel", limit=24),
        "blocks": [
            _input(PAUSE_BLOCK, "Pause until", {
                "type": "datepicker", "initial_date": earliest,
                "placeholder": plain_text("Pick a date", limit=150)}, optional=False),
            context(texts=["Check-ins start again on that date. `/coach resume` ends the "
                           "pause sooner."]),
        ],
    }


# --- coach review threads and relays -------------------------------------------------------


def review_parent(leader_name: str) -> JSON:
    """The one parent message in a coach's DM under which a leader's check-ins collect."""
    name = escape(leader_name)
    return {
        "text": truncate(Markup(f"Check-ins from {name}"), MESSAGE_TEXT),
        "blocks": [
            header(text=f"Check-ins from {leader_name}"),
            context(texts=[Markup(f"Each check-in {name} answers arrives in this thread. "
                                  f"Reply here to write to {name}; their replies come "
                                  "back here.")]),
        ],
    }


def _answer_line(answer: ReviewAnswer) -> str:
    if answer.kind is QuestionKind.scale and answer.number is not None:
        return f"{answer.number}/5"
    if answer.kind is not QuestionKind.goal_progress:
        return escape(answer.text or "")
    parts = []
    if answer.status:
        parts.append(dict(MILESTONE_STATUSES).get(answer.status, answer.status))
    if answer.number is not None:
        parts.append(f"confidence {answer.number}/5")
    line = escape(" · ".join(parts))
    if answer.text:
        line = Markup(f"{line}\n{escape(answer.text)}" if line else escape(answer.text))
    return line


def review_reply(post: ReviewPost) -> JSON:
    """One answered check-in in the coach's thread: shared answers only."""
    day = post.local_date.strftime("%a %d %b")
    title = Markup(f"*{escape(post.title)}* · {day}" + (" · _late_" if post.late else ""))
    blocks: list[JSON] = [section(text=title)]
    for answer in post.answers[:45]:
        blocks.append(section(text=truncate(
            Markup(f"*{escape(answer.question)}*\n{_answer_line(answer)}"), 3000)))
    if post.withheld:
        kept = "1 answer" if post.withheld == 1 else f"{post.withheld} answers"
        blocks.append(context(texts=[f"{kept} kept private by {post.leader_name}."]))
    if not post.answers and not post.withheld:
        blocks.append(context(texts=["No answers given."]))
    fallback = f"{post.leader_name} answered {post.title} ({day})"
    return {"text": truncate(escape(fallback), MESSAGE_TEXT), "blocks": blocks}


def unslack(text: str) -> str:
    """Slack's message text back to what the person typed (it escapes only & < >)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def relay_message(relay: Relay, text: str) -> JSON:
    """A reply relayed to the other side of a review thread, saying who wrote it."""
    who = escape(relay.author_name)
    role = "your coach" if relay.author_side == "coach" else "your coachee"
    body = escape(unslack(text))
    line = Markup(f"*{who}* ({role}) wrote:\n{body}")
    blocks = [section(text=truncate(line, 3000))]
    if relay.author_side == "coach" and relay.opens_thread:
        blocks.append(context(texts=[Markup(f"Reply in this thread to answer {who}.")]))
    return {"text": truncate(Markup(f"{who} ({role}) wrote: {body}"), MESSAGE_TEXT),
            "blocks": blocks}


# --- outbox renderers ----------------------------------------------------------------------


def _int(request: RenderRequest, name: str) -> int:
    value = request.intent.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise RenderError(f"the intent needs an integer {name!r}")
    return value


def _checkin_id(request: RenderRequest) -> int:
    return _int(request, "checkin_id")


async def _open_view(request: RenderRequest) -> InviteView:
    view = await invite_view(session=request.session, checkin_id=_checkin_id(request))
    if view is None:
        raise RenderError("the check-in no longer exists")
    if not view.open:
        # Answered, skipped or closed since this was queued: nothing to invite to.
        raise RenderError(f"check-in {view.checkin_id} is {view.status.value}")
    return view


async def render_invite(request: RenderRequest) -> JSON:
    """`{"kind": "checkin_invite", "checkin_id": N}`: the invitation DM."""
    return invite_blocks(await _open_view(request))


async def render_reminder(request: RenderRequest) -> JSON:
    """`{"kind": "checkin_reminder", "checkin_id": N, "number": n}`: a reminder DM."""
    number = request.intent.get("number")
    return invite_blocks(await _open_view(request),
                         reminder=number if isinstance(number, int) else 1)


# A review thread's messages go to one of its two people, and only while the coach still
# coaches the leader: a message queued before the coaching ended is never sent.
_ENDED = "the coaching this review thread belongs to has ended"


async def render_review_parent(request: RenderRequest) -> JSON:
    """`{"kind": "review_parent", "thread_id": N}`: the coach's thread about one leader."""
    people = await thread_people(session=request.session, thread_id=_int(request, "thread_id"))
    if people is None or people.coach.id != request.member_id:
        raise RenderError(_ENDED)
    return review_parent(people.leader.name)


async def render_review_post(request: RenderRequest) -> JSON:
    """`{"kind": "review_post", "thread_id": N, "checkin_id": M}`: an answered check-in,
    coach-visible answers only, in the coach's thread."""
    post = await review_post(session=request.session, thread_id=_int(request, "thread_id"),
                             checkin_id=_checkin_id(request), coach_id=request.member_id)
    if post is None:
        raise RenderError(_ENDED)
    return review_reply(post)


async def render_relay(request: RenderRequest) -> JSON:
    """`{"kind": "review_relay", "thread_id": N, "from": "coach"|"leader", "text": ...}`:
    a reply relayed to the other side of a review thread."""
    side, text = request.intent.get("from"), request.intent.get("text")
    if side not in ("coach", "leader") or not isinstance(text, str):
        raise RenderError("the intent needs 'from' (coach or leader) and a string 'text'")
    relay = await relay_view(session=request.session, thread_id=_int(request, "thread_id"),
                             author_side=side, recipient_id=request.member_id,
                             opens_thread=request.intent.get("opens_thread") is True)
    if relay is None:
        raise RenderError(_ENDED)
    return relay_message(relay, text)


def register(renderers: Renderers) -> None:
    """Render check-in invitations and reminders, and the coach review threads."""
    renderers.register_renderer(INVITE_KIND, render_invite)
    renderers.register_renderer(REMINDER_KIND, render_reminder)
    renderers.register_renderer(PARENT_KIND, render_review_parent)
    renderers.register_renderer(POST_KIND, render_review_post)
    renderers.register_renderer(RELAY_KIND, render_relay)
