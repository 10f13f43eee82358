"""Home tabs, modals and messages as readable text, every interactive element numbered.

The numbers are what a person types next (`click 3`, `choose 4 2`, `set 1 ...`), so each
numbered thing is kept with where it lives (`Surface`) to report it the way Slack does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.sandbox.console import file_line, readable
from bot.sandbox_client.inputs import (
    KIND_NAMES,
    MULTI_CHOICE,
    SINGLE_CHOICE,
    Field,
    ModalForm,
    options_of,
    shown_state,
    text_of,
)

JSON = Mapping[str, Any]
WIDTH = 64
SurfaceKind = Literal["home", "modal", "message", "ephemeral"]

# The emoji Coachbot's surfaces use, so a terminal shows a picture instead of a code.
_EMOJI = {
    "large_green_circle": "🟢",
    "large_yellow_circle": "🟡",
    "red_circle": "🔴",
    "white_check_mark": "✅",
    "heavy_minus_sign": "➖",
    "white_circle": "⚪",
    "warning": "⚠️",
    "lock": "🔒",
    "calendar": "📅",
    "busts_in_silhouette": "👥",
    "bulb": "💡",
    "double_vertical_bar": "⏸",
    "wave": "👋",
    "tada": "🎉",
}
_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")


@dataclass(frozen=True, eq=False)
class Surface:
    """Where an element lives: a Home tab or modal (by view id), or a message."""

    kind: SurfaceKind
    view_id: str | None = None
    channel_id: str | None = None
    message: JSON | None = None
    response_url: str | None = None


@dataclass(frozen=True, eq=False)
class Control:
    """A button, select, menu or picker a person can use."""

    element: JSON
    block_id: str
    surface: Surface

    @property
    def kind(self) -> str:
        """The element's Block Kit type."""
        return str(self.element.get("type"))


@dataclass(frozen=True, eq=False)
class FieldRef:
    """An input of an open modal."""

    form: ModalForm
    field: Field


Item = Control | FieldRef


@dataclass
class Numbering:
    """The numbered things of one printout, from 1."""

    items: list[Item] = field(default_factory=list)

    def add(self, item: Item) -> int:
        """Number one more thing; returns its number."""
        self.items.append(item)
        return len(self.items)


def text(value: object) -> str:
    """mrkdwn or plain text as a person reads it: links spelled out, emoji drawn."""
    shown = readable(text_of(value))
    return _SHORTCODE.sub(lambda m: _EMOJI.get(m.group(1), m.group(0)), shown)


def heading(title: str) -> str:
    """A rule with a title, opening one surface."""
    head = f"━━ {title} "
    return head + "━" * max(3, WIDTH - len(head))


def _choices(element: JSON) -> str:
    return " | ".join(
        f"{n}. {text(o.get('text'))}" for n, o in enumerate(options_of(element), start=1)
    )


def control_line(number: int, element: JSON) -> str:
    """One numbered element, e.g. `[3] button "Mark done"`."""
    kind = str(element.get("type"))
    if kind == "button":
        line = f'[{number}] button "{text(element.get("text"))}"'
        if isinstance(element.get("confirm"), Mapping):  # Slack asks before it sends the click
            line += f' (asks first: "{text(element["confirm"].get("title"))}")'
        return line + (f" (opens {element['url']})" if element.get("url") else "")
    name = KIND_NAMES.get(kind, kind)
    placeholder = text(element.get("placeholder"))
    line = f"[{number}] {name}" + (f' "{placeholder}"' if placeholder else "")
    if kind in SINGLE_CHOICE or kind in MULTI_CHOICE:
        current = element.get("initial_option") or element.get("initial_options")
        if isinstance(current, Mapping):
            line += f" (now: {text(current.get('text'))})"
        elif current:
            line += " (now: " + ", ".join(text(o.get("text")) for o in current) + ")"
        return f"{line}: {_choices(element)}"
    if kind in ("datepicker", "timepicker"):
        current = element.get("initial_date") or element.get("initial_time")
        return line + (f" (now: {current})" if current else "")
    return line + " (the sandbox cannot use this element)"


def _element(element: object, numbering: Numbering, surface: Surface, block_id: str) -> str:
    if not isinstance(element, Mapping):
        return ""
    kind = element.get("type")
    if kind in ("mrkdwn", "plain_text"):
        return text(element)
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    number = numbering.add(Control(element=element, block_id=block_id, surface=surface))
    return control_line(number, element)


BlockRenderer = Callable[[JSON, Numbering, Surface, str], list[str]]


def _section(block: JSON, numbering: Numbering, surface: Surface, block_id: str) -> list[str]:
    lines = text(block.get("text")).splitlines() if block.get("text") else []
    lines += [f"• {text(item)}" for item in block.get("fields") or []]
    if isinstance(block.get("accessory"), Mapping):
        lines.append("    " + _element(block["accessory"], numbering, surface, block_id))
    return lines


def _header(block: JSON, numbering: Numbering, surface: Surface, block_id: str) -> list[str]:
    title = text(block.get("text"))
    return [title.upper()]


def _context(block: JSON, numbering: Numbering, surface: Surface, block_id: str) -> list[str]:
    parts = [_element(e, numbering, surface, block_id) for e in block.get("elements") or []]
    return ["  " + " · ".join(part for part in parts if part)]


def _actions(block: JSON, numbering: Numbering, surface: Surface, block_id: str) -> list[str]:
    return [
        "    " + _element(e, numbering, surface, block_id)
        for e in block.get("elements") or []
        if isinstance(e, Mapping)
    ]


def _rich_text(block: JSON, numbering: Numbering, surface: Surface, block_id: str) -> list[str]:
    def words(node: object) -> Iterable[str]:
        if isinstance(node, Mapping):
            if isinstance(node.get("text"), str):
                yield node["text"]
            for child in node.get("elements") or []:
                yield from words(child)

    return "".join(words(block)).splitlines()


def _input(block: JSON, numbering: Numbering, surface: Surface, block_id: str) -> list[str]:
    # Inputs outside modals are rare in Coachbot; show them, but they cannot be filled.
    return [f"{text(block.get('label'))}: <{block.get('element', {}).get('type')} input>"]


_BLOCKS: dict[str, BlockRenderer] = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "rich_text": _rich_text,
    "input": _input,
    "divider": lambda *_: ["─" * 40],
    "image": lambda block, *_: [f"[image: {block.get('alt_text', '')}]"],
}


def block_lines(
    blocks: Iterable[object], numbering: Numbering, surface: Surface, *, first_index: int = 0
) -> list[str]:
    """Blocks as lines of text, numbering the interactive elements."""
    lines: list[str] = []
    for index, block in enumerate(blocks, start=first_index):
        if not isinstance(block, Mapping):
            continue
        # Slack gives every block without one a block_id; a stable stand-in will do.
        block_id = str(block.get("block_id") or f"block_{index}")
        render = _BLOCKS.get(str(block.get("type")))
        lines += (
            render(block, numbering, surface, block_id)
            if render
            else [f"[{block.get('type')} block]"]
        )
    return lines


def render_home(view: JSON, numbering: Numbering, *, owner: str) -> list[str]:
    """A Home tab."""
    surface = Surface(kind="home", view_id=str(view.get("id")))
    return [
        heading(f"Home tab · {owner}"),
        *block_lines(view.get("blocks") or [], numbering, surface),
    ]


def render_message(
    message: JSON,
    numbering: Numbering,
    *,
    title: str,
    surface: Surface,
) -> list[str]:
    """A message: its blocks, or its text when it has none, then any files it shares."""
    blocks = message.get("blocks") or []
    body = (
        block_lines(blocks, numbering, surface)
        if blocks
        else text(message.get("text")).splitlines()
    )
    files = [f"📎 {file_line(file)}" for file in message.get("files") or []]
    return [heading(title), *body, *files]


def _field_lines(number: int, ref: FieldRef) -> list[str]:
    form, item = ref.form, ref.field
    need = "optional" if item.optional else "required"
    state = form.values[item.block_id]
    line = f"[{number}] {item.label} — {item.kind}, {need}: {shown_state(state)}"
    if item.element.get("type") in SINGLE_CHOICE or item.element.get("type") in MULTI_CHOICE:
        line += f"  ·  {_choices(item.element)}"
    elif item.element.get("type") == "datepicker":
        line += "  ·  YYYY-MM-DD"
    lines = [line]
    error = form.errors.get(item.block_id)
    if error:
        lines.append(f"      ✗ {error}")
    return lines


def render_modal(form: ModalForm, numbering: Numbering) -> list[str]:
    """An open modal: its inputs numbered with labels, kinds and values, errors beside them."""
    view = form.view
    lines = [heading(f"Modal · {form.title}")]
    surface = Surface(kind="modal", view_id=form.view_id)
    fields = {item.block_id: item for item in form.fields}
    for index, block in enumerate(view.get("blocks") or []):
        if not isinstance(block, Mapping):
            continue
        item = fields.get(str(block.get("block_id") or f"input_{index}"))
        if block.get("type") == "input" and item is not None:
            ref = FieldRef(form=form, field=item)
            lines += _field_lines(numbering.add(ref), ref)
        else:
            lines += block_lines([block], numbering, surface, first_index=index)
    unplaced = {k: v for k, v in form.errors.items() if k not in fields}
    lines += [f"✗ {message}" for message in unplaced.values()]
    buttons = [
        f'submit: "{text(view.get("submit"))}"' if view.get("submit") else "",
        f'cancel: "{text(view.get("close")) or "Cancel"}"',
    ]
    lines.append("(" + " · ".join(b for b in buttons if b) + ")")
    return lines
