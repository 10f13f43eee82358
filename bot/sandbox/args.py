"""Reading Web API arguments the way Slack does: strings from forms, values from JSON."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.validate import Problem
from bot.sandbox.errors import SlackError

Args = dict[str, Any]

_TRUE = ("1", "true", "True", True, 1)


def text_arg(args: Args, name: str, *, required: bool = False, error: str | None = None) -> str:
    """A string argument; a missing required one answers `error` (default invalid_arguments)."""
    value = args.get(name)
    if value is None or value == "":
        if required:
            raise SlackError(error or "invalid_arguments",
                             messages=[f"[ERROR] missing required field: {name}"])
        return ""
    return str(value)


def flag_arg(args: Args, name: str) -> bool:
    """A boolean argument, sent as true/1 in forms or as a JSON boolean."""
    return args.get(name) in _TRUE


def int_arg(args: Args, name: str, *, default: int, low: int, high: int) -> int:
    """An integer argument clamped to [low, high]; `default` when absent."""
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SlackError("invalid_arguments",
                         messages=[f"[ERROR] {name} must be an integer"]) from None
    return min(max(number, low), high)


def json_arg(args: Args, name: str, *, error: str = "invalid_arguments") -> Any:
    """A structured argument: JSON in a JSON body, or a JSON string in a form field."""
    value = args.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise SlackError(error, messages=[f"[ERROR] {name} is not valid JSON"]) from None
    return value


def problem_messages(problems: list[Problem]) -> list[str]:
    """Validation problems worded as Slack words them in response_metadata.messages."""
    return [f"[ERROR] {p.message} [json-pointer:{p.pointer}]" for p in problems]
