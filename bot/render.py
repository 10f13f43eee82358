"""Outbox intents → Slack messages, at send time, through a registry of renderers by kind.

Services write intents such as `{"kind": "text", "text": "..."}`; the messenger looks up
the renderer for the delivery's kind. Each surface module registers its own renderers
on the registry the composition root builds, the way listener modules register on the
Bolt app:

    renderers = default_renderers()
    checkin.register(renderers)   # calls renderers.register_renderer("checkin_invite", ...)

A renderer gets a session for loading what the intent names (a check-in, a nudge); it
must only read. It returns `{"text": ..., "blocks": [...]}`; the messenger adds the
metadata and validates the whole message before sending.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import JSON, context, header, section
from bot.blocks.text import MESSAGE_TEXT, SECTION_TEXT, escape, truncate
from bot.blocks.validate import MESSAGE_BLOCKS

TEXT_KIND: Final = "text"
BROADCAST_KIND: Final = "broadcast"


class RenderError(ValueError):
    """The intent cannot become a message (a missing field, a row that is gone); permanent."""


class UnknownKind(LookupError):
    """No renderer is registered for the kind (perhaps a newer Coachbot wrote it)."""


@dataclass(frozen=True)
class RenderRequest:
    """What a renderer may use to build one message."""

    kind: str
    intent: Mapping[str, Any]
    workspace_id: int
    member_id: int | None
    delivery_key: str
    session: AsyncSession


Renderer = Callable[[RenderRequest], Awaitable[JSON]]


class Renderers:
    """Renderers by intent kind."""

    def __init__(self) -> None:
        self._by_kind: dict[str, Renderer] = {}

    def register_renderer(self, kind: str, renderer: Renderer) -> None:
        """Render intents of `kind` with `renderer`; a kind has exactly one renderer."""
        if kind in self._by_kind:
            raise ValueError(f"a renderer for {kind!r} is already registered")
        self._by_kind[kind] = renderer

    def kinds(self) -> frozenset[str]:
        """The kinds that can be rendered."""
        return frozenset(self._by_kind)

    async def render(self, request: RenderRequest) -> JSON:
        """The message for this intent; UnknownKind or RenderError when there is none."""
        renderer = self._by_kind.get(request.kind)
        if renderer is None:
            raise UnknownKind(f"no renderer for intent kind {request.kind!r}")
        return await renderer(request)


def default_renderers() -> Renderers:
    """A registry with the generic renderers: plain text and broadcasts."""
    renderers = Renderers()
    renderers.register_renderer(TEXT_KIND, render_text)
    renderers.register_renderer(BROADCAST_KIND, render_broadcast)
    return renderers


def _required_text(intent: Mapping[str, Any], name: str) -> str:
    value = intent.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RenderError(f"the intent needs a non-empty string {name!r}")
    return value


def _optional_text(intent: Mapping[str, Any], name: str) -> str | None:
    value = intent.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RenderError(f"{name!r} must be a string")
    return value.strip() or None


def text_sections(text: str, *, limit: int = MESSAGE_BLOCKS) -> list[JSON]:
    """Sections holding `text`, split at paragraph breaks to fit Slack's section limit."""
    sections: list[JSON] = []
    current = ""
    for paragraph in (part.strip() for part in text.split("\n\n")):
        if not paragraph:
            continue
        joined = f"{current}\n\n{paragraph}" if current else paragraph
        if current and len(escape(joined)) > SECTION_TEXT:
            sections.append(section(text=current))
            current = paragraph
        else:
            current = joined
    if current:
        sections.append(section(text=current))
    # One over-long paragraph is cut (with an ellipsis) by section(); past the block
    # limit the rest is dropped, and the fallback text still carries the start of it.
    return sections[:limit]


def _fallback(text: str) -> str:
    return truncate(escape(text), MESSAGE_TEXT)


async def render_text(request: RenderRequest) -> JSON:
    """`{"kind": "text", "text": ...}`: the text, escaped, in plain sections."""
    text = _required_text(request.intent, "text")
    return {"text": _fallback(text), "blocks": text_sections(text)}


async def render_broadcast(request: RenderRequest) -> JSON:
    """`{"kind": "broadcast", "text": ..., "title"?: ..., "sender"?: ...}`: a program
    announcement with an optional header and a "from" line."""
    text = _required_text(request.intent, "text")
    title = _optional_text(request.intent, "title")
    sender = _optional_text(request.intent, "sender")
    blocks: list[JSON] = []
    if title:
        blocks.append(header(text=title))
    room = MESSAGE_BLOCKS - len(blocks) - (1 if sender else 0)
    blocks += text_sections(text, limit=room)
    if sender:
        blocks.append(context(texts=[f"From {sender}"]))
    fallback = f"{title}: {text}" if title else text
    return {"text": _fallback(fallback), "blocks": blocks}
