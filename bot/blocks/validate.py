"""Checks a message or view against Block Kit before it is sent.

slack_sdk's models validate text lengths and element counts (recursively, through
`to_dict()`, which runs `validate_json()` on every nested object). What they leave out
and Slack still rejects is checked here: blocks per message or view, empty text objects,
option lengths, duplicate block ids, message metadata shape, and a modal's title and
submit button.

Building slack_sdk's models costs milliseconds a view, so `check_view` leaves them out:
it checks what a view's content can push past at run time (the block count, block ids,
empty texts, option lengths) when a Home tab is published. The builders cut user text to
size, and their tests hold every surface to the full `validate_view`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.blocks.text import MESSAGE_TEXT, OPTION_TEXT, OPTION_VALUE

MESSAGE_BLOCKS: Final = 50
VIEW_BLOCKS: Final = 100
VIEW_TYPES: Final = ("modal", "home")

# Malformed dicts make slack_sdk's constructors raise these rather than its own error.
_MODEL_ERRORS = (SlackObjectFormationError, TypeError, KeyError, ValueError, AttributeError)


class Problem(NamedTuple):
    """One reason Slack would reject a payload, located by a JSON pointer."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


class InvalidBlockKit(ValueError):
    """The payload would be rejected by Slack; `problems` says where and why."""

    def __init__(self, what: str, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"invalid {what}: " + "; ".join(str(p) for p in problems))


def validate_message(payload: Mapping[str, Any]) -> None:
    """Raise InvalidBlockKit unless `payload` is a message Slack accepts, with fallback text."""
    problems = text_problems(payload.get("text"), required=True)
    if "blocks" in payload:
        problems += block_problems(payload["blocks"], limit=MESSAGE_BLOCKS)
    if "metadata" in payload:
        problems += metadata_problems(payload["metadata"])
    if problems:
        raise InvalidBlockKit("message", problems)


def validate_view(view: Mapping[str, Any]) -> None:
    """Raise InvalidBlockKit unless `view` is a modal or Home tab Slack accepts."""
    problems = view_problems(view)
    if problems:
        raise InvalidBlockKit("view", problems)


def check_view(view: Mapping[str, Any]) -> None:
    """Raise InvalidBlockKit if `view` breaks a limit its content decides (cheap; see above)."""
    problems = view_problems(view, models=False)
    if problems:
        raise InvalidBlockKit("view", problems)


def text_problems(text: object, *, required: bool) -> list[Problem]:
    """Problems with a message's top-level `text` (the notification and screen-reader text)."""
    if text is None or text == "":
        return [Problem("/text", "text is required")] if required else []
    if not isinstance(text, str):
        return [Problem("/text", "text must be a string")]
    if required and not text.strip():
        return [Problem("/text", "text must not be blank")]
    if len(text) > MESSAGE_TEXT:
        return [Problem("/text", f"text cannot exceed {MESSAGE_TEXT} characters")]
    return []


def metadata_problems(metadata: object) -> list[Problem]:
    """Problems with message metadata: an event_type string and an event_payload object."""
    if not isinstance(metadata, Mapping):
        return [Problem("/metadata", "metadata must be an object")]
    problems = []
    event_type = metadata.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        problems.append(Problem("/metadata/event_type", "event_type must be a non-empty string"))
    if not isinstance(metadata.get("event_payload"), Mapping):
        problems.append(Problem("/metadata/event_payload", "event_payload must be an object"))
    return problems


def block_problems(
    blocks: object, *, limit: int, at: str = "/blocks", models: bool = True
) -> list[Problem]:
    """Problems with a list of blocks, holding at most `limit` of them.

    `models=False` leaves out slack_sdk's own checks of each block (lengths, counts, shape).
    """
    if not isinstance(blocks, list):
        return [Problem(at, "blocks must be an array")]
    problems = []
    if len(blocks) > limit:
        problems.append(Problem(at, f"must provide no more than {limit} items"))
    seen_ids: set[str] = set()
    for index, block in enumerate(blocks):
        pointer = f"{at}/{index}"
        problems += _one_block_problems(block, pointer, models=models)
        block_id = block.get("block_id") if isinstance(block, Mapping) else None
        if isinstance(block_id, str):
            if block_id in seen_ids:
                problems.append(Problem(f"{pointer}/block_id", f"duplicate block_id {block_id!r}"))
            seen_ids.add(block_id)
    return problems


def _one_block_problems(block: object, pointer: str, *, models: bool) -> list[Problem]:
    if not isinstance(block, Mapping) or not isinstance(block.get("type"), str):
        return [Problem(pointer, "a block must be an object with a type")]
    if models:
        try:
            parsed = Block.parse(dict(block))
            if parsed is None:
                return [Problem(f"{pointer}/type", f"unknown block type {block['type']!r}")]
            parsed.to_dict()
        except _MODEL_ERRORS as exc:
            return [Problem(pointer, str(exc) or type(exc).__name__)]
    return _nested_problems(block, pointer)


# The walk runs on every block of every Home tab published, so it keeps the path as a list
# of steps, writes a JSON pointer only for a problem it finds, and tests for the concrete
# JSON types (isinstance against the Mapping ABC costs more than the rest of the walk).
_Steps = list[str | int]
_Found = list[tuple[tuple[str | int, ...], str]]


def _nested_problems(block: Mapping[str, Any], pointer: str) -> list[Problem]:
    """Empty text objects and over-long options, anywhere inside a block."""
    found: _Found = []
    _walk(block, [], found)
    return [
        Problem(pointer + "".join(f"/{step}" for step in path), message)
        for path, message in found
    ]


def _walk(node: Mapping[str, Any], path: _Steps, found: _Found) -> None:
    kind = node.get("type")
    if (kind == "plain_text" or kind == "mrkdwn") and not node.get("text"):
        found.append(((*path, "text"), "text must not be empty"))
    for key, value in node.items():
        if key == "options":
            if isinstance(value, list):
                path.append(key)
                for index, option in enumerate(value):
                    path.append(index)
                    _option_problems(option, path, found)
                    path.pop()
                path.pop()
        elif isinstance(value, dict):
            path.append(key)
            _walk(value, path, found)
            path.pop()
        elif isinstance(value, list):
            path.append(key)
            _walk_list(value, path, found)
            path.pop()


def _walk_list(items: list[Any], path: _Steps, found: _Found) -> None:
    for index, item in enumerate(items):
        if isinstance(item, dict):
            path.append(index)
            _walk(item, path, found)
            path.pop()
        elif isinstance(item, list):
            path.append(index)
            _walk_list(item, path, found)
            path.pop()


def _option_problems(option: object, path: _Steps, found: _Found) -> None:
    if not isinstance(option, Mapping):
        found.append((tuple(path), "an option must be an object"))
        return
    text = option.get("text")
    label = text.get("text") if isinstance(text, Mapping) else None
    if not isinstance(label, str) or not label:
        found.append(((*path, "text"), "option text is required"))
    elif len(label) > OPTION_TEXT:
        found.append(((*path, "text"), f"option text cannot exceed {OPTION_TEXT} characters"))
    value = option.get("value")
    if not isinstance(value, str) or len(value) > OPTION_VALUE:
        found.append(((*path, "value"), f"option value must be 1-{OPTION_VALUE} characters"))
    if isinstance(text, dict):
        path.append("text")
        _walk(text, path, found)
        path.pop()


def view_problems(view: object, *, models: bool = True) -> list[Problem]:
    """Problems with a modal or Home tab view (`models=False`: see `check_view`)."""
    if not isinstance(view, Mapping):
        return [Problem("/view", "view must be an object")]
    if view.get("type") not in VIEW_TYPES:
        return [Problem("/view/type", f"type must be one of {', '.join(VIEW_TYPES)}")]
    problems = _view_model_problems(view) if models else []
    blocks = view.get("blocks")
    if not blocks:
        problems.append(Problem("/view/blocks", "a view needs at least one block"))
    else:
        problems += block_problems(blocks, limit=VIEW_BLOCKS, at="/view/blocks", models=models)
    if view["type"] == "modal":
        problems += _modal_problems(view)
    return problems


def _view_model_problems(view: Mapping[str, Any]) -> list[Problem]:
    try:
        # Blocks are checked separately, with pointers; the View checks the rest
        # (title, submit, close, private_metadata, callback_id lengths). Without blocks
        # View holds [], which its own "1 to 100 blocks" check refuses; None skips it.
        model = View(**{key: value for key, value in view.items() if key != "blocks"})
        model.blocks = None  # type: ignore[assignment]
        model.validate_json()
    except _MODEL_ERRORS as exc:
        return [Problem("/view", str(exc) or type(exc).__name__)]
    return []


def _modal_problems(view: Mapping[str, Any]) -> list[Problem]:
    problems = []
    if not isinstance(view.get("title"), Mapping):
        problems.append(Problem("/view/title", "a modal needs a title"))
    blocks = view.get("blocks")
    has_input = isinstance(blocks, list) and any(
        isinstance(block, Mapping) and block.get("type") == "input" for block in blocks
    )
    if has_input and not isinstance(view.get("submit"), Mapping):
        problems.append(Problem("/view/submit", "a modal with input blocks needs a submit button"))
    return problems
