"""A program owner adds a check-in schedule from the Home tab, against the Slack stand-in:
the modal's answers become the schedule the API would create, bad answers are marked inline
with nothing saved, and the Home tab lists the schedule with Stop or Restart."""

from __future__ import annotations

import json
from datetime import time, timedelta
from typing import Any

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import checkin_schedules as blocks
from bot.blocks import validate_view
from bot.sandbox import SlackSandbox
from services.checkins.models import CheckinKind, CheckinSchedule, CheckinTemplate
from services.db import utcnow
from services.people.models import Cohort, Workspace
from tests.factories.people import make_cohort
from tests.slack.conftest import (
    LEADER,
    OWNER,
    SlackUser,
    date_input,
    eventually,
    owned_cohort,
    selected,
    text_input,
)


@pytest.fixture
async def cohort(session: AsyncSession) -> Cohort:
    return await owned_cohort(session, timezone="Europe/Berlin")


def checked(*values: str) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}


def answers(cohort: Cohort, changes: dict[str, Any] | None = None) -> dict[str, Any]:
    start = (utcnow() + timedelta(days=3)).date()
    values: dict[str, Any] = {
        blocks.COHORT_BLOCK: selected(str(cohort.id)),
        blocks.NAME_BLOCK: text_input("Friday look-back"),
        blocks.QUESTIONS_BLOCK: selected(blocks.DEFAULT_QUESTIONS),
        blocks.WEEKDAYS_BLOCK: checked("0", "4"),
        blocks.TIME_BLOCK: {"type": "timepicker", "selected_time": "15:30"},
        blocks.START_BLOCK: date_input(start.isoformat()),
        blocks.END_BLOCK: date_input((start + timedelta(days=60)).isoformat()),
        blocks.REMINDER_BLOCK: selected("240"),
    }
    return values | (changes or {})


async def open_modal(owner: SlackUser, sandbox: SlackSandbox) -> dict[str, Any]:
    await owner.open_home()
    await eventually(lambda: sandbox.home_view(OWNER))
    assert blocks.NEW_SCHEDULE in json.dumps(sandbox.home_view(OWNER))
    await owner.click(blocks.NEW_SCHEDULE, value="new")
    opened = await eventually(lambda: sandbox.calls("views.open"))
    view: dict[str, Any] = opened[-1].args["view"]
    assert view["callback_id"] == blocks.SCHEDULE_MODAL
    validate_view(view)
    return view


async def test_an_owner_adds_a_schedule_and_sees_it_on_home(
    cohort: Cohort, owner: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    view = await open_modal(owner, sandbox)
    assert "Spring Leaders" in json.dumps(view)
    assert "No check-in schedule yet." in json.dumps(sandbox.home_view(OWNER))

    response = await owner.submit(view, answers(cohort))
    assert response.status_code == 200 and not response.content

    [schedule] = (await session.exec(select(CheckinSchedule))).all()
    start = (utcnow() + timedelta(days=3)).date()
    assert (schedule.cohort_id, schedule.name, schedule.kind, schedule.template_id) == (
        cohort.id, "Friday look-back", CheckinKind.checkin, None)
    assert (schedule.weekdays, schedule.local_time) == ([0, 4], time(15, 30))
    assert (schedule.start_date, schedule.end_date) == (start, start + timedelta(days=60))
    assert (schedule.reminder_after_minutes, schedule.active) == (240, True)

    told = (await eventually(lambda: sandbox.messages(OWNER)))[-1]["text"]
    assert "*Friday look-back* is set up for Spring Leaders: Mondays and Fridays at 15:30 " \
        "on each leader's own clock" in told
    shown = lambda: json.dumps(sandbox.home_view(OWNER) or {}, ensure_ascii=False)  # noqa: E731
    await eventually(lambda: "Friday look-back" in shown())
    assert "the weekly questions, Mondays and Fridays at 15:30 on each leader's clock" in shown()
    assert f"from {start:%a} {start.day} {start:%b}" in shown()


async def test_a_template_or_a_reflection_prompt_can_be_asked_instead(
    cohort: Cohort, owner: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    template = CheckinTemplate(workspace_id=cohort.workspace_id, cohort_id=cohort.id,
                               name="Pulse", questions=[])
    session.add(template)
    await session.commit()
    view = await open_modal(owner, sandbox)
    assert "Template: Pulse" in json.dumps(view)
    await owner.submit(view, answers(cohort, {
        blocks.QUESTIONS_BLOCK: selected(f"{blocks.TEMPLATE_PREFIX}{template.id}")}))
    await owner.submit(view, answers(cohort, {
        blocks.NAME_BLOCK: text_input("Reflect"),
        blocks.QUESTIONS_BLOCK: selected(blocks.REFLECTION)}))
    rows = (await session.exec(select(CheckinSchedule).order_by(CheckinSchedule.id))).all()
    assert [(s.kind, s.template_id) for s in rows] == [
        (CheckinKind.checkin, template.id), (CheckinKind.reflection, None)]
    shown = lambda: json.dumps(sandbox.home_view(OWNER) or {})  # noqa: E731
    await eventually(lambda: "a reflection prompt" in shown())
    assert "template Pulse" in shown()


@pytest.mark.parametrize(("change", "block", "says"), [
    ({blocks.NAME_BLOCK: text_input("   ")}, blocks.NAME_BLOCK, "at least 1 character"),
    ({blocks.COHORT_BLOCK: selected(None)}, blocks.COHORT_BLOCK, "Choose a cohort"),
    ({blocks.COHORT_BLOCK: selected("999999")}, blocks.COHORT_BLOCK, "not found"),
    ({blocks.WEEKDAYS_BLOCK: checked()}, blocks.WEEKDAYS_BLOCK, "at least one day"),
    ({blocks.WEEKDAYS_BLOCK: checked("9")}, blocks.WEEKDAYS_BLOCK, "0 (Monday) to 6"),
    ({blocks.START_BLOCK: date_input(None)}, blocks.START_BLOCK, "Pick the first day"),
    ({blocks.START_BLOCK: date_input("2020-01-06")}, blocks.START_BLOCK, "today or a later"),
    ({blocks.START_BLOCK: date_input("2027-02-30")}, blocks.START_BLOCK, "date"),
    ({blocks.END_BLOCK: date_input("2026-01-01")}, blocks.END_BLOCK, "on or after the first"),
    ({blocks.QUESTIONS_BLOCK: selected("template:x")}, blocks.QUESTIONS_BLOCK, "from the list"),
    ({blocks.REMINDER_BLOCK: selected("soon")}, blocks.REMINDER_BLOCK, "from the list"),
    ({blocks.REMINDER_BLOCK: selected("1")}, blocks.REMINDER_BLOCK, "greater than or equal"),
])
async def test_bad_answers_are_marked_inline_and_nothing_is_saved(
    cohort: Cohort, owner: SlackUser, sandbox: SlackSandbox, session: AsyncSession,
    change: dict[str, Any], block: str, says: str,
) -> None:
    view = await open_modal(owner, sandbox)
    response = await owner.submit(view, answers(cohort, change))
    body = response.json()
    assert body["response_action"] == "errors"
    assert says in body["errors"][block]
    assert (await session.exec(select(CheckinSchedule))).all() == []


async def test_another_cohorts_template_is_refused_in_words(
    cohort: Cohort, owner: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    workspace = await session.get_one(Workspace, cohort.workspace_id)
    elsewhere = await make_cohort(session, workspace)
    template = CheckinTemplate(workspace_id=cohort.workspace_id, cohort_id=elsewhere.id,
                               name="Theirs", questions=[])
    session.add(template)
    await session.commit()
    view = await open_modal(owner, sandbox)
    assert "Theirs" not in json.dumps(view)  # the owner cannot see it, so it is not offered
    response = await owner.submit(view, answers(cohort, {
        blocks.QUESTIONS_BLOCK: selected(f"{blocks.TEMPLATE_PREFIX}{template.id}")}))
    assert response.json()["errors"] == {
        blocks.QUESTIONS_BLOCK: "That template belongs to another cohort: choose one of this "
        "cohort's, a shared one, or the weekly questions."}
    assert (await session.exec(select(CheckinSchedule))).all() == []


async def test_a_leader_cannot_add_a_schedule(
    cohort: Cohort, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    await leader.open_home()
    await eventually(lambda: sandbox.home_view(LEADER))
    assert blocks.NEW_SCHEDULE not in json.dumps(sandbox.home_view(LEADER))
    await leader.click(blocks.NEW_SCHEDULE, value="new")  # a forged click from an old view
    told = await eventually(lambda: sandbox.ephemerals(user=LEADER))
    assert "program owners" in told[-1]["message"]["text"]
    assert sandbox.calls("views.open") == []
    view = {"type": "modal", "callback_id": blocks.SCHEDULE_MODAL, "blocks": []}
    refused = await leader.submit(view, answers(cohort))
    assert refused.json()["response_action"] == "errors"
    assert (await session.exec(select(CheckinSchedule))).all() == []


async def test_an_owner_stops_and_restarts_a_schedule_from_home(
    cohort: Cohort, owner: SlackUser, leader: SlackUser, sandbox: SlackSandbox,
    session: AsyncSession,
) -> None:
    view = await open_modal(owner, sandbox)
    await owner.submit(view, answers(cohort))
    [schedule] = (await session.exec(select(CheckinSchedule))).all()
    await eventually(lambda: blocks.STOP_SCHEDULE in json.dumps(sandbox.home_view(OWNER) or {}))
    stop = next(e for b in sandbox.home_view(OWNER)["blocks"] for e in b.get("elements", [])
                if e.get("action_id") == blocks.STOP_SCHEDULE)
    assert stop["value"] == str(schedule.id) and "confirm" in stop
    validate_view(sandbox.home_view(OWNER) or {})

    await leader.click(blocks.STOP_SCHEDULE, value=str(schedule.id))  # not an owner: refused
    await eventually(lambda: sandbox.ephemerals(user=LEADER))
    await session.refresh(schedule)
    assert schedule.active

    await owner.click(blocks.STOP_SCHEDULE, value=str(schedule.id))
    shown = lambda: json.dumps(sandbox.home_view(OWNER), ensure_ascii=False)  # noqa: E731
    await eventually(lambda: "· stopped" in shown())
    await session.refresh(schedule)
    assert not schedule.active
    assert blocks.RESTART_SCHEDULE in shown()

    await owner.click(blocks.RESTART_SCHEDULE, value=str(schedule.id))
    await eventually(lambda: "· from " in shown())
    await session.refresh(schedule)
    assert schedule.active


async def open_edit(owner: SlackUser, sandbox: SlackSandbox, schedule_id: int) -> dict[str, Any]:
    sandbox.clear_calls()
    await owner.click(blocks.EDIT_SCHEDULE, value=str(schedule_id))
    opened = await eventually(lambda: sandbox.calls("views.open"))
    view: dict[str, Any] = opened[-1].args["view"]
    assert view["callback_id"] == blocks.EDIT_MODAL
    validate_view(view)
    return view


def initial(view: dict[str, Any], block_id: str) -> Any:
    element = next(b for b in view["blocks"] if b.get("block_id") == block_id)["element"]
    for key in ("initial_value", "initial_time", "initial_date"):
        if key in element:
            return element[key]
    if "initial_options" in element:
        return [o["value"] for o in element["initial_options"]]
    return element.get("initial_option", {}).get("value")


async def test_edit_shows_the_rules_as_they_are_and_saves_the_changes(
    cohort: Cohort, owner: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    view = await open_modal(owner, sandbox)
    await owner.submit(view, answers(cohort))
    [schedule] = (await session.exec(select(CheckinSchedule))).all()
    schedule.reminder_after_minutes = 90  # set through the API: not one of the modal's choices
    session.add(schedule)
    await session.commit()

    edit = await open_edit(owner, sandbox, schedule.id or 0)
    assert blocks.COHORT_BLOCK not in json.dumps(edit) and blocks.START_BLOCK not in json.dumps(
        edit)
    assert (initial(edit, blocks.NAME_BLOCK), initial(edit, blocks.WEEKDAYS_BLOCK),
            initial(edit, blocks.TIME_BLOCK), initial(edit, blocks.REMINDER_BLOCK)) == (
        "Friday look-back", ["0", "4"], "15:30", "90")
    assert initial(edit, blocks.END_BLOCK) == schedule.end_date.isoformat()  # type: ignore[union-attr]
    assert blocks.REFLECTION not in json.dumps(edit)  # a schedule keeps its kind

    changed = {
        blocks.NAME_BLOCK: text_input("Wednesday pulse"),
        blocks.QUESTIONS_BLOCK: selected(blocks.DEFAULT_QUESTIONS),
        blocks.WEEKDAYS_BLOCK: checked("2"),
        blocks.TIME_BLOCK: {"type": "timepicker", "selected_time": "11:00"},
        blocks.END_BLOCK: date_input(None),
        blocks.REMINDER_BLOCK: selected(blocks.NO_REMINDER),
    }
    response = await owner.submit(edit, changed)
    assert response.status_code == 200 and not response.content
    await session.refresh(schedule)
    assert (schedule.name, schedule.weekdays, schedule.local_time) == (
        "Wednesday pulse", [2], time(11, 0))
    assert (schedule.end_date, schedule.reminder_after_minutes) == (None, None)
    shown = lambda: json.dumps(sandbox.home_view(OWNER) or {})  # noqa: E731
    await eventually(lambda: "Wednesday pulse" in shown())
    every = await owner.submit(edit, changed | {
        blocks.WEEKDAYS_BLOCK: checked(*"0123456")})
    assert every.status_code == 200
    await eventually(lambda: "the weekly questions, every day at 11:00" in shown())

    refused = await owner.submit(edit, changed | {blocks.NAME_BLOCK: text_input(" ")})
    assert "at least 1 character" in refused.json()["errors"][blocks.NAME_BLOCK]
    refused = await owner.submit(edit, changed | {blocks.WEEKDAYS_BLOCK: checked()})
    assert refused.json()["errors"] == {blocks.WEEKDAYS_BLOCK: "Tick at least one day."}
    await session.refresh(schedule)
    assert schedule.name == "Wednesday pulse"


async def test_a_reflection_schedule_is_edited_as_one_and_a_leader_cannot_edit(
    cohort: Cohort, owner: SlackUser, leader: SlackUser, sandbox: SlackSandbox,
    session: AsyncSession,
) -> None:
    view = await open_modal(owner, sandbox)
    await owner.submit(view, answers(cohort, {blocks.QUESTIONS_BLOCK: selected(blocks.REFLECTION)}))
    [schedule] = (await session.exec(select(CheckinSchedule))).all()
    edit = await open_edit(owner, sandbox, schedule.id or 0)
    questions = next(b for b in edit["blocks"] if b["block_id"] == blocks.QUESTIONS_BLOCK)
    assert [o["value"] for o in questions["element"]["options"]] == [blocks.REFLECTION]

    forged = await leader.submit(edit, {blocks.NAME_BLOCK: text_input("Mine now"),
                                        blocks.QUESTIONS_BLOCK: selected(blocks.REFLECTION),
                                        blocks.WEEKDAYS_BLOCK: checked("1"),
                                        blocks.TIME_BLOCK: {"type": "timepicker",
                                                            "selected_time": "10:00"}})
    assert forged.json()["response_action"] == "errors"
    await session.refresh(schedule)
    assert (schedule.name, schedule.kind) == ("Friday look-back", CheckinKind.reflection)
