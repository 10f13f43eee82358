"""Check-ins in Slack: the invitation's buttons, the answering modal, and replies in a
coach's review thread or the leader's DM (message.im), queued to be relayed to the other.
Answered check-ins and relayed replies reach people through the delivery outbox."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import UTC, date, timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import checkin as blocks
from bot.context import leader_actor, unit_of_work
from bot.home import publish_home
from services.checkins.answers import Answered, InvalidAnswers, checkin_form, submit_answers
from services.checkins.models import AnswerIn, AnswersSubmit
from services.checkins.relays import relay_reply
from services.checkins.schedule import zone_or_none
from services.checkins.service import record_message, skip_checkin, snooze_checkin
from services.db import utcnow
from services.errors import DomainError, Invalid
from services.people.enrollments import pause_self
from services.people.models import Member

log = logging.getLogger("coachbot.slack")


def _checkin_id(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError as exc:
        raise Invalid("this check-in button is out of date") from exc


def _message_of(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return channel, ts


async def start(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                client: AsyncWebClient, context: AsyncBoltContext) -> None:
    """Open the check-in modal from the invitation."""
    await ack()
    checkin_id = _checkin_id(action.get("value"))
    channel, ts = _message_of(body)
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        if channel and ts:
            await record_message(session=session, actor=actor, checkin_id=checkin_id,
                                 channel=channel, ts=ts)
        form = await checkin_form(session=session, actor=actor, checkin_id=checkin_id,
                                  now=utcnow())
    await client.views_open(trigger_id=body["trigger_id"],
                            view=blocks.checkin_modal(form, channel=channel, ts=ts))


async def skip(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
               client: AsyncWebClient, context: AsyncBoltContext) -> None:
    """Skip this occurrence."""
    await ack()
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        await skip_checkin(session=session, actor=actor,
                           checkin_id=_checkin_id(action.get("value")), now=utcnow())
    await _replace(client, body, "Skipped. No reminders for this one.")


async def snooze(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                 client: AsyncWebClient, context: AsyncBoltContext) -> None:
    """Bring the check-in back in an hour or tomorrow."""
    await ack()
    until = "hour" if action.get("action_id") == blocks.SNOOZE_HOUR else "tomorrow"
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        checkin = await snooze_checkin(session=session, actor=actor,
                                       checkin_id=_checkin_id(action.get("value")),
                                       until=until, now=utcnow())
    back = checkin.snoozed_until or utcnow()
    line = blocks.Markup(
        f"Snoozed. It comes back {blocks.slack_date(back, back.strftime('%H:%M UTC'))}.")
    await _replace(client, body, line, snoozed=checkin.id)


async def pause(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                context: AsyncBoltContext) -> None:
    """Ask until when to pause."""
    await ack()
    member: Member = context["member"]
    tomorrow = utcnow().astimezone(zone_or_none(member.timezone) or UTC).date() + timedelta(
        days=1)
    await client.views_open(trigger_id=body["trigger_id"],
                            view=blocks.pause_modal(earliest=tomorrow.isoformat()))


async def submit_pause(ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
    """Pause the leader's enrolments until the chosen date, or say why not (inline)."""
    member: Member = context["member"]
    state = (view.get("state") or {}).get("values", {}).get(blocks.PAUSE_BLOCK, {})
    chosen = (state.get("value") or {}).get("selected_date")
    today = utcnow().astimezone(zone_or_none(member.timezone) or UTC).date()
    try:
        until = date.fromisoformat(chosen or "")
        async with unit_of_work(context) as session:
            await pause_self(session=session, member_id=member.id or 0, until=until,
                             today=today)
    except ValueError:
        await ack(response_action="errors", errors={blocks.PAUSE_BLOCK: "Pick a date."})
        return
    except DomainError as error:
        await ack(response_action="errors", errors={blocks.PAUSE_BLOCK: error.detail})
        return
    await ack()


async def _replace(client: AsyncWebClient, body: dict[str, Any], line: str,
                   snoozed: int | None = None) -> None:
    channel, ts = _message_of(body)
    title = next((b["text"]["text"] for b in (body.get("message") or {}).get("blocks") or []
                  if b.get("type") == "header"), "Check-in")
    if not channel or not ts:
        return
    message = (blocks.closed_blocks(title, line) if snoozed is None
               else blocks.snoozed_blocks(title, line, snoozed))
    await client.chat_update(channel=channel, ts=ts, **message)


# --- the modal -----------------------------------------------------------------------------


def _value(state: dict[str, Any]) -> Any:
    kind = state.get("type")
    if kind == "static_select":
        return (state.get("selected_option") or {}).get("value")
    if kind == "checkboxes":
        return [o["value"] for o in state.get("selected_options") or []]
    return state.get("value")


def parse_answers(view: dict[str, Any]) -> AnswersSubmit:
    """The modal's state as answers (scale questions are named in the private metadata)."""
    meta = json.loads(view.get("private_metadata") or "{}")
    scales = set(meta.get("scale") or [])
    answers: list[AnswerIn] = []
    items: dict[tuple[str, int], dict[str, Any]] = defaultdict(dict)
    private = False
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        value = _value(actions.get("value") or {})
        kind, _, rest = block_id.partition(":")
        if block_id == blocks.PRIVATE_BLOCK:
            private = "private" in (value or [])
        elif kind == "q" and value not in (None, ""):
            if rest in scales:
                answers.append(AnswerIn(question_id=rest, number=int(value)))
            else:
                answers.append(AnswerIn(question_id=rest, text=str(value)))
        elif kind == "gp":
            question_id, milestone, part = rest.rsplit(":", 2)
            items[(question_id, int(milestone))][part] = value
    for (question_id, milestone_id), parts in items.items():
        confidence = parts.get("confidence")
        answers.append(AnswerIn(
            question_id=question_id, milestone_id=milestone_id, text=parts.get("note") or None,
            number=int(confidence) if confidence else None, status=parts.get("status")))
    return AnswersSubmit(answers=answers, private=private)


def _first_input(view: dict[str, Any]) -> str:
    return next((b["block_id"] for b in view.get("blocks") or [] if b.get("type") == "input"),
                blocks.PRIVATE_BLOCK)


def inline_errors(view: dict[str, Any], error: DomainError) -> dict[str, str]:
    """Errors by modal block: per question or milestone, else on the first input."""
    inputs = {b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"}
    if not isinstance(error, InvalidAnswers):
        return {_first_input(view): error.detail}
    shown: dict[str, str] = {}
    for key, message in error.errors.items():
        question_id, _, milestone = key.partition(":m")
        block = (blocks.item_block_id(question_id, int(milestone), "status")
                 if milestone.isdigit() else blocks.question_block_id(question_id))
        shown.setdefault(block if block in inputs else _first_input(view), message)
    return shown


async def submit(ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient,
                 context: AsyncBoltContext) -> None:
    """Store the answers and queue them for the coaches (or show what is wrong, storing
    nothing), then mark the invitation done."""
    meta = json.loads(view.get("private_metadata") or "{}")
    try:
        data = parse_answers(view)
        async with unit_of_work(context) as session:
            actor = await leader_actor(session, context)
            answered = await submit_answers(session=session, actor=actor,
                                            checkin_id=int(meta.get("checkin_id") or 0),
                                            data=data, now=utcnow())
    except DomainError as error:
        await ack(response_action="errors", errors=inline_errors(view, error))
        return
    except ValueError:
        await ack(response_action="errors",
                  errors={_first_input(view): "Some answers could not be read; try again."})
        return
    await ack()
    await _mark_done(client, meta, answered, private=data.private,
                     coached=answered.coaches > 0)
    # The Home tab offers an open check-in; once answered it shows the next one instead.
    async with unit_of_work(context) as session:
        await publish_home(context=context, client=client, session=session)


async def _mark_done(client: AsyncWebClient, meta: dict[str, Any], answered: Answered, *,
                     private: bool, coached: bool) -> None:
    channel = meta.get("channel") or answered.checkin.slack_channel
    ts = meta.get("ts") or answered.checkin.slack_ts
    if not channel or not ts:
        return
    line = blocks.answered_line(late=answered.checkin.late, private=private, coached=coached)
    title = str(meta.get("title") or "Check-in")
    try:
        await client.chat_update(channel=channel, ts=ts, **blocks.closed_blocks(title, line))
    except SlackApiError as error:
        log.warning("could not mark check-in %s done: %s", answered.checkin.id,
                    error.response.get("error"))


# --- relaying replies (message.im) ---------------------------------------------------------


async def direct_message(event: dict[str, Any], context: AsyncBoltContext) -> None:
    """Queue a reply in a review thread for the other person, saying who wrote it."""
    if (event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype")
            or not event.get("thread_ts") or event.get("thread_ts") == event.get("ts")):
        return
    author: Member | None = context.get("member")
    if author is None:
        return
    async with unit_of_work(context) as session:
        await relay_reply(session=session, author=author, channel=str(event["channel"]),
                          thread_ts=str(event["thread_ts"]), ts=str(event["ts"]),
                          text=str(event.get("text") or ""))


def register(app: AsyncApp) -> None:
    """Register the check-in buttons, the modal and the DM relay."""
    app.action(blocks.START)(start)
    app.action(blocks.SKIP)(skip)
    app.action(blocks.SNOOZE_HOUR)(snooze)
    app.action(blocks.SNOOZE_TOMORROW)(snooze)
    app.action(blocks.PAUSE)(pause)
    app.view(blocks.MODAL)(submit)
    app.view(blocks.PAUSE_MODAL)(submit_pause)
    app.event("message")(direct_message)
