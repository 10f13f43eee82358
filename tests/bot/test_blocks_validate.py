"""validate_message / validate_view: slack_sdk's checks plus the limits it leaves out."""

from __future__ import annotations

from typing import Any

import pytest

from bot.blocks import (
    InvalidBlockKit,
    actions,
    button,
    context,
    divider,
    header,
    option,
    section,
    validate_message,
    validate_view,
)
from bot.blocks.validate import check_view


def pointers(error: pytest.ExceptionInfo[InvalidBlockKit]) -> list[str]:
    return [problem.pointer for problem in error.value.problems]


def message(**payload: Any) -> dict[str, Any]:
    return {"text": "Time for your check-in", **payload}


def modal(**view: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": "Check-in"},
            "blocks": [section(text="How did it go?")], **view}


def test_a_message_built_from_the_helpers_is_valid() -> None:
    validate_message(message(blocks=[
        header(text="Weekly check-in"),
        section(text="How did *this* week go?", fields=["Goal", "Delegate more"],
                accessory=button(text="Open plan", action_id="plan_open")),
        divider(),
        actions(elements=[button(text="Start", action_id="checkin_start", value="42",
                                 style="primary")]),
        context(texts=["Due Friday"]),
    ], metadata={"event_type": "coachbot_delivery", "event_payload": {"key": "k1"}}))


@pytest.mark.parametrize("text", [None, "", "   "])
def test_a_message_needs_fallback_text(text: str | None) -> None:
    with pytest.raises(InvalidBlockKit) as error:
        validate_message({"text": text, "blocks": [divider()]})
    assert pointers(error) == ["/text"]


def test_a_message_holds_at_most_50_blocks() -> None:
    validate_message(message(blocks=[divider()] * 50))
    with pytest.raises(InvalidBlockKit, match="no more than 50") as error:
        validate_message(message(blocks=[divider()] * 51))
    assert pointers(error) == ["/blocks"]


def test_slack_sdk_length_checks_apply_to_nested_elements() -> None:
    long_button = {"type": "button", "action_id": "a",
                   "text": {"type": "plain_text", "text": "x" * 76}}
    blocks = [divider(), {"type": "actions", "elements": [long_button]}]
    with pytest.raises(InvalidBlockKit, match="cannot exceed 75") as error:
        validate_message(message(blocks=blocks))
    assert pointers(error) == ["/blocks/1"]


def test_section_text_over_3000_characters_is_refused() -> None:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    with pytest.raises(InvalidBlockKit, match="3000"):
        validate_message(message(blocks=[block]))


@pytest.mark.parametrize("block", [
    {"type": "no_such_block"},
    {"text": "no type"},
    "not an object",
    {"type": "section"},
    {"type": "section", "text": {"type": "mrkdwn"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": ""}},
    {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}},
])
def test_malformed_blocks_are_refused_with_a_pointer(block: object) -> None:
    with pytest.raises(InvalidBlockKit) as error:
        validate_message(message(blocks=[divider(), block]))
    assert pointers(error)[0].startswith("/blocks/1")


def test_blocks_must_be_a_list() -> None:
    with pytest.raises(InvalidBlockKit, match="array"):
        validate_message(message(blocks={"type": "divider"}))


def test_block_ids_must_be_unique() -> None:
    blocks = [section(text="a", block_id="same"), section(text="b", block_id="same")]
    with pytest.raises(InvalidBlockKit, match="duplicate block_id") as error:
        validate_message(message(blocks=blocks))
    assert pointers(error) == ["/blocks/1/block_id"]


def test_option_lengths_are_checked_where_slack_sdk_does_not() -> None:
    select = {"type": "static_select", "action_id": "pick",
              "placeholder": {"type": "plain_text", "text": "Pick"},
              "options": [{"text": {"type": "plain_text", "text": "y" * 76}, "value": "v"}]}
    with pytest.raises(InvalidBlockKit, match="option text") as error:
        validate_message(message(blocks=[{"type": "actions", "elements": [select]}]))
    assert pointers(error) == ["/blocks/0/elements/0/options/0/text"]


@pytest.mark.parametrize("metadata", [
    "delivery", {"event_payload": {}}, {"event_type": "x", "event_payload": "k1"},
])
def test_metadata_needs_an_event_type_and_payload(metadata: object) -> None:
    with pytest.raises(InvalidBlockKit) as error:
        validate_message(message(metadata=metadata))
    assert all(p.startswith("/metadata") for p in pointers(error))


def test_the_error_lists_every_problem() -> None:
    with pytest.raises(InvalidBlockKit) as error:
        validate_message({"blocks": [{"type": "nope"}], "metadata": {}})
    assert len(error.value.problems) == 4
    assert str(error.value).startswith("invalid message: /text: text is required")


def test_a_valid_modal_and_home_tab_pass() -> None:
    validate_view(modal(submit={"type": "plain_text", "text": "Send"}, callback_id="checkin",
                        private_metadata="42"))
    validate_view({"type": "home", "blocks": [header(text="Your plan")]})


def test_a_view_holds_at_most_100_blocks() -> None:
    validate_view(modal(blocks=[divider()] * 100))
    with pytest.raises(InvalidBlockKit, match="no more than 100") as error:
        validate_view(modal(blocks=[divider()] * 101))
    assert pointers(error) == ["/view/blocks"]


@pytest.mark.parametrize(("view", "pointer"), [
    (modal(type="dialog"), "/view/type"),
    (modal(title={"type": "plain_text", "text": "A title that is far too long"}), "/view"),
    (modal(private_metadata="x" * 3001), "/view"),
    (modal(blocks=[]), "/view/blocks"),
    ({"type": "modal", "blocks": [divider()]}, "/view/title"),
    (modal(blocks=[{"type": "input", "label": {"type": "plain_text", "text": "Answer"},
                    "element": {"type": "plain_text_input", "action_id": "a"}}]),
     "/view/submit"),
    (modal(blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]),
     "/view/blocks/0"),
])
def test_invalid_views_are_refused(view: dict[str, Any], pointer: str) -> None:
    with pytest.raises(InvalidBlockKit) as error:
        validate_view(view)
    assert pointer in pointers(error)


def test_builders_escape_user_text_and_cut_it_to_size() -> None:
    block = section(text="<!channel> " + "x" * 4000, fields=["<@U1>"])
    assert block["text"]["text"].startswith("&lt;!channel&gt;")
    assert len(block["text"]["text"]) == 3000
    assert block["fields"][0]["text"] == "&lt;@U1&gt;"
    assert len(header(text="h" * 300)["text"]["text"]) == 150
    assert len(button(text="b" * 100, action_id="a")["text"]["text"]) == 75
    assert len(option(text="o" * 100, value="v")["text"]["text"]) == 75
    assert context(texts=["<!here>"])["elements"][0]["text"] == "&lt;!here&gt;"


@pytest.mark.parametrize("build", [
    lambda: button(text="Go", action_id="a" * 256),
    lambda: button(text="Go", action_id=""),
    lambda: button(text="Go", action_id="go", value="v" * 2001),
    lambda: option(text="Yes", value="v" * 151),
    lambda: section(text="x", block_id="b" * 256),
    lambda: section(),
    lambda: section(fields=["f"] * 11),
    lambda: context(texts=["c"] * 11),
    lambda: actions(elements=[]),
])
def test_builders_refuse_identifiers_they_would_have_to_cut(build: Any) -> None:
    with pytest.raises(ValueError):
        build()


def test_publishing_checks_the_limits_content_decides_without_building_models() -> None:
    home = {"type": "home", "blocks": [header(text="Your plan")]}
    check_view(home)
    with pytest.raises(InvalidBlockKit, match="no more than 100") as error:
        check_view({**home, "blocks": [divider()] * 101})
    assert pointers(error) == ["/view/blocks"]
    select = {"type": "static_select", "action_id": "pick",
              "options": [option(text="Yes", value="y"), {"text": {"type": "plain_text",
                                                                    "text": "o" * 76},
                                                           "value": "n"}]}
    empty = {"type": "section", "text": {"type": "mrkdwn", "text": ""}, "block_id": "a"}
    with pytest.raises(InvalidBlockKit) as error:
        check_view({**home, "blocks": [{"type": "actions", "elements": [select],
                                        "block_id": "a"}, empty]})
    assert pointers(error) == ["/view/blocks/0/elements/0/options/1/text",
                               "/view/blocks/1/text/text", "/view/blocks/1/block_id"]
    # What slack_sdk's models check is left to the builders' tests.
    too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    check_view({**home, "blocks": [too_long]})
    with pytest.raises(InvalidBlockKit):
        validate_view({**home, "blocks": [too_long]})
