"""`/coach`: one slash command with subcommands. Ack first, then do the work."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import escape, markup, truncate
from bot.blocks.plan_modals import progress_modal
from bot.context import leader_actor, member_of, unit_of_work
from bot.home import publish_home
from bot.listeners import broadcasts, circles
from services.db import utcnow
from services.errors import DomainError, Invalid
from services.people.enrollments import pause_self, resume_self
from services.plans.models import GoalCreate, Visibility
from services.plans.service import create_goal, get_plan
from services.privacy.rights import export_member_data

HELP = (
    "*Coachbot commands*\n"
    "`/coach plan` — your development plan\n"
    "`/coach goal add &lt;title&gt;` — add a goal\n"
    "`/coach progress` — log progress on a goal\n"
    "`/coach pause [until YYYY-MM-DD]` — pause check-ins and nudges\n"
    "`/coach resume` — start them again\n"
    "`/coach privacy` — who can see what\n"
    "`/coach export` — a copy of all your data\n"
    "`/coach circles` — peer circles: take part, pause, who you are never matched with\n"
    "`/coach broadcast` — send a prompt to a cohort (program owners)\n"
    "`/coach help` — this list"
)
PRIVACY = (
    "*Who can see what*\n"
    "Each goal has a visibility you choose: *Only me*, *Me and my coach*, or *Counts only*. "
    "Program owners see counts for groups large enough to stay anonymous, never your words. "
    "Every time someone else reads your content it is logged, and `/coach export` shows you "
    "that log. Change a goal's visibility from the Home tab."
)
Handler = Callable[
    [list[str], AsyncBoltContext, AsyncWebClient, AsyncRespond, dict[str, Any]], Awaitable[None]
]


async def coach(
    ack: AsyncAck,
    command: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """Dispatch `/coach <subcommand>`; anything unknown gets the help text."""
    words = (command.get("text") or "").split()
    name = words[0].lower() if words else "help"
    handler = SUBCOMMANDS.get(name)
    if handler is None:
        await ack(text=HELP)
        return
    await ack()
    try:
        await handler(words[1:], context, client, respond, command)
    except DomainError as exc:
        # Said here, once: an error raised straight after ack() can race Bolt's ack check.
        await respond(text=escape(exc.detail))


async def _plan(
    args: list[str],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
    command: dict[str, Any],
) -> None:
    member = member_of(context)
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        plan = await get_plan(session=session, actor=actor, member_id=member.id or 0)
    if not plan.goals:
        await respond(text="Your plan has no goals yet. Try `/coach goal add &lt;title&gt;`.")
        return
    lines = []
    for goal in plan.goals:
        lines.append(
            markup("*{title}* ({status})", title=goal.title, status=goal.status.replace("_", " "))
        )
        for milestone in goal.milestones:
            tick = "✓" if milestone.status == "done" else ("!" if milestone.overdue else "•")
            due = f" — due {milestone.due_date}" if milestone.due_date else ""
            lines.append(
                markup("    {tick} {title}{due}", tick=tick, title=milestone.title, due=due)
            )
    await respond(text=truncate("\n".join(lines), 3000))


async def _goal(
    args: list[str],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
    command: dict[str, Any],
) -> None:
    if len(args) < 2 or args[0].lower() != "add":
        await respond(text="Usage: `/coach goal add &lt;title&gt;`")
        return
    title = " ".join(args[1:])
    if len(title) > 200:
        raise Invalid("a goal title is at most 200 characters")
    member = member_of(context)
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        goal = await create_goal(
            session=session,
            actor=actor,
            member_id=member.id or 0,
            data=GoalCreate(title=title, visibility=Visibility.coach),
        )
        await publish_home(context=context, client=client, session=session)
    await respond(
        text=markup(
            "Added *{title}* to your plan. Add milestones from the Home tab.", title=goal.title
        )
    )


async def _progress(
    args: list[str],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
    command: dict[str, Any],
) -> None:
    member = member_of(context)
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        plan = await get_plan(session=session, actor=actor, member_id=member.id or 0)
    goals = [goal for goal in plan.goals if goal.status not in ("done", "dropped")]
    if not goals:
        await respond(text="There is no open goal to log progress on. Add one first.")
        return
    milestones = [m for goal in goals for m in goal.milestones]
    await client.views_open(
        trigger_id=command["trigger_id"], view=progress_modal(goals=goals, milestones=milestones)
    )


async def _pause(
    args: list[str],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
    command: dict[str, Any],
) -> None:
    member = member_of(context)
    today = utcnow().astimezone(ZoneInfo(member.timezone)).date()
    until: date | None = None
    if args:
        if args[0].lower() != "until" or len(args) != 2:
            await respond(text="Usage: `/coach pause` or `/coach pause until 2027-01-31`")
            return
        try:
            until = date.fromisoformat(args[1])
        except ValueError as exc:
            raise Invalid(f"{args[1]!r} is not a date; write it as YYYY-MM-DD") from exc
    async with unit_of_work(context) as session:
        await pause_self(session=session, member_id=member.id or 0, until=until, today=today)
        await publish_home(context=context, client=client, session=session)
    when = f"until {until.isoformat()}" if until else "until you type `/coach resume`"
    await respond(text=f"Paused {when}. No check-ins or nudges will reach you meanwhile.")


async def _resume(
    args: list[str],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
    command: dict[str, Any],
) -> None:
    member = member_of(context)
    async with unit_of_work(context) as session:
        resumed = await resume_self(session=session, member_id=member.id or 0)
        await publish_home(context=context, client=client, session=session)
    await respond(text="Welcome back: Coachbot is on again." if resumed else "You were not paused.")


async def _privacy(
    args: list[str],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
    command: dict[str, Any],
) -> None:
    await respond(text=PRIVACY)


async def _export(
    args: list[str],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
    command: dict[str, Any],
) -> None:
    member = member_of(context)
    async with unit_of_work(context) as session:
        actor = await leader_actor(session, context)
        data = await export_member_data(session=session, actor=actor, member_id=member.id or 0)
    today = utcnow().astimezone(ZoneInfo(member.timezone)).date()
    channel = (await client.conversations_open(users=member.slack_user_id))["channel"]["id"]
    try:
        await client.files_upload_v2(
            channel=channel,
            content=json.dumps(data, indent=1, ensure_ascii=False),
            filename=f"coachbot-export-{today.isoformat()}.json",
            title="Your Coachbot data",
            initial_comment=export_summary(data),
        )
    except SlackApiError as exc:
        if exc.response.get("error") != "missing_scope":
            raise
        await respond(text=EXPORT_NEEDS_FILES.format(member_id=member.id))
        return
    await respond(text="I sent your data to you in a direct message, as a JSON file.")


EXPORT_NEEDS_FILES = (
    "Coachbot cannot send files in this workspace yet: it needs Slack's `files:write` "
    "permission, which a workspace admin grants by installing the app again. Until then "
    "the API's `/api/v1/members/{member_id}/export` gives you the same file."
)


def export_summary(data: dict[str, Any]) -> str:
    """What an export holds, section by section, for the message that carries the file."""
    held = [
        f"{name.replace('_', ' ').replace('checkin', 'check-in')} ({len(rows)})"
        for name, rows in data.items()
        if isinstance(rows, list) and rows
    ]
    if not held:
        return "Your Coachbot data: only your profile so far. The file holds all of it."
    return (
        f"Your Coachbot data: your profile, {', '.join(held)}. The file holds all of it, "
        "including the log of who else read your content."
    )


SUBCOMMANDS: dict[str, Handler] = {
    "plan": _plan,
    "goal": _goal,
    "progress": _progress,
    "pause": _pause,
    "resume": _resume,
    "privacy": _privacy,
    "export": _export,
    "circles": circles.open_preferences_command,
    "broadcast": broadcasts.open_broadcast_modal,
}


def register(app: AsyncApp) -> None:
    """Register /coach."""
    app.command("/coach")(coach)
