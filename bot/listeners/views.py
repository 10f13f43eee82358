"""Modal submissions. Invalid input is answered inline (response_action: errors), unsaved."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import leader_actor, member_of, unit_of_work
from bot.home import publish_home
from bot.listeners.modals import InlineErrors, inline_errors, modal_values
from services.db import utcnow
from services.errors import DomainError
from services.plans.milestones import add_milestone, complete_milestone, update_milestone
from services.plans.models import (
    GoalCreate,
    GoalUpdate,
    MilestoneCreate,
    MilestoneUpdate,
    ProgressSource,
    ProgressUpdateCreate,
)
from services.plans.progress import log_progress
from services.plans.service import create_goal, update_goal

# Which modal block shows the error for each model field.
FIELD_BLOCKS = {
    "title": "title",
    "why": "why",
    "competency": "competency",
    "visibility": "visibility",
    "status": "status",
    "due_date": "due_date",
    "note": "note",
    "confidence": "confidence",
    "milestone_id": "milestone",
    "goal_id": "goal",
}
OTHER_GOALS_MILESTONE = (
    "That milestone is part of another goal: choose one of this goal's milestones, or none."
)


def _validation_errors(exc: ValidationError) -> InlineErrors:
    return inline_errors(exc, FIELD_BLOCKS, default="title")


def _domain_errors(exc: DomainError, fallback: str) -> InlineErrors:
    return inline_errors(exc, FIELD_BLOCKS, default=fallback)


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value not in (None, "", [])}


async def _save_goal(context: AsyncBoltContext, view: dict[str, Any]) -> None:
    values = modal_values(view)
    goal_id = json.loads(view.get("private_metadata") or "{}").get("goal_id")
    member = member_of(context)
    try:
        fields = _present(
            {k: values.get(k) for k in ("title", "why", "competency", "visibility", "status")}
        )
        if goal_id is None:
            create = GoalCreate.model_validate(fields)
        else:
            changes = GoalUpdate.model_validate({"why": None, "competency": None, **fields})
    except ValidationError as exc:
        raise _validation_errors(exc) from exc
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        try:
            if goal_id is None:
                await create_goal(
                    session=session, actor=actor, member_id=member.id or 0, data=create
                )
            else:
                await update_goal(session=session, actor=actor, goal_id=int(goal_id), data=changes)
        except DomainError as exc:
            raise _domain_errors(exc, "title") from exc


async def _save_milestone(context: AsyncBoltContext, view: dict[str, Any]) -> None:
    values = modal_values(view)
    meta = json.loads(view.get("private_metadata") or "{}")
    member = member_of(context)
    today = utcnow().astimezone(ZoneInfo(member.timezone)).date()
    due = values.get("due_date")
    if meta.get("milestone_id") is None and due and date.fromisoformat(due) < today:
        raise InlineErrors({"due_date": "Pick today or a later date."})
    try:
        fields = _present({"title": values.get("title"), "due_date": due})
        create = MilestoneCreate.model_validate(fields)
    except ValidationError as exc:
        raise _validation_errors(exc) from exc
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        try:
            if meta.get("milestone_id") is None:
                await add_milestone(
                    session=session, actor=actor, goal_id=int(meta["goal_id"]), data=create
                )
            else:
                await update_milestone(
                    session=session,
                    actor=actor,
                    milestone_id=int(meta["milestone_id"]),
                    data=MilestoneUpdate(title=create.title, due_date=create.due_date),
                )
        except DomainError as exc:
            raise _domain_errors(exc, "title") from exc


async def _save_progress(context: AsyncBoltContext, view: dict[str, Any]) -> None:
    values = modal_values(view)
    meta = json.loads(view.get("private_metadata") or "{}")
    goal_id = meta.get("goal_id") or values.get("goal")
    if not goal_id:
        raise InlineErrors({"goal": "Choose a goal."})
    mark_done = "done" in (values.get("milestone_done") or [])
    if mark_done and not values.get("milestone"):
        raise InlineErrors({"milestone_done": "Choose the milestone to mark done."})
    try:
        data = ProgressUpdateCreate.model_validate(
            _present(
                {
                    "note": values.get("note"),
                    "confidence": values.get("confidence"),
                    "milestone_id": values.get("milestone"),
                }
            )
        )
    except ValidationError as exc:
        raise _validation_errors(exc) from exc
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        try:
            await log_progress(
                session=session,
                actor=actor,
                goal_id=int(goal_id),
                data=data,
                source=ProgressSource.slack,
            )
            if mark_done and data.milestone_id is not None:
                await complete_milestone(
                    session=session, actor=actor, milestone_id=data.milestone_id
                )
        except DomainError as exc:
            if exc.field == "milestone_id":  # the API's message names ids, not titles
                raise InlineErrors({"milestone": OTHER_GOALS_MILESTONE}) from exc
            raise _domain_errors(exc, "note") from exc


SAVERS = {
    "goal_modal": _save_goal,
    "milestone_modal": _save_milestone,
    "progress_modal": _save_progress,
}


async def submit(
    ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Save a plan modal, or show what is wrong without saving anything."""
    # The write happens before the ack so a rejected value can be shown inline; it is one
    # short transaction, well inside Slack's three seconds.
    try:
        await SAVERS[view["callback_id"]](context, view)
    except InlineErrors as exc:
        await ack(response_action="errors", errors=exc.errors)
        return
    await ack()
    async with unit_of_work(context) as session:
        await publish_home(context=context, client=client, session=session)


def register(app: AsyncApp) -> None:
    """Register the modal submissions."""
    for callback_id in SAVERS:
        app.view(callback_id)(submit)
