"""Modal state and payloads shaped as Slack shapes them, read back by Coachbot's own parser."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.blocks.plan_modals import goal_modal, milestone_modal, progress_modal
from bot.listeners.modals import modal_values
from bot.sandbox_client import payloads
from bot.sandbox_client.inputs import BadInput, ModalForm, parse_date, pick_option, pick_options
from bot.sandbox_client.render import Control, Numbering, render_home
from services.plans.models import (
    GoalPublic,
    GoalStatus,
    MilestonePublic,
    MilestoneStatus,
    Visibility,
)

NOW = datetime(2027, 3, 1, tzinfo=UTC)
PERSON = payloads.Person(
    user_id="UDEMOLEAD01", user_name="ada", team_id="T0COACHBOT", team_domain="t0coachbot"
)
VISIBILITY: dict[str, Any] = {
    "type": "static_select",
    "action_id": "home_goal_visibility",
    "placeholder": {"type": "plain_text", "text": "Who can see this"},
    "options": [
        {"text": {"type": "plain_text", "text": "Only me"}, "value": "7:private"},
        {"text": {"type": "plain_text", "text": "Me and my coach"}, "value": "7:coach"},
        {"text": {"type": "plain_text", "text": "Counts only"}, "value": "7:aggregate"},
    ],
}


def opened(view: dict[str, Any]) -> ModalForm:
    return ModalForm(view={**view, "id": "V000000001", "hash": "1.a", "state": {"values": {}}})


def test_a_filled_goal_modal_reads_back_through_coachbots_parser() -> None:
    form = opened(goal_modal())
    title, why, competency, visibility = form.fields
    form.fill(title, "Listen first")
    form.fill(why, "Two lines\\nof why")
    form.fill(competency, "deleg")
    form.fill(visibility, "2")
    view = form.submitted_view()
    assert view["state"]["values"]["title"] == {
        "value": {"type": "plain_text_input", "value": "Listen first"}
    }
    assert view["state"]["values"]["visibility"]["value"]["selected_option"] == {
        "text": {"type": "plain_text", "text": "Only me", "emoji": True},
        "value": "private",
    }
    assert modal_values(view) == {
        "title": "Listen first",
        "why": "Two lines\nof why",
        "competency": "delegation",
        "visibility": "private",
    }


def test_an_untouched_modal_sends_its_initial_values_and_empty_inputs_as_null() -> None:
    goal = GoalPublic(
        id=3,
        member_id=1,
        title="Delegate",
        competency="resilience",
        visibility=Visibility.coach,
        status=GoalStatus.at_risk,
        created_at=NOW,
        updated_at=NOW,
    )
    form = opened(goal_modal(goal))
    assert modal_values(form.submitted_view()) == {
        "title": "Delegate",
        "why": None,
        "competency": "resilience",
        "visibility": "coach",
        "status": "at_risk",
    }
    assert form.missing() == []
    form.fill(form.fields[0], "")
    assert [item.block_id for item in form.missing()] == ["title"]


def test_dates_and_checkboxes_have_slacks_shapes() -> None:
    form = opened(milestone_modal(goal_id=3))
    form.fill(form.fields[1], "2027-04-30")
    assert form.state()["values"]["due_date"] == {
        "value": {"type": "datepicker", "selected_date": "2027-04-30"}
    }
    milestone = MilestonePublic(
        id=9,
        goal_id=3,
        title="Hand off",
        position=0,
        done_at=None,
        status=MilestoneStatus.open,
        created_at=NOW,
        updated_at=NOW,
    )
    form = opened(progress_modal(goals=[], milestones=[milestone], goal_id=3))
    assert form.state()["values"]["milestone_done"] == {
        "value": {"type": "checkboxes", "selected_options": []}
    }
    form.fill(form.fields[1], "1")
    assert modal_values(form.submitted_view())["milestone_done"] == ["done"]


def test_an_update_keeps_what_was_typed_where_the_input_survives() -> None:
    form = opened(goal_modal())
    form.fill(form.fields[0], "Kept")
    updated = form.replaced_by({**form.view, "hash": "2.b"})
    assert modal_values(updated.submitted_view())["title"] == "Kept"


@pytest.mark.parametrize(
    ("wanted", "value"),
    [
        ("1", "7:private"),
        ("counts only", "7:aggregate"),
        ("7:coach", "7:coach"),
        ("me and", "7:coach"),
        ("counts", "7:aggregate"),
        ("coach", "7:coach"),
    ],
)
def test_options_by_number_text_value_or_unique_part(wanted: str, value: str) -> None:
    assert pick_option(VISIBILITY, wanted)["value"] == value


@pytest.mark.parametrize(
    ("wanted", "problem"),
    [
        ("4", "there are options 1–3, not 4"),
        ("e", "could be several options"),
        ("nobody", "'nobody' is not an option; choose one of: Only me | Me and my coach"),
    ],
)
def test_options_that_cannot_be_picked_are_explained(wanted: str, problem: str) -> None:
    with pytest.raises(BadInput, match=problem):
        pick_option(VISIBILITY, wanted)


def test_several_options_and_dates() -> None:
    assert [o["value"] for o in pick_options(VISIBILITY, "1 3")] == ["7:private", "7:aggregate"]
    assert [o["value"] for o in pick_options(VISIBILITY, "only me, 2")] == ["7:private", "7:coach"]
    assert pick_options(VISIBILITY, "none") == []
    assert parse_date(" 2027-02-28 ") == "2027-02-28"
    for bad in ("2027-02-30", "28/02/2027", "tomorrow"):
        with pytest.raises(BadInput, match="YYYY-MM-DD"):
            parse_date(bad)


def test_actions_carry_the_view_and_the_choice_as_slack_reports_them() -> None:
    home = {
        "id": "V000000002",
        "type": "home",
        "state": {"values": {}},
        "blocks": [{"type": "actions", "block_id": "goal_7", "elements": [VISIBILITY]}],
    }
    numbering = Numbering()
    lines = render_home(home, numbering, owner="Ada Leader")
    assert lines[1] == (
        '    [1] select "Who can see this": 1. Only me | 2. Me and my coach | 3. Counts only'
    )
    control = numbering.items[0]
    assert isinstance(control, Control) and control.surface.kind == "home"
    reported = payloads.action(VISIBILITY, block_id="goal_7", chosen=pick_option(VISIBILITY, "2"))
    payload = payloads.view_action(PERSON, view=home, reported=reported, trigger="1.2.abc")
    assert payload["type"] == "block_actions"
    assert payload["container"] == {"type": "view", "view_id": "V000000002"}
    assert payload["user"]["id"] == "UDEMOLEAD01" and payload["team"]["id"] == "T0COACHBOT"
    action = payload["actions"][0]
    assert (action["type"], action["action_id"], action["block_id"]) == (
        "static_select",
        "home_goal_visibility",
        "goal_7",
    )
    assert action["selected_option"]["value"] == "7:coach"


def test_a_button_that_asks_first_says_so() -> None:
    stop = {"type": "button", "action_id": "stop", "value": "3",
            "text": {"type": "plain_text", "text": "Stop"},
            "confirm": {"title": {"type": "plain_text", "text": "Stop this series?"}}}
    home = {"id": "V1", "type": "home", "state": {"values": {}},
            "blocks": [{"type": "actions", "block_id": "b", "elements": [stop]}]}
    lines = render_home(home, Numbering(), owner="Olivia Owner")
    assert lines[1] == '    [1] button "Stop" (asks first: "Stop this series?")'


def test_a_message_button_names_its_channel_and_message() -> None:
    button = {
        "type": "button",
        "action_id": "checkin_start",
        "value": "42",
        "text": {"type": "plain_text", "text": "Start check-in"},
    }
    message = {"ts": "1700000000.000100", "text": "Your check-in", "blocks": []}
    payload = payloads.message_action(
        PERSON,
        channel_id="D0123",
        message=message,
        reported=payloads.action(button, block_id="b1"),
        response_url="http://x/respond/1",
        trigger="1.2.abc",
    )
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "D0123",
        "is_ephemeral": False,
    }
    assert payload["message"] == message and payload["response_url"] == "http://x/respond/1"
    assert payload["actions"][0]["value"] == "42"
    assert payloads.trigger_id() != payloads.trigger_id()
