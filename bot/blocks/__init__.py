"""Block Kit builders that keep every block within Slack's limits.

User-visible text passes through `escape` (mrkdwn) and `truncate`; identifiers
(`action_id`, `block_id`, `value`) are never truncated, since a cut one would silently
break routing or data, so an over-long identifier raises ValueError instead.
The surface modules (home, checkin, circle, nudge, broadcast) build on these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

from bot.blocks.text import (
    ACTION_ID,
    BLOCK_ID,
    BUTTON_TEXT,
    BUTTON_VALUE,
    CONTEXT_TEXT,
    HEADER_TEXT,
    JSON,
    OPTION_DESCRIPTION,
    OPTION_TEXT,
    OPTION_VALUE,
    SECTION_FIELD,
    SECTION_TEXT,
    URL,
    Markup,
    escape,
    markup,
    mrkdwn,
    plain_text,
    truncate,
)
from bot.blocks.validate import InvalidBlockKit, Problem, validate_message, validate_view

__all__ = [
    "JSON",
    "WEEKDAY_NAMES",
    "InvalidBlockKit",
    "Markup",
    "Problem",
    "actions",
    "button",
    "confirm_dialog",
    "context",
    "divider",
    "escape",
    "header",
    "input_block",
    "markup",
    "mrkdwn",
    "option",
    "plain_text",
    "section",
    "static_select",
    "truncate",
    "validate_message",
    "validate_view",
]

# Monday first, as Python's date.weekday() numbers the days.
WEEKDAY_NAMES: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                        "Sunday")
SECTION_FIELDS: Final = 10
CONTEXT_ELEMENTS: Final = 10
ACTIONS_ELEMENTS: Final = 25


def _identifier(value: str, *, limit: int, name: str) -> str:
    if not value or len(value) > limit:
        raise ValueError(f"{name} must be 1-{limit} characters, got {len(value)}")
    return value


def _with_block_id(block: JSON, block_id: str | None) -> JSON:
    if block_id is not None:
        block["block_id"] = _identifier(block_id, limit=BLOCK_ID, name="block_id")
    return block


def section(
    *,
    text: str | None = None,
    fields: Sequence[str] = (),
    accessory: JSON | None = None,
    block_id: str | None = None,
) -> JSON:
    """A section block: mrkdwn text and/or up to 10 mrkdwn fields, with an optional accessory."""
    if not text and not fields:
        raise ValueError("a section needs text or fields")
    if len(fields) > SECTION_FIELDS:
        raise ValueError(f"a section holds at most {SECTION_FIELDS} fields")
    block: JSON = {"type": "section"}
    if text:
        block["text"] = mrkdwn(text, limit=SECTION_TEXT)
    if fields:
        block["fields"] = [mrkdwn(field, limit=SECTION_FIELD) for field in fields]
    if accessory is not None:
        block["accessory"] = accessory
    return _with_block_id(block, block_id)


def header(*, text: str, block_id: str | None = None) -> JSON:
    """A header block: plain text, at most 150 characters."""
    return _with_block_id({"type": "header", "text": plain_text(text, limit=HEADER_TEXT)}, block_id)


def context(*, texts: Sequence[str], block_id: str | None = None) -> JSON:
    """A context block of up to 10 small mrkdwn texts."""
    if not texts or len(texts) > CONTEXT_ELEMENTS:
        raise ValueError(f"a context block holds 1-{CONTEXT_ELEMENTS} elements")
    elements = [mrkdwn(text, limit=CONTEXT_TEXT) for text in texts]
    return _with_block_id({"type": "context", "elements": elements}, block_id)


def divider() -> JSON:
    """A divider block."""
    return {"type": "divider"}


def actions(*, elements: Sequence[JSON], block_id: str | None = None) -> JSON:
    """An actions block of up to 25 interactive elements."""
    if not elements or len(elements) > ACTIONS_ELEMENTS:
        raise ValueError(f"an actions block holds 1-{ACTIONS_ELEMENTS} elements")
    return _with_block_id({"type": "actions", "elements": list(elements)}, block_id)


def button(
    *,
    text: str,
    action_id: str,
    value: str | None = None,
    style: Literal["primary", "danger"] | None = None,
    url: str | None = None,
) -> JSON:
    """A button; `text` is cut to 75 characters, identifiers are checked, not cut."""
    element: JSON = {
        "type": "button",
        "text": plain_text(text, limit=BUTTON_TEXT),
        "action_id": _identifier(action_id, limit=ACTION_ID, name="action_id"),
    }
    if value is not None:
        element["value"] = _identifier(value, limit=BUTTON_VALUE, name="value")
    if style is not None:
        element["style"] = style
    if url is not None:
        element["url"] = _identifier(url, limit=URL, name="url")
    return element


def option(*, text: str, value: str, description: str | None = None) -> JSON:
    """An option for a select, radio buttons or checkboxes."""
    item: JSON = {
        "text": plain_text(text, limit=OPTION_TEXT),
        "value": _identifier(value, limit=OPTION_VALUE, name="value"),
    }
    if description:
        item["description"] = plain_text(description, limit=OPTION_DESCRIPTION)
    return item


def input_block(block_id: str, label: str, element: JSON, *, hint: str | None = None,
                optional: bool = False) -> JSON:
    """A modal input: a label (and maybe a hint) over one element."""
    block: JSON = {"type": "input", "block_id": _identifier(block_id, limit=BLOCK_ID,
                                                             name="block_id"),
                   "element": element, "label": plain_text(label, limit=2000),
                   "optional": optional}
    if hint:
        block["hint"] = plain_text(hint, limit=2000)
    return block


def static_select(options: list[JSON], initial: JSON | None = None,
                  placeholder: str | None = None) -> JSON:
    """A single-choice menu whose answer is read from the action id `value`."""
    element: JSON = {"type": "static_select", "action_id": "value", "options": options}
    if initial is not None:
        element["initial_option"] = initial
    if placeholder:
        element["placeholder"] = plain_text(placeholder, limit=150)
    return element


def confirm_dialog(*, title: str, text: str, confirm: str, deny: str = "Keep it") -> JSON:
    """The dialog Slack shows before a destructive button acts (its confirm is red)."""
    return {
        "title": plain_text(title, limit=100),
        "text": plain_text(text, limit=300),
        "confirm": plain_text(confirm, limit=30),
        "deny": plain_text(deny, limit=30),
        "style": "danger",
    }
