"""Buttons and selects on the Home tab. Ack first; open a modal or change the plan."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.plan_modals import goal_modal, milestone_modal, progress_modal
from bot.context import button_id, leader_actor, unit_of_work
from bot.home import publish_home
from services.errors import Invalid
from services.plans.milestones import complete_milestone, list_milestones
from services.plans.models import GoalPublic, GoalUpdate, Visibility
from services.plans.service import get_goal, update_goal


async def add_goal(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Open the new-goal modal."""
    await ack()
    await client.views_open(trigger_id=body["trigger_id"], view=goal_modal())


async def edit_goal(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Open the goal modal filled with the goal."""
    await ack()
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        goal = await get_goal(session=session, actor=actor, goal_id=button_id(action.get("value")))
    await client.views_open(
        trigger_id=body["trigger_id"], view=goal_modal(GoalPublic.model_validate(goal))
    )


async def add_milestone(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Open the new-milestone modal for a goal."""
    await ack()
    goal_id = button_id(action.get("value"))
    async with unit_of_work(context) as session:
        await get_goal(session=session, actor=await leader_actor(session, context), goal_id=goal_id)
    await client.views_open(trigger_id=body["trigger_id"], view=milestone_modal(goal_id=goal_id))


async def log_progress(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Open the progress modal for one goal."""
    await ack()
    goal_id = button_id(action.get("value"))
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        goal = GoalPublic.model_validate(
            await get_goal(session=session, actor=actor, goal_id=goal_id)
        )
        milestones = await list_milestones(
            session=session, actor=actor, goal_id=goal_id, cursor=None, limit=100
        )
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=progress_modal(goals=[goal], milestones=milestones.items, goal_id=goal_id),
    )


async def milestone_done(
    ack: AsyncAck, action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Mark a milestone done and refresh the Home tab."""
    await ack()
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        await complete_milestone(
            session=session, actor=actor, milestone_id=button_id(action.get("value"))
        )
        await publish_home(context=context, client=client, session=session)


async def goal_visibility(
    ack: AsyncAck, action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Change who can read a goal, then refresh the Home tab."""
    await ack()
    goal_id, _, visibility = (action.get("selected_option") or {}).get("value", "").partition(":")
    if visibility not in {v.value for v in Visibility}:
        raise Invalid("that visibility is not one Coachbot knows")
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        await update_goal(
            session=session,
            actor=actor,
            goal_id=button_id(goal_id),
            data=GoalUpdate(visibility=Visibility(visibility)),
        )
        await publish_home(context=context, client=client, session=session)


def register(app: AsyncApp) -> None:
    """Register the Home tab's actions."""
    app.action("home_add_goal")(add_goal)
    app.action("home_edit_goal")(edit_goal)
    app.action("home_add_milestone")(add_milestone)
    app.action("home_log_progress")(log_progress)
    app.action("home_milestone_done")(milestone_done)
    app.action("home_goal_visibility")(goal_visibility)
