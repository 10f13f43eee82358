"""A program owner starts a circle series from the Home tab, against the Slack stand-in:
the modal's answers become the series the API would create, bad answers are marked inline
with nothing saved, and the Home tab then lists the series with its next round."""

from __future__ import annotations

import json
from datetime import time, timedelta
from typing import Any

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import circle_series as blocks
from bot.blocks import validate_view
from bot.sandbox import SlackSandbox
from services.circles.models import CircleSeries, CircleSeriesCreate
from services.db import utcnow
from services.people.models import Cohort
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
    return await owned_cohort(session, timezone="America/Chicago")


def answers(cohort: Cohort, changes: dict[str, Any] | None = None) -> dict[str, Any]:
    start = (utcnow() + timedelta(days=3)).date().isoformat()
    values: dict[str, Any] = {
        blocks.COHORT_BLOCK: selected(str(cohort.id)),
        blocks.NAME_BLOCK: text_input("Spring circles"),
        blocks.SIZE_BLOCK: selected("3"),
        blocks.CADENCE_BLOCK: selected("1"),
        blocks.WEEKDAY_BLOCK: selected("3"),
        blocks.TIME_BLOCK: {"type": "timepicker", "selected_time": "09:30"},
        blocks.START_BLOCK: date_input(start),
        blocks.SPREAD_BLOCK: selected("240"),
        blocks.MIXING_BLOCK: {"type": "checkboxes",
                              "selected_options": [{"value": "mix_team"}, {"value": "affinity"}]},
    }
    return values | (changes or {})


async def open_modal(owner: SlackUser, sandbox: SlackSandbox) -> dict[str, Any]:
    await owner.open_home()
    await eventually(lambda: sandbox.home_view(OWNER))
    assert blocks.NEW_SERIES in json.dumps(sandbox.home_view(OWNER))
    await owner.click(blocks.NEW_SERIES, value="new")
    opened = await eventually(lambda: sandbox.calls("views.open"))
    view: dict[str, Any] = opened[-1].args["view"]
    assert view["callback_id"] == blocks.SERIES_MODAL
    validate_view(view)
    return view


async def test_an_owner_starts_a_series_and_sees_it_on_home(
    cohort: Cohort, owner: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    view = await open_modal(owner, sandbox)
    assert "Spring Leaders" in json.dumps(view)
    assert "No circle series yet." in json.dumps(sandbox.home_view(OWNER))

    response = await owner.submit(view, answers(cohort))
    assert response.status_code == 200 and not response.content

    [series] = (await session.exec(select(CircleSeries))).all()
    assert (series.cohort_id, series.name, series.group_size, series.cadence_weeks) == (
        cohort.id, "Spring circles", 3, 1)
    assert (series.weekday, series.local_time, series.max_utc_spread_minutes) == (
        3, time(9, 30), 240)
    assert (series.mix_team, series.mix_level, series.affinity) == (True, False, True)

    told = (await eventually(lambda: sandbox.messages(OWNER)))[-1]["text"]
    assert "*Spring circles* is set up for Spring Leaders: 3 people, every week." in told
    assert "at 09:30 (America/Chicago)" in told
    # The Home tab is published again once the series is saved.
    listed = await eventually(
        lambda: "Spring circles" in json.dumps(sandbox.home_view(OWNER) or {}))
    assert listed
    home = json.dumps(sandbox.home_view(OWNER))
    assert "3 people, every week on Thursdays at 09:30" in home and "next round Thu" in home


@pytest.mark.parametrize(("change", "block", "says"), [
    ({blocks.NAME_BLOCK: text_input("   ")}, blocks.NAME_BLOCK, "at least 1 character"),
    ({blocks.COHORT_BLOCK: selected(None)}, blocks.COHORT_BLOCK, "Choose a cohort"),
    ({blocks.COHORT_BLOCK: selected("999999")}, blocks.COHORT_BLOCK, "not found"),
    ({blocks.START_BLOCK: date_input(None)}, blocks.START_BLOCK, "Pick the date"),
    ({blocks.START_BLOCK: date_input("2020-01-06")}, blocks.START_BLOCK, "today or a later"),
    ({blocks.SIZE_BLOCK: selected("9")}, blocks.SIZE_BLOCK, "less than or equal to 6"),
    ({blocks.SPREAD_BLOCK: selected("wide")}, blocks.SPREAD_BLOCK, "how far apart"),
    ({blocks.SPREAD_BLOCK: selected("1500")}, blocks.SPREAD_BLOCK, "less than or equal to 1440"),
    ({blocks.START_BLOCK: date_input("2027-02-30")}, blocks.START_BLOCK, "date"),
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
    assert (await session.exec(select(CircleSeries))).all() == []


async def test_a_leader_cannot_start_a_series(
    cohort: Cohort, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    await leader.open_home()
    await eventually(lambda: sandbox.home_view(LEADER))
    assert blocks.NEW_SERIES not in json.dumps(sandbox.home_view(LEADER))
    await leader.click(blocks.NEW_SERIES, value="new")  # a forged click from an old view
    told = await eventually(lambda: sandbox.ephemerals(user=LEADER))
    assert "program owners" in told[-1]["message"]["text"]
    assert sandbox.calls("views.open") == []
    view = {"type": "modal", "callback_id": blocks.SERIES_MODAL, "blocks": []}
    refused = await leader.submit(view, answers(cohort))
    assert refused.json()["response_action"] == "errors"
    assert (await session.exec(select(CircleSeries))).all() == []


async def test_an_owner_stops_and_restarts_a_series_from_home(
    cohort: Cohort, owner: SlackUser, leader: SlackUser, sandbox: SlackSandbox,
    session: AsyncSession,
) -> None:
    view = await open_modal(owner, sandbox)
    await owner.submit(view, answers(cohort))
    [series] = (await session.exec(select(CircleSeries))).all()
    await eventually(lambda: blocks.STOP_SERIES in json.dumps(sandbox.home_view(OWNER) or {}))
    stop = next(e for b in sandbox.home_view(OWNER)["blocks"] for e in b.get("elements", [])
                if e.get("action_id") == blocks.STOP_SERIES)
    assert stop["value"] == str(series.id) and "confirm" in stop
    validate_view(sandbox.home_view(OWNER) or {})  # the confirm dialog as Slack takes it

    await leader.click(blocks.STOP_SERIES, value=str(series.id))  # not an owner: refused
    await eventually(lambda: sandbox.ephemerals(user=LEADER))
    await session.refresh(series)
    assert series.active

    await owner.click(blocks.STOP_SERIES, value=str(series.id))
    shown = lambda: json.dumps(sandbox.home_view(OWNER), ensure_ascii=False)  # noqa: E731
    await eventually(lambda: "· stopped" in shown())
    await session.refresh(series)
    assert not series.active
    assert blocks.RESTART_SERIES in json.dumps(sandbox.home_view(OWNER))

    await owner.click(blocks.RESTART_SERIES, value=str(series.id))
    await eventually(lambda: "next round" in json.dumps(sandbox.home_view(OWNER) or {}))
    await session.refresh(series)
    assert series.active


async def test_an_untouched_modal_starts_a_series_with_the_apis_defaults(
    cohort: Cohort, owner: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    view = await open_modal(owner, sandbox)
    untouched: dict[str, Any] = {}
    for block in view["blocks"]:
        element = block["element"]
        if "initial_option" in element:
            untouched[block["block_id"]] = {"type": element["type"],
                                            "selected_option": element["initial_option"]}
        elif "initial_options" in element:
            untouched[block["block_id"]] = {"type": element["type"],
                                            "selected_options": element["initial_options"]}
        elif "initial_date" in element:
            untouched[block["block_id"]] = date_input(element["initial_date"])
        elif "initial_time" in element:
            untouched[block["block_id"]] = {"type": "timepicker",
                                            "selected_time": element["initial_time"]}
        else:
            untouched[block["block_id"]] = text_input(element["initial_value"])
    response = await owner.submit(view, untouched)
    assert response.status_code == 200 and not response.content
    [series] = (await session.exec(select(CircleSeries))).all()
    expected = CircleSeriesCreate(cohort_id=cohort.id or 0, name="Peer circles",
                                  start_date=series.start_date)
    chosen = {k: getattr(series, k) for k in expected.model_dump()}
    assert chosen == expected.model_dump()


async def test_an_owner_edits_a_series_from_home(
    cohort: Cohort, owner: SlackUser, leader: SlackUser, sandbox: SlackSandbox,
    session: AsyncSession,
) -> None:
    await open_modal(owner, sandbox)
    await owner.submit(sandbox.calls("views.open")[-1].args["view"], answers(cohort))
    [series] = (await session.exec(select(CircleSeries))).all()
    series.max_utc_spread_minutes = 300  # set through the API: not one of the modal's choices
    await session.commit()
    sandbox.clear_calls()

    await owner.click(blocks.EDIT_SERIES, value=str(series.id))
    opened = await eventually(lambda: sandbox.calls("views.open"))
    view = opened[-1].args["view"]
    assert view["callback_id"] == blocks.EDIT_MODAL
    validate_view(view)
    shown = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert blocks.COHORT_BLOCK not in shown and blocks.START_BLOCK not in shown
    assert shown[blocks.NAME_BLOCK]["initial_value"] == "Spring circles"
    assert shown[blocks.SIZE_BLOCK]["initial_option"]["value"] == "3"
    assert shown[blocks.TIME_BLOCK]["initial_time"] == "09:30"
    assert shown[blocks.SPREAD_BLOCK]["initial_option"]["text"]["text"] == "Within 5 hours"
    ticked = [o["value"] for o in shown[blocks.MIXING_BLOCK]["initial_options"]]
    assert ticked == ["mix_team", "affinity"]

    blank = await owner.submit(view, {blocks.NAME_BLOCK: text_input(" ")})
    assert blocks.NAME_BLOCK in blank.json()["errors"]
    refused = await leader.submit(view, {blocks.NAME_BLOCK: text_input("Taken over")})
    assert refused.json()["response_action"] == "errors"
    await session.refresh(series)
    assert series.name == "Spring circles"

    changes = {blocks.NAME_BLOCK: text_input("Spring pairs"), blocks.SIZE_BLOCK: selected("2"),
               blocks.TIME_BLOCK: {"type": "timepicker", "selected_time": "14:00"},
               blocks.SPREAD_BLOCK: selected("300"),
               blocks.MIXING_BLOCK: {"type": "checkboxes", "selected_options": []}}
    saved = await owner.submit(view, changes)
    assert saved.status_code == 200 and not saved.content
    await session.refresh(series)
    assert (series.name, series.group_size, series.local_time) == ("Spring pairs", 2, time(14))
    assert series.max_utc_spread_minutes == 300 and series.cohort_id == cohort.id
    assert (series.mix_team, series.mix_level, series.affinity) == (False, False, False)
    await eventually(lambda: "Spring pairs" in json.dumps(sandbox.home_view(OWNER) or {}))


async def test_coach_circles_points_an_owner_to_the_home_tab(
    cohort: Cohort, owner: SlackUser, leader: SlackUser, sandbox: SlackSandbox
) -> None:
    await owner.command("circles")
    await eventually(lambda: sandbox.calls("views.open"))
    await leader.command("circles")
    opened = await eventually(lambda: len(sandbox.calls("views.open")) == 2
                              and sandbox.calls("views.open"))
    owners, leaders = (json.dumps(call.args["view"]) for call in opened)  # in that order
    assert "from your Home tab" in owners
    assert "from your Home tab" not in leaders
