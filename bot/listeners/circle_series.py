"""A program owner's circle series from the Home tab: the New circle series button opens the
modal, whose submission creates the series through the same service function as the API
or marks inline what is wrong (nothing saved); Stop and Restart switch a series off and on.
Ack first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.circle_series import (
    CADENCE_BLOCK,
    COHORT_BLOCK,
    EDIT_MODAL,
    EDIT_SERIES,
    FIELD_BLOCKS,
    MIXING,
    MIXING_BLOCK,
    NAME_BLOCK,
    NEW_SERIES,
    RESTART_SERIES,
    SERIES_MODAL,
    SIZE_BLOCK,
    SPREAD_BLOCK,
    START_BLOCK,
    STOP_SERIES,
    TIME_BLOCK,
    WEEKDAY_BLOCK,
    created_notice,
    edit_series_modal,
    series_modal,
)
from bot.context import button_id, tell_requester, unit_of_work
from bot.home import publish_home
from bot.listeners.broadcasts import owned_cohorts, owner_actor
from bot.listeners.modals import InlineErrors, inline_errors, modal_values
from services.circles.models import CircleSeriesCreate, CircleSeriesPublic, CircleSeriesUpdate
from services.circles.service import create_series, get_series, series_public, update_series
from services.db import utcnow
from services.errors import DomainError
from services.people.access import require_manager
from services.people.models import Cohort


async def open_series_modal(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The Home tab's New circle series button: the modal, listing the cohorts one owns."""
    await ack()
    cohorts = await owned_cohorts(
        context, refusal="Circle series are set up by a cohort's program owners.")
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    await client.views_open(trigger_id=body["trigger_id"],
                            view=series_modal(cohorts, start=tomorrow))


def _series_data(values: dict[str, Any]) -> dict[str, Any]:
    """The modal's answers as the API's fields; empty inputs fall back to its defaults."""
    ticked = set(values.get(MIXING_BLOCK) or [])
    data: dict[str, Any] = {
        "cohort_id": values.get(COHORT_BLOCK),
        "name": (values.get(NAME_BLOCK) or "").strip(),
        "group_size": values.get(SIZE_BLOCK),
        "cadence_weeks": values.get(CADENCE_BLOCK),
        "weekday": values.get(WEEKDAY_BLOCK),
        "local_time": values.get(TIME_BLOCK),
        "start_date": values.get(START_BLOCK),
        **{key: key in ticked for key, _, _ in MIXING},
    }
    minutes = values.get(SPREAD_BLOCK)
    if minutes is not None:
        if not str(minutes).isdigit():
            raise InlineErrors({SPREAD_BLOCK: "Choose how far apart members' clocks may be."})
        data["max_utc_spread_minutes"] = int(minutes)
    return {key: value for key, value in data.items() if value is not None}


@contextmanager
def _marked_inline(default_block: str) -> Iterator[None]:
    """Turn validation and domain errors into errors next to the modal's inputs."""
    try:
        yield
    except ValidationError as error:
        raise inline_errors(error, FIELD_BLOCKS, default=NAME_BLOCK) from error
    except DomainError as error:
        raise inline_errors(error, FIELD_BLOCKS, default=default_block) from error


async def _create(
    context: AsyncBoltContext, client: AsyncWebClient, view: dict[str, Any]
) -> tuple[CircleSeriesPublic, Cohort]:
    values = modal_values(view)
    if not values.get(COHORT_BLOCK):
        raise InlineErrors({COHORT_BLOCK: "Choose a cohort."})
    if not values.get(START_BLOCK):
        raise InlineErrors({START_BLOCK: "Pick the date the series starts."})
    async with unit_of_work(context) as session:
        with _marked_inline(COHORT_BLOCK):
            actor = await owner_actor(session, context)
            data = CircleSeriesCreate.model_validate(_series_data(values))
            if data.start_date < utcnow().date() - timedelta(days=1):
                raise InlineErrors({START_BLOCK: "Pick today or a later date."})
            series, cohort = await create_series(session=session, actor=actor, data=data)
            await publish_home(context=context, client=client, session=session)
        return series_public(series, cohort, now=utcnow()), cohort


async def submit_series(
    ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Create the series, or show inline what is wrong; then tell the owner when it starts."""
    try:
        series, cohort = await _create(context, client, view)
    except InlineErrors as exc:
        await ack(response_action="errors", errors=exc.errors)
        return
    await ack()
    notice = created_notice(series, cohort=cohort.name, zone=cohort.timezone)
    await tell_requester(context, client, str(notice))


async def open_edit_modal(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """A series' Edit button: the modal with the series' rules as they are."""
    await ack()
    async with unit_of_work(context) as session:
        actor = await owner_actor(session, context)
        series, cohort = await get_series(session=session, actor=actor,
                                          series_id=button_id(action.get("value")))
        require_manager(actor, cohort.id)
        current = series_public(series, cohort, now=utcnow())
    await client.views_open(trigger_id=body["trigger_id"],
                            view=edit_series_modal(current))


async def submit_edit(
    ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Save the edited rules (rounds already formed stay), or show inline what is wrong."""
    values = modal_values(view)
    try:
        changes = {k: v for k, v in _series_data(values).items() if k != "cohort_id"}
        async with unit_of_work(context) as session:
            with _marked_inline(NAME_BLOCK):
                actor = await owner_actor(session, context)
                data = CircleSeriesUpdate.model_validate(changes)
                await update_series(session=session, actor=actor, data=data,
                                    series_id=button_id(view.get("private_metadata")))
                await publish_home(context=context, client=client, session=session)
    except InlineErrors as exc:
        await ack(response_action="errors", errors=exc.errors)
        return
    await ack()


async def _set_active(
    action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext, *, active: bool
) -> None:
    async with unit_of_work(context) as session:
        actor = await owner_actor(session, context)
        await update_series(session=session, actor=actor,
                            series_id=button_id(action.get("value")),
                            data=CircleSeriesUpdate(active=active))
        await publish_home(context=context, client=client, session=session)


async def stop_series(
    ack: AsyncAck, action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Stop: no new rounds, no more follow-ups (after Slack's own confirm dialog)."""
    await ack()
    await _set_active(action, client, context, active=False)


async def restart_series(
    ack: AsyncAck, action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Restart: rounds form again from the next date on (none is formed late)."""
    await ack()
    await _set_active(action, client, context, active=True)


def register(app: AsyncApp) -> None:
    """Register New circle series, Edit and their modals, and Stop and Restart."""
    app.action(NEW_SERIES)(open_series_modal)
    app.view(SERIES_MODAL)(submit_series)
    app.action(EDIT_SERIES)(open_edit_modal)
    app.view(EDIT_MODAL)(submit_edit)
    app.action(STOP_SERIES)(stop_series)
    app.action(RESTART_SERIES)(restart_series)
