"""Circle buttons and the commitment modal. Ack first; call one service function; redraw
the follow-up (or the pause note) in place."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import JSON
from bot.blocks.circle import (
    BLOCKS_BLOCK,
    COMMIT,
    COMMIT_MODAL,
    COMMITMENT_BLOCK,
    GOAL_BLOCK,
    MET_ACTIONS,
    PREFERENCES,
    PREFERENCES_MODAL,
    RESUME,
    commitment_modal,
    followup_blocks,
    paused_blocks,
    preferences_modal,
    series_block_id,
    until_block_id,
)
from bot.context import button_id, leader_actor, member_of, unit_of_work
from bot.listeners.broadcasts import owner_actor
from services.circles.followups import record_followup
from services.circles.mine import followup_message, series_name
from services.circles.models import FollowupAnswer, ParticipantStatus, ParticipationUpdate
from services.circles.service import (
    blocked_slack_ids,
    my_participation,
    replace_blocks,
    set_participation,
)
from services.db import utcnow
from services.errors import DomainError, Invalid

FIELD_BLOCKS = {"commitment": COMMITMENT_BLOCK, "goal_id": GOAL_BLOCK}


class InlineError(Exception):
    """One modal input to mark, with what to say (the transaction is rolled back)."""

    def __init__(self, block_id: str, detail: str) -> None:
        super().__init__(detail)
        self.block_id = block_id
        self.detail = detail


def _message_at(body: dict[str, Any]) -> tuple[str, str] | None:
    """The channel and ts of the message whose button was clicked."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return (str(channel), str(ts)) if channel and ts else None


async def _redraw(client: AsyncWebClient, where: tuple[str, str] | None, message: JSON) -> None:
    if where is not None:
        await client.chat_update(channel=where[0], ts=where[1], **message)


async def met(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Yes / Not yet / We couldn't: record it and show the answer under the question."""
    await ack()
    circle_id = button_id(action.get("value"))
    member = member_of(context)
    async with unit_of_work(context) as session:
        await record_followup(
            session=session, actor=await leader_actor(session, context), circle_id=circle_id,
            answer=FollowupAnswer(met=MET_ACTIONS[action["action_id"]]), now=utcnow(),
        )
        message = await followup_message(session=session, circle_id=circle_id,
                                         member_id=member.id or 0)
    await _redraw(client, _message_at(body), followup_blocks(message))


async def open_commitment(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Open the commitment modal, remembering which follow-up to redraw."""
    await ack()
    member = member_of(context)
    async with unit_of_work(context) as session:
        message = await followup_message(session=session, circle_id=button_id(action.get("value")),
                                         member_id=member.id or 0)
    view = commitment_modal(message, where=_message_at(body))
    await client.views_open(trigger_id=body["trigger_id"], view=view)


def _answer(view: dict[str, Any]) -> FollowupAnswer:
    values = view.get("state", {}).get("values", {})
    text = (values.get(COMMITMENT_BLOCK, {}).get("value") or {}).get("value") or ""
    goal = ((values.get(GOAL_BLOCK, {}).get("value") or {}).get("selected_option") or {})
    if not text.strip():
        raise Invalid("Say what you committed to.", field="commitment")
    try:
        return FollowupAnswer(commitment=text.strip(),
                              goal_id=int(goal["value"]) if goal.get("value") else None)
    except (ValidationError, ValueError) as exc:
        raise Invalid("That commitment could not be saved; keep it under 2,000 characters.",
                      field="commitment") from exc


async def submit_commitment(
    ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Save the commitment (a progress update on the goal picked), or say what is wrong."""
    meta = json.loads(view.get("private_metadata") or "{}")
    member = member_of(context)
    # Saved before the ack so a refused answer can be shown inline; one short transaction.
    try:
        answer = _answer(view)
        async with unit_of_work(context) as session:
            await record_followup(
                session=session, actor=await leader_actor(session, context),
                circle_id=button_id(meta.get("circle_id")), answer=answer, now=utcnow(),
            )
            message = await followup_message(session=session,
                                             circle_id=button_id(meta["circle_id"]),
                                             member_id=member.id or 0)
    except DomainError as exc:
        block = FIELD_BLOCKS.get(exc.field or "", COMMITMENT_BLOCK)
        await ack(response_action="errors", errors={block: exc.detail})
        return
    await ack()
    where = (meta["channel"], meta["ts"]) if meta.get("channel") and meta.get("ts") else None
    await _redraw(client, where, followup_blocks(message))


async def resume(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Count me in again: back in the series from its next round."""
    await ack()
    series_id = button_id(action.get("value"))
    async with unit_of_work(context) as session:
        await set_participation(
            session=session, actor=await leader_actor(session, context), series_id=series_id,
            data=ParticipationUpdate(status=ParticipantStatus.active), today=utcnow().date(),
        )
        name = await series_name(session=session, series_id=series_id)
    await _redraw(client, _message_at(body),
                  paused_blocks(series=name, series_id=series_id, misses=0, resumed=True))


async def open_preferences(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The Home tab's Circle preferences button."""
    await ack()
    await _open_preferences(context, client, body["trigger_id"])


async def open_preferences_command(
    args: list[str], context: AsyncBoltContext, client: AsyncWebClient, respond: AsyncRespond,
    command: dict[str, Any],
) -> None:
    """`/coach circles`: the same preferences modal."""
    await _open_preferences(context, client, command["trigger_id"])


async def _open_preferences(
    context: AsyncBoltContext, client: AsyncWebClient, trigger: str
) -> None:
    """Open the leader's circle preferences: taking part, pausing, and their block list."""
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        series = await my_participation(session=session, actor=actor)
        blocked = await blocked_slack_ids(session=session, actor=actor)
        owns = bool((await owner_actor(session, context)).cohort_ids)
    await client.views_open(trigger_id=trigger, view=preferences_modal(
        series=series, blocked=blocked, runs_series=owns))


def _state(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    state: dict[str, Any] = view.get("state", {}).get("values", {}).get(block_id, {})
    return state.get("value") or {}


def _local_today(context: AsyncBoltContext) -> date:
    try:
        return utcnow().astimezone(ZoneInfo(member_of(context).timezone)).date()
    except (KeyError, ValueError):
        return utcnow().date()


async def submit_preferences(
    ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Save how the leader takes part in each series and who they are never matched with."""
    today = _local_today(context)
    blocked = [str(u) for u in _state(view, BLOCKS_BLOCK).get("selected_users") or []]
    try:
        async with unit_of_work(context) as session:
            actor = await leader_actor(session, context)
            for series in await my_participation(session=session, actor=actor):
                block_id = series_block_id(series.series_id)
                chosen = (_state(view, block_id).get("selected_option") or {}).get("value")
                until = _state(view, until_block_id(series.series_id)).get("selected_date")
                if chosen is None:
                    continue
                try:
                    update = ParticipationUpdate(
                        status=ParticipantStatus(chosen),
                        paused_until=until if chosen == ParticipantStatus.paused else None)
                    await set_participation(session=session, actor=actor,
                                            series_id=series.series_id, data=update, today=today)
                except (DomainError, ValidationError, ValueError) as exc:
                    detail = exc.detail if isinstance(exc, DomainError) else "Pick a valid date."
                    raise InlineError(until_block_id(series.series_id), detail) from exc
            await replace_blocks(session=session, actor=actor, slack_user_ids=blocked)
    except InlineError as exc:
        await ack(response_action="errors", errors={exc.block_id: exc.detail})
        return
    await ack()


def register(app: AsyncApp) -> None:
    """Register the circle buttons and the commitment modal."""
    for action_id in MET_ACTIONS:
        app.action(action_id)(met)
    app.action(COMMIT)(open_commitment)
    app.action(RESUME)(resume)
    app.action(PREFERENCES)(open_preferences)
    app.view(PREFERENCES_MODAL)(submit_preferences)
    app.view(COMMIT_MODAL)(submit_commitment)
