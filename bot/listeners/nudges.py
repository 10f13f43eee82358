"""Nudge buttons: the leader's Helpful / Not helpful / Snooze, the coach's Approve / Edit /
Reject, and the Edit modal. Ack first; call one service function; redraw the message."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import JSON
from bot.blocks.nudge import (
    APPROVE,
    EDIT,
    EDIT_BLOCK,
    EDIT_MODAL,
    FEEDBACK_ACTIONS,
    REJECT,
    edit_modal,
    nudge_blocks,
    review_blocks,
)
from bot.context import leader_actor, member_of, unit_of_work
from services.auth.models import Role
from services.auth.service import Actor, actor_for
from services.db import utcnow
from services.errors import DomainError, Invalid
from services.nudges import service


def _nudge_id(value: object) -> int:
    try:
        return int(str(value))
    except ValueError as exc:
        raise Invalid("this button is out of date") from exc


def _message_at(body: dict[str, Any]) -> tuple[str, str] | None:
    """The channel and ts of the message whose button was clicked."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return (str(channel), str(ts)) if channel and ts else None


async def _redraw(client: AsyncWebClient, where: tuple[str, str] | None, message: JSON) -> None:
    if where is not None:
        await client.chat_update(channel=where[0], ts=where[1], **message)


async def coach_actor(session: AsyncSession, context: AsyncBoltContext) -> Actor:
    """The requesting member acting as a coach (reaching only their assigned leaders)."""
    member = member_of(context)
    return await actor_for(
        session=session, workspace_id=member.workspace_id, role=Role.coach, member_id=member.id
    )


async def feedback(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Helpful / Not helpful / Snooze on a nudge (or its copy after a snooze); the buttons
    give way to a thank-you."""
    await ack()
    nudge_id = _nudge_id(action.get("value"))
    async with unit_of_work(context) as session:
        await service.record_feedback(
            session=session,
            actor=await leader_actor(session, context),
            nudge_id=nudge_id,
            feedback=FEEDBACK_ACTIONS[action["action_id"]],
            now=utcnow(),
        )
        message = await service.nudge_message(session=session, nudge_id=nudge_id)
    await _redraw(client, _message_at(body), nudge_blocks(message))


async def decide(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Approve or Reject a draft; the review message then says what was decided."""
    await ack()
    nudge_id = _nudge_id(action.get("value"))
    decision = service.approve_nudge if action["action_id"] == APPROVE else service.reject_nudge
    async with unit_of_work(context) as session:
        actor = await coach_actor(session, context)
        await decision(session=session, actor=actor, nudge_id=nudge_id, now=utcnow())
        message = await service.nudge_message(session=session, nudge_id=nudge_id)
    await _redraw(client, _message_at(body), review_blocks(message))


async def open_edit(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Open the Edit modal with the draft, remembering which message to redraw."""
    await ack()
    async with unit_of_work(context) as session:
        actor = await coach_actor(session, context)
        message = await service.review_message(
            session=session, actor=actor, nudge_id=_nudge_id(action.get("value"))
        )
    view = edit_modal(message)
    where = _message_at(body)
    if where is not None:
        view["private_metadata"] = json.dumps(
            {"nudge_id": message.nudge_id, "channel": where[0], "ts": where[1]}
        )
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def submit_edit(
    ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Send the edited nudge, or show inline what is wrong with the text."""
    meta = json.loads(view.get("private_metadata") or "{}")
    state = view.get("state", {}).get("values", {}).get(EDIT_BLOCK, {}).get("value", {})
    text = str(state.get("value") or "")
    # Saved before the ack so a refused text can be shown inline; one short transaction.
    try:
        async with unit_of_work(context) as session:
            actor = await coach_actor(session, context)
            await service.edit_nudge(
                session=session, actor=actor, nudge_id=_nudge_id(meta.get("nudge_id")),
                text=text, now=utcnow(),
            )
            message = await service.nudge_message(session=session, nudge_id=meta["nudge_id"])
    except DomainError as exc:
        await ack(response_action="errors", errors={EDIT_BLOCK: exc.detail})
        return
    await ack()
    where = (meta["channel"], meta["ts"]) if meta.get("channel") and meta.get("ts") else None
    await _redraw(client, where, review_blocks(message))


def register(app: AsyncApp) -> None:
    """Register the nudge buttons and the Edit modal."""
    for action_id in FEEDBACK_ACTIONS:
        app.action(action_id)(feedback)
    app.action(APPROVE)(decide)
    app.action(REJECT)(decide)
    app.action(EDIT)(open_edit)
    app.view(EDIT_MODAL)(submit_edit)
