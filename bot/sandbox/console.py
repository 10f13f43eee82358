"""Renders what the bot sends as plain text, for a person watching the sandbox console.

Buttons and inputs show their action_id (and block_id for inputs) so the person can
refer to them when driving the bot by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

JSON = Mapping[str, Any]

_RULE = "─" * 60
# Slack shows a date token in each reader's own timezone; its fallback text stands in.
_DATE = re.compile(r"<!date\^[^<>|]*\|([^<>]*)>")
_LINK = re.compile(r"<([^<>|]+)\|([^<>]*)>")
_TOKEN = re.compile(r"<([@#!])([^<>|]+)>")
_BARE = re.compile(r"<([^<>|]+)>")


def readable(text: str) -> str:
    """mrkdwn as a person reads it: links and mentions spelled out, dates as their fallback
    text, entities decoded."""
    text = _DATE.sub(r"\1", text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _TOKEN.sub(lambda m: ("#" if m.group(1) == "#" else "@") + m.group(2), text)
    text = _BARE.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: object) -> str:
    if isinstance(obj, Mapping):
        return readable(str(obj.get("text", "")))
    return readable(str(obj)) if obj is not None else ""


def _options(element: JSON) -> str:
    options = [o for o in element.get("options") or [] if isinstance(o, Mapping)]
    for group in element.get("option_groups") or []:
        options += [o for o in group.get("options") or [] if isinstance(o, Mapping)]
    return " | ".join(f"{_text(o.get('text'))} (value={o.get('value')})" for o in options)


def element_line(element: JSON) -> str:
    """One interactive element: its label, type, action_id and value or options."""
    kind = str(element.get("type", "?"))
    action = f"action_id={element.get('action_id', '-')}"
    if kind == "button":
        parts = [f"[ {_text(element.get('text'))} ]", action]
        for key in ("value", "style", "url"):
            if element.get(key):
                parts.append(f"{key}={element[key]}")
        return " ".join(parts)
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind in ("mrkdwn", "plain_text"):
        return _text(element)
    detail = _options(element)
    placeholder = _text(element.get("placeholder"))
    label = f"<{kind}{': ' + placeholder if placeholder else ''}>"
    return " ".join(part for part in (label, action, f"options: {detail}" if detail else "")
                    if part)


def _section(block: JSON) -> list[str]:
    lines = _text(block.get("text")).splitlines() if block.get("text") else []
    lines += [f"• {_text(field)}" for field in block.get("fields") or []]
    accessory = block.get("accessory")
    if isinstance(accessory, Mapping):
        lines.append(f"  ↳ {element_line(accessory)}")
    return lines


def _header(block: JSON) -> list[str]:
    title = _text(block.get("text"))
    return [title.upper(), "=" * min(len(title), 60)]


def _context(block: JSON) -> list[str]:
    elements = block.get("elements") or []
    return ["  " + " · ".join(element_line(e) for e in elements if isinstance(e, Mapping))]


def _actions(block: JSON) -> list[str]:
    return [element_line(e) for e in block.get("elements") or [] if isinstance(e, Mapping)]


def _input(block: JSON) -> list[str]:
    optional = " (optional)" if block.get("optional") else ""
    element = block.get("element")
    if not isinstance(element, Mapping):
        element = {}
    where = f"block_id={block.get('block_id', '-')}"
    lines = [f"▸ {_text(block.get('label'))}{optional}", f"    {element_line(element)} {where}"]
    if block.get("hint"):
        lines.append(f"    hint: {_text(block.get('hint'))}")
    return lines


def _rich_text(block: JSON) -> list[str]:
    def words(node: object) -> Iterable[str]:
        if isinstance(node, Mapping):
            if isinstance(node.get("text"), str):
                yield node["text"]
            for child in node.get("elements") or []:
                yield from words(child)

    return "".join(words(block)).splitlines()


_BLOCKS: dict[str, Callable[[JSON], list[str]]] = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "input": _input,
    "rich_text": _rich_text,
    "divider": lambda _block: ["-" * 40],
    "image": lambda block: [f"[image: {block.get('alt_text', '')}]"],
}


def block_lines(blocks: Iterable[object]) -> list[str]:
    """Every block as indented lines of text."""
    lines = []
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        render = _BLOCKS.get(str(block.get("type")))
        rendered = render(block) if render else [f"[{block.get('type')} block]"]
        lines += [f"  {line}" for line in rendered]
    return lines


def render_message(*, message: JSON, where: str, what: str = "message") -> str:
    """A sent message, with its fallback text, blocks, thread and metadata."""
    head = f"{what} → {where} · ts {message.get('ts')}"
    if message.get("thread_ts") and message.get("thread_ts") != message.get("ts"):
        head += f" · in thread {message['thread_ts']}"
    lines = [_RULE, head]
    if message.get("text"):
        lines.append(f"  {readable(str(message['text']))}")
    lines += block_lines(message.get("blocks") or [])
    lines += [f"  📎 {file_line(file)}" for file in message.get("files") or []]
    metadata = message.get("metadata")
    if isinstance(metadata, Mapping):
        lines.append(f"  (metadata {metadata.get('event_type')}: {metadata.get('event_payload')})")
    return "\n".join(lines)


def render_view(*, view: JSON, what: str, where: str) -> str:
    """An opened, updated or published view, with its buttons and callback_id."""
    title = _text(view.get("title")) or str(view.get("type"))
    head = f"{what} {view.get('type')} “{title}” ({view.get('id')}) → {where}"
    lines = [_RULE, head]
    if view.get("callback_id"):
        lines.append(f"  callback_id={view['callback_id']}")
    lines += block_lines(view.get("blocks") or [])
    footer = [f"[ {_text(view.get(key))} ]" for key in ("close", "submit") if view.get(key)]
    if footer:
        lines.append("  " + "  ".join(footer))
    return "\n".join(lines)


def file_line(file: JSON) -> str:
    """A shared file as a person sees it in a message: title, name and size."""
    size = int(file.get("size") or 0)
    shown = f"{size} bytes" if size < 1024 else f"{size / 1024:.1f} KB"
    return f"{file.get('title')} ({file.get('name')}, {shown})"
