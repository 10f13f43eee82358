"""What every modal's listener shares: the submitted answers by block id, and errors shown
next to the inputs at fault (Slack's `response_action: errors`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from services.errors import DomainError


class InlineErrors(Exception):
    """Errors to show next to the modal's inputs, by block id."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def modal_values(view: dict[str, Any]) -> dict[str, Any]:
    """Each input's value by block id (None when left empty; ticked boxes as a list)."""
    values: dict[str, Any] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        state = actions.get("value", {})
        if "selected_options" in state:
            values[block_id] = [o.get("value") for o in state.get("selected_options") or []]
        elif "selected_option" in state:
            values[block_id] = (state.get("selected_option") or {}).get("value")
        elif "selected_date" in state:
            values[block_id] = state.get("selected_date")
        elif "selected_time" in state:
            values[block_id] = state.get("selected_time")
        else:
            values[block_id] = state.get("value")
    return values


def inline_errors(
    error: ValidationError | DomainError, field_blocks: Mapping[str, str], *, default: str
) -> InlineErrors:
    """A model's or a service's complaint, each next to the input of the field it names
    (`default` when it names none the modal has); the first complaint per input wins."""
    if isinstance(error, DomainError):
        return InlineErrors({field_blocks.get(error.field or "", default): error.detail})
    errors: dict[str, str] = {}
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else ""
        message = str(problem["msg"]).removeprefix("Value error, ")
        errors.setdefault(field_blocks.get(field, default), message)
    return InlineErrors(errors)
