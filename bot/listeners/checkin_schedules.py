"""A program owner's check-in schedules from the Home tab: the New check-in schedule button
opens the modal, whose submission adds the schedule through the same service function as
the API or marks inline what is wrong (nothing saved); Edit changes a schedule's rules the
same way; Stop and Restart switch a schedule off and on. Ack first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks.checkin_schedules import (
    COHORT_BLOCK,
    EDIT_MODAL,
    EDIT_SCHEDULE,
    END_BLOCK,
    FIELD_BLOCKS,
    NAME_BLOCK,
    NEW_SCHEDULE,
    NO_REMINDER,
    QUESTIONS_BLOCK,
    REFLECTION,
    REMINDER_BLOCK,
    RESTART_SCHEDULE,
    SCHEDULE_MODAL,
    START_BLOCK,
    STOP_SCHEDULE,
    TEMPLATE_PREFIX,
    TIME_BLOCK,
    WEEKDAYS_BLOCK,
    added_notice,
    edit_schedule_modal,
    schedule_modal,
)
from bot.context import button_id, tell_requester, unit_of_work
from bot.home import publish_home
from bot.listeners.broadcasts import owned_cohorts, owner_actor
from bot.listeners.modals import InlineErrors, inline_errors, modal_values
from services.auth.service import Actor
from services.checkins.models import CheckinKind, ScheduleCreate, SchedulePublic, ScheduleUpdate
from services.checkins.schedules import (
    create_schedule,
    get_schedule,
    to_public,
    update_schedule,
)
from services.checkins.templates import list_templates
from services.db import utcnow
from services.errors import DomainError
from services.pagination import MAX_LIMIT
from services.people.access import require_manager
from services.people.models import Cohort

REFUSAL = "Check-in schedules are set up by a cohort's program owners."
OTHER_COHORTS_TEMPLATE = (
    "That template belongs to another cohort: choose one of this cohort's, a shared one, or "
    "the weekly questions."
)


async def open_schedule_modal(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The Home tab's New check-in schedule button: the modal, listing the cohorts one owns
    and the templates they may use."""
    await ack()
    cohorts = await owned_cohorts(context, refusal=REFUSAL)
    async with unit_of_work(context) as session:
        templates = await _templates(session, await owner_actor(session, context))
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    await client.views_open(trigger_id=body["trigger_id"],
                            view=schedule_modal(cohorts, templates, start=tomorrow))


async def _templates(session: AsyncSession, actor: Actor) -> list[tuple[int, str]]:
    page = await list_templates(session=session, actor=actor, cursor=None, limit=MAX_LIMIT)
    return [(t.id or 0, t.name) for t in page.items]


async def open_edit_modal(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """A schedule's Edit button: the modal with the schedule's rules as they are."""
    await ack()
    async with unit_of_work(context) as session:
        actor = await owner_actor(session, context)
        schedule = await get_schedule(session=session, actor=actor,
                                      schedule_id=button_id(action.get("value")))
        require_manager(actor, schedule.cohort_id)
        templates = await _templates(session, actor)
        current = to_public(schedule)
    await client.views_open(trigger_id=body["trigger_id"],
                            view=edit_schedule_modal(current, templates))


async def submit_edit(
    ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Save the edited rules (check-ins already sent stay), or show inline what is wrong."""
    values = modal_values(view)
    try:
        if not values.get(WEEKDAYS_BLOCK):
            raise InlineErrors({WEEKDAYS_BLOCK: "Tick at least one day."})
        # Emptied inputs clear what they set: the last day, the reminder, a template.
        edited = _schedule_data(values)
        del edited["kind"]  # the modal offers only the schedule's own kind
        changes = {"end_date": None, "reminder_after_minutes": None, "template_id": None,
                   **edited}
        async with unit_of_work(context) as session:
            try:
                data = ScheduleUpdate.model_validate(changes)
                await update_schedule(session=session, actor=await owner_actor(session, context),
                                      schedule_id=button_id(view.get("private_metadata")),
                                      data=data)
            except (ValidationError, DomainError) as error:
                raise _inline(error) from error
            await publish_home(context=context, client=client, session=session)
    except InlineErrors as exc:
        await ack(response_action="errors", errors=exc.errors)
        return
    await ack()


def _schedule_data(values: dict[str, Any]) -> dict[str, Any]:
    """The modal's answers as the API's fields; empty inputs fall back to its defaults."""
    questions = str(values.get(QUESTIONS_BLOCK) or "")
    data: dict[str, Any] = {
        "name": (values.get(NAME_BLOCK) or "").strip(),
        "weekdays": [int(day) for day in values.get(WEEKDAYS_BLOCK) or [] if str(day).isdigit()],
        "local_time": values.get(TIME_BLOCK),
        "start_date": values.get(START_BLOCK),
        "end_date": values.get(END_BLOCK),
        "kind": CheckinKind.reflection if questions == REFLECTION else CheckinKind.checkin,
    }
    if questions.startswith(TEMPLATE_PREFIX):
        template = questions.removeprefix(TEMPLATE_PREFIX)
        if not template.isdigit():
            raise InlineErrors({QUESTIONS_BLOCK: "Choose the questions from the list."})
        data["template_id"] = int(template)
    reminder = values.get(REMINDER_BLOCK)
    if reminder not in (None, NO_REMINDER):
        if not str(reminder).isdigit():
            raise InlineErrors({REMINDER_BLOCK: "Choose a reminder from the list."})
        data["reminder_after_minutes"] = int(reminder)
    return {key: value for key, value in data.items() if value is not None}


def _inline(error: ValidationError | DomainError) -> InlineErrors:
    """Validation and domain errors as errors next to the modal's inputs."""
    if isinstance(error, DomainError) and error.field == "template_id":
        return InlineErrors({QUESTIONS_BLOCK: OTHER_COHORTS_TEMPLATE})
    default = COHORT_BLOCK if isinstance(error, DomainError) else NAME_BLOCK
    return inline_errors(error, FIELD_BLOCKS, default=default)


async def _create(
    context: AsyncBoltContext, client: AsyncWebClient, view: dict[str, Any]
) -> tuple[SchedulePublic, str]:
    values = modal_values(view)
    cohort = str(values.get(COHORT_BLOCK) or "")
    if not cohort.isdigit():
        raise InlineErrors({COHORT_BLOCK: "Choose a cohort."})
    if not values.get(START_BLOCK):
        raise InlineErrors({START_BLOCK: "Pick the first day."})
    if not values.get(WEEKDAYS_BLOCK):
        raise InlineErrors({WEEKDAYS_BLOCK: "Tick at least one day."})
    try:
        data = ScheduleCreate.model_validate(_schedule_data(values))
    except ValidationError as error:
        raise _inline(error) from error
    if data.start_date < utcnow().date() - timedelta(days=1):
        raise InlineErrors({START_BLOCK: "Pick today or a later date."})
    if data.end_date is not None and data.end_date < data.start_date:
        raise InlineErrors({END_BLOCK: "Pick a day on or after the first one."})
    async with unit_of_work(context) as session:
        try:
            actor = await owner_actor(session, context)
            schedule = await create_schedule(session=session, actor=actor,
                                             cohort_id=int(cohort), data=data)
        except DomainError as error:
            raise _inline(error) from error
        named = await session.get(Cohort, schedule.cohort_id)
        await publish_home(context=context, client=client, session=session)
        return to_public(schedule), named.name if named else "the cohort"


async def submit_schedule(
    ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Add the schedule, or show inline what is wrong; then tell the owner what it does."""
    try:
        schedule, cohort = await _create(context, client, view)
    except InlineErrors as exc:
        await ack(response_action="errors", errors=exc.errors)
        return
    await ack()
    await tell_requester(context, client, str(added_notice(schedule, cohort=cohort)))


async def _set_active(
    action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext, *, active: bool
) -> None:
    async with unit_of_work(context) as session:
        actor = await owner_actor(session, context)
        await update_schedule(session=session, actor=actor,
                              schedule_id=button_id(action.get("value")),
                              data=ScheduleUpdate(active=active))
        await publish_home(context=context, client=client, session=session)


async def stop_schedule(
    ack: AsyncAck, action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Stop: no new check-ins are sent (after Slack's own confirm dialog)."""
    await ack()
    await _set_active(action, client, context, active=False)


async def restart_schedule(
    ack: AsyncAck, action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Restart: check-ins are sent again from the next due time on."""
    await ack()
    await _set_active(action, client, context, active=True)


def register(app: AsyncApp) -> None:
    """Register New check-in schedule, Edit and their modals, and Stop and Restart."""
    app.action(NEW_SCHEDULE)(open_schedule_modal)
    app.view(SCHEDULE_MODAL)(submit_schedule)
    app.action(EDIT_SCHEDULE)(open_edit_modal)
    app.view(EDIT_MODAL)(submit_edit)
    app.action(STOP_SCHEDULE)(stop_schedule)
    app.action(RESTART_SCHEDULE)(restart_schedule)
