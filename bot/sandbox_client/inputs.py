"""What a person types into Slack's inputs: options, dates, and an open modal's form state.

The state follows Slack's `view.state.values` shapes, so a submitted view reads exactly
like one from the Slack client: `{block_id: {action_id: {"type": ..., <value keys>}}}`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

JSON = dict[str, Any]

USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
SINGLE_CHOICE = frozenset({"static_select", "radio_buttons", "overflow", "external_select"})
MULTI_CHOICE = frozenset({"checkboxes", "multi_static_select"})
TYPED_TEXT = frozenset({"plain_text_input", "email_text_input", "url_text_input", "number_input"})
KIND_NAMES = {
    "plain_text_input": "text",
    "email_text_input": "email",
    "url_text_input": "URL",
    "number_input": "number",
    "static_select": "select",
    "external_select": "select",
    "radio_buttons": "radio",
    "overflow": "menu",
    "checkboxes": "checkboxes",
    "multi_static_select": "multi-select",
    "datepicker": "date",
    "timepicker": "time",
}


class BadInput(Exception):
    """Something the person typed that cannot be done; the message says why, in one line."""


def text_of(obj: object) -> str:
    """The text of a Block Kit text object (or a bare string)."""
    if isinstance(obj, Mapping):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


def options_of(element: Mapping[str, Any]) -> list[JSON]:
    """An element's options, option groups flattened, in the order Slack shows them."""
    options = [dict(o) for o in element.get("options") or [] if isinstance(o, Mapping)]
    for group in element.get("option_groups") or []:
        options += [dict(o) for o in group.get("options") or [] if isinstance(o, Mapping)]
    return options


def pick_option(element: Mapping[str, Any], wanted: str) -> JSON:
    """The option a person means: its number (from 1), its text or value, or a unique start."""
    options = options_of(element)
    if not options:
        raise BadInput("this element has no options to choose from")
    wanted = wanted.strip()
    if wanted.isdigit():
        number = int(wanted)
        if 1 <= number <= len(options):
            return options[number - 1]
        raise BadInput(f"there are options 1–{len(options)}, not {number}")
    folded = wanted.casefold()
    exact = [
        o
        for o in options
        if folded in (text_of(o.get("text")).casefold(), str(o.get("value", "")).casefold())
    ]
    if exact:
        return exact[0]
    names = " | ".join(text_of(o.get("text")) for o in options)
    for matches in (
        [o for o in options if text_of(o.get("text")).casefold().startswith(folded)],
        [o for o in options if folded in text_of(o.get("text")).casefold()],
    ):
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise BadInput(f"{wanted!r} could be several options; give its number ({names})")
    raise BadInput(f"{wanted!r} is not an option; choose one of: {names}")


def pick_options(element: Mapping[str, Any], wanted: str) -> list[JSON]:
    """Several options, by number or text, separated by commas ("none" for no option)."""
    if wanted.strip().casefold() in ("", "none", "-"):
        return []
    parts = [part for part in wanted.split(",") if part.strip()]
    if len(parts) == 1 and all(word.isdigit() for word in wanted.split()):
        parts = wanted.split()
    chosen: list[JSON] = []
    for part in parts:
        option = pick_option(element, part)
        if option not in chosen:
            chosen.append(option)
    return chosen


def parse_date(text: str) -> str:
    """A date as Slack's date picker gives it: YYYY-MM-DD."""
    text = text.strip()
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise BadInput(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def parse_time(text: str) -> str:
    """A time as Slack's time picker gives it: HH:MM, 24-hour."""
    text = text.strip()
    if not _TIME.fullmatch(text):
        raise BadInput(f"{text!r} is not a time; write it as HH:MM (24-hour)")
    return text


def option_shape(option: Mapping[str, Any]) -> JSON:
    """An option as Slack echoes it back in payloads: its text and value (and description)."""
    return {
        key: copy.deepcopy(option[key]) for key in ("text", "value", "description") if key in option
    }


def empty_state(element: Mapping[str, Any]) -> JSON:
    """An input's state before the person touches it: its initial value, if any."""
    kind = str(element.get("type"))
    state: JSON = {"type": kind}
    if kind in SINGLE_CHOICE:
        initial = element.get("initial_option")
        state["selected_option"] = option_shape(initial) if initial else None
    elif kind in MULTI_CHOICE:
        state["selected_options"] = [option_shape(o) for o in element.get("initial_options") or []]
    elif kind == "datepicker":
        state["selected_date"] = element.get("initial_date")
    elif kind == "timepicker":
        state["selected_time"] = element.get("initial_time")
    else:
        state["value"] = element.get("initial_value")
    return state


def state_for(element: Mapping[str, Any], typed: str) -> tuple[JSON, str | None]:
    """The state after typing `typed` into an input, and a warning where Slack would differ."""
    kind = str(element.get("type"))
    state: JSON = {"type": kind}
    if kind in SINGLE_CHOICE:
        state["selected_option"] = (
            None
            if typed.strip().casefold() in ("", "none", "-")
            else option_shape(pick_option(element, typed))
        )
    elif kind in MULTI_CHOICE:
        state["selected_options"] = [option_shape(o) for o in pick_options(element, typed)]
    elif kind == "datepicker":
        state["selected_date"] = parse_date(typed) if typed.strip() else None
    elif kind == "timepicker":
        state["selected_time"] = parse_time(typed) if typed.strip() else None
    elif kind in TYPED_TEXT:
        value = typed.replace("\\n", "\n") if element.get("multiline") else typed
        state["value"] = value or None
        limit = element.get("max_length")
        if isinstance(limit, int) and len(value) > limit:
            return state, (
                f"Slack's box stops at {limit} characters; all {len(value)} are kept "
                "so you can see what Coachbot does with them"
            )
    else:
        raise BadInput(f"the sandbox cannot fill a {kind} input")
    return state, None


def is_empty(state: Mapping[str, Any]) -> bool:
    """Whether an input holds nothing yet."""
    return not any(
        state.get(key)
        for key in (
            "selected_option",
            "selected_options",
            "selected_date",
            "selected_time",
            "value",
        )
    )


def shown_state(state: Mapping[str, Any]) -> str:
    """A state as a short readable value."""
    if "selected_option" in state:
        option = state["selected_option"]
        return text_of(option.get("text")) if option else "(none)"
    if "selected_options" in state:
        chosen = [text_of(o.get("text")) for o in state["selected_options"]]
        return ", ".join(chosen) if chosen else "(none)"
    for key in ("selected_date", "selected_time"):
        if key in state:
            return str(state[key] or "(empty)")
    if "value" in state:
        value = state["value"]
        if not value:
            return "(empty)"
        text = str(value).replace("\n", "\\n")
        if len(text) > 60:
            return f'"{text[:60]}…" ({len(str(value))} characters)'
        return f'"{text}"'
    return "(empty)"


@dataclass(frozen=True)
class Field:
    """One input block of a modal."""

    block_id: str
    action_id: str
    label: str
    element: JSON
    optional: bool

    @property
    def kind(self) -> str:
        """The element's kind in a person's words."""
        kind = str(self.element.get("type"))
        name = KIND_NAMES.get(kind, kind)
        return "text, several lines" if self.element.get("multiline") else name


@dataclass
class ModalForm:
    """An open modal as the Slack client holds it: the view and what has been typed in."""

    view: JSON
    values: dict[str, JSON] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for item in self.fields:
            self.values.setdefault(item.block_id, empty_state(item.element))

    @property
    def fields(self) -> list[Field]:
        """The modal's input blocks, in order."""
        found = []
        for index, block in enumerate(self.view.get("blocks") or []):
            if not isinstance(block, Mapping) or block.get("type") != "input":
                continue
            element = block.get("element")
            if not isinstance(element, Mapping):
                continue
            found.append(
                Field(
                    block_id=str(block.get("block_id") or f"input_{index}"),
                    action_id=str(element.get("action_id") or f"action_{index}"),
                    label=text_of(block.get("label")),
                    element=dict(element),
                    optional=bool(block.get("optional")),
                )
            )
        return found

    @property
    def view_id(self) -> str:
        """The view's id, as Slack gave it."""
        return str(self.view.get("id", ""))

    @property
    def title(self) -> str:
        """The modal's title."""
        return text_of(self.view.get("title")) or "Modal"

    def replaced_by(self, view: JSON) -> ModalForm:
        """The form after the app updates the view: Slack keeps what was typed into inputs
        whose block_id and type survive."""
        form = ModalForm(view=view)
        for item in form.fields:
            old = self.values.get(item.block_id)
            if old is not None and old.get("type") == item.element.get("type"):
                form.values[item.block_id] = old
        return form

    def fill(self, item: Field, typed: str) -> str | None:
        """Type into one input; returns a warning where Slack itself would behave differently."""
        state, warning = state_for(item.element, typed)
        self.values[item.block_id] = state
        self.errors.pop(item.block_id, None)
        return warning

    def missing(self) -> list[Field]:
        """Required inputs still empty (Slack will not submit the modal until they are filled)."""
        return [
            item
            for item in self.fields
            if not item.optional and is_empty(self.values[item.block_id])
        ]

    def state(self) -> JSON:
        """`view.state` as Slack sends it."""
        return {
            "values": {
                item.block_id: {item.action_id: copy.deepcopy(self.values[item.block_id])}
                for item in self.fields
            }
        }

    def submitted_view(self) -> JSON:
        """The whole view as it rides in a view_submission or block_actions payload."""
        return {**copy.deepcopy(self.view), "state": self.state()}
