"""Broadcasts in Slack: `/coach broadcast` opens the compose modal; its submission schedules
or sends; a recipient's Answer button opens the answer modal, and the message then shows
their answer. Ack first; bad input is answered inline in the modal, nothing saved."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks.broadcast import (
    ANSWER,
    ANSWER_BLOCK,
    ANSWER_MODAL,
    AUDIENCE_BLOCK,
    COHORT_BLOCK,
    COMPOSE_MODAL,
    DATE_BLOCK,
    NEW_BROADCAST,
    QUESTION_BLOCK,
    TEXT_BLOCK,
    TIME_BLOCK,
    answer_modal,
    compose_modal,
    message_blocks,
    sent_notice,
)
from bot.context import button_id, leader_actor, member_of, tell_requester, unit_of_work
from bot.listeners.modals import InlineErrors, inline_errors, modal_values
from services.auth.models import Role
from services.auth.service import Actor, actor_for
from services.broadcasts import service
from services.broadcasts.answers import answer_broadcast, broadcast_message
from services.broadcasts.models import AnswerCreate, Broadcast, BroadcastCreate
from services.db import utcnow
from services.errors import DomainError, NotPermitted
from services.metrics.service import zone_of
from services.people.models import Cohort

FIELD_BLOCKS = {"cohort_id": COHORT_BLOCK, "audience": AUDIENCE_BLOCK, "text": TEXT_BLOCK,
                "question": QUESTION_BLOCK, "send_at": DATE_BLOCK}


async def owner_actor(session: AsyncSession, context: AsyncBoltContext) -> Actor:
    """The requesting member acting as a program owner (reaching the cohorts they own)."""
    member = member_of(context)
    return await actor_for(session=session, workspace_id=member.workspace_id, role=Role.owner,
                           member_id=member.id)


async def open_broadcast_modal(
    args: list[str], context: AsyncBoltContext, client: AsyncWebClient, respond: AsyncRespond,
    command: dict[str, Any],
) -> None:
    """`/coach broadcast`: the compose modal, listing the cohorts the member owns."""
    await _open_compose(context, client, command["trigger_id"])


async def open_from_home(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The Home tab's New broadcast button."""
    await ack()
    await _open_compose(context, client, body["trigger_id"])


async def owned_cohorts(context: AsyncBoltContext, *, refusal: str) -> list[tuple[int, str]]:
    """(id, name) of the cohorts the requester owns, by name; NotPermitted with `refusal`
    when there are none."""
    async with unit_of_work(context) as session:
        actor = await owner_actor(session, context)
        cohorts = (await session.exec(
            select(Cohort.id, Cohort.name).where(col(Cohort.id).in_(actor.cohort_ids))
            .order_by(col(Cohort.name))
        )).all()
    if not cohorts:
        raise NotPermitted(refusal)
    return [(i or 0, name) for i, name in cohorts]


async def _open_compose(context: AsyncBoltContext, client: AsyncWebClient, trigger: str) -> None:
    cohorts = await owned_cohorts(context,
                                  refusal="Broadcasts are sent by a cohort's program owners.")
    await client.views_open(trigger_id=trigger, view=compose_modal(cohorts))


def _send_at(day: str | None, at: str | None, zone_name: str) -> datetime | None:
    if not day and not at:
        return None
    if not day:
        raise InlineErrors({DATE_BLOCK: "Pick a day too, or clear the time to send now."})
    if not at:
        raise InlineErrors({TIME_BLOCK: "Pick a time too, or clear the day to send now."})
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(at),
                            tzinfo=zone_of(zone_name))


async def _compose(context: AsyncBoltContext, view: dict[str, Any]) -> Broadcast:
    values = modal_values(view)
    if not values.get(COHORT_BLOCK):
        raise InlineErrors({COHORT_BLOCK: "Choose a cohort."})
    async with unit_of_work(context) as session:
        actor = await owner_actor(session, context)
        cohort = await session.get(Cohort, int(values[COHORT_BLOCK]))
        try:
            data = BroadcastCreate.model_validate({
                "cohort_id": values[COHORT_BLOCK], "audience": values.get(AUDIENCE_BLOCK),
                "text": values.get(TEXT_BLOCK) or "", "question": values.get(QUESTION_BLOCK),
                "send_at": _send_at(values.get(DATE_BLOCK), values.get(TIME_BLOCK),
                                    cohort.timezone if cohort else "UTC")})
            # Fanned out after the ack: a large cohort must not hold Slack's three seconds.
            return await service.create_broadcast(session=session, actor=actor, data=data,
                                                  now=utcnow(), fan_out=False)
        except (ValidationError, DomainError) as error:
            raise inline_errors(error, FIELD_BLOCKS, default=TEXT_BLOCK) from error


async def submit_compose(
    ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Schedule the broadcast (or send it now), or show inline what is wrong."""
    try:
        broadcast = await _compose(context, view)
    except InlineErrors as exc:
        await ack(response_action="errors", errors=exc.errors)
        return
    await ack()
    now = utcnow()
    async with unit_of_work(context) as session:
        broadcast = await service.fan_out_if_due(session=session, broadcast_id=broadcast.id or 0,
                                                 now=now)
        cohort = await session.get(Cohort, broadcast.cohort_id)
    zone = zone_of(cohort.timezone if cohort else None)
    later = (broadcast.send_at.astimezone(zone).strftime("%Y-%m-%d %H:%M ") + str(zone)
             if broadcast.send_at > now else None)
    await tell_requester(context, client, sent_notice(
        cohort_name=cohort.name if cohort else "the cohort", recipients=broadcast.recipients,
        scheduled_for=later))


async def open_answer(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """The Answer button: the answer modal, remembering which message to redraw."""
    await ack()
    member = member_of(context)
    async with unit_of_work(context) as session:
        message = await broadcast_message(session=session,
                                          broadcast_id=button_id(action.get("value")),
                                          member_id=member.id)
    container = body.get("container") or {}
    await client.views_open(trigger_id=body["trigger_id"], view=answer_modal(
        message, channel=container.get("channel_id"), ts=container.get("message_ts")))


async def submit_answer(
    ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Store the answer (or show what is wrong), then redraw the broadcast with it."""
    meta = json.loads(view.get("private_metadata") or "{}")
    member = member_of(context)
    try:
        data = AnswerCreate.model_validate({"answer": modal_values(view).get(ANSWER_BLOCK) or ""})
        async with unit_of_work(context) as session:
            await answer_broadcast(session=session, actor=await leader_actor(session, context),
                                   broadcast_id=button_id(meta.get("broadcast_id")),
                                   data=data, now=utcnow())
            message = await broadcast_message(session=session,
                                              broadcast_id=int(meta["broadcast_id"]),
                                              member_id=member.id)
    except ValidationError as error:
        await ack(response_action="errors", errors={ANSWER_BLOCK: error.errors()[0]["msg"]})
        return
    except DomainError as error:
        await ack(response_action="errors", errors={ANSWER_BLOCK: error.detail})
        return
    await ack()
    if meta.get("channel") and meta.get("ts"):
        await client.chat_update(channel=meta["channel"], ts=meta["ts"],
                                 **message_blocks(message))


def register(app: AsyncApp) -> None:
    """Register the compose modal, the Answer button and the answer modal.

    `/coach broadcast` is a subcommand of /coach: route it to `open_broadcast_modal`.
    """
    app.view(COMPOSE_MODAL)(submit_compose)
    app.action(NEW_BROADCAST)(open_from_home)
    app.action(ANSWER)(open_answer)
    app.view(ANSWER_MODAL)(submit_answer)
