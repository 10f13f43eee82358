"""The intent renderer registry and the generic text and broadcast renderers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import JSON, validate_message
from bot.render import (
    RenderError,
    Renderers,
    RenderRequest,
    UnknownKind,
    default_renderers,
    text_sections,
)


def request(session: AsyncSession, intent: Mapping[str, Any]) -> RenderRequest:
    return RenderRequest(kind=str(intent["kind"]), intent=intent, workspace_id=1, member_id=None,
                         delivery_key="k", session=session)


async def test_a_registered_renderer_renders_its_kind(session: AsyncSession) -> None:
    async def shout(req: RenderRequest) -> JSON:
        return {"text": str(req.intent["text"]).upper()}

    renderers = Renderers()
    renderers.register_renderer("shout", shout)
    assert renderers.kinds() == {"shout"}
    assert await renderers.render(request(session, {"kind": "shout", "text": "hi"})) == {
        "text": "HI"}
    with pytest.raises(ValueError, match="already registered"):
        renderers.register_renderer("shout", shout)
    with pytest.raises(UnknownKind):
        await renderers.render(request(session, {"kind": "whisper"}))


async def test_text_is_escaped_so_it_can_never_ping_a_channel(session: AsyncSession) -> None:
    message = await default_renderers().render(
        request(session, {"kind": "text", "text": "Hi <!channel> & <@U1>, *well done*"}))
    validate_message(message)
    escaped = "Hi &lt;!channel&gt; &amp; &lt;@U1&gt;, *well done*"
    assert message["text"] == escaped
    assert message["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": escaped}}]


def test_long_text_is_split_at_paragraphs_into_sections() -> None:
    paragraphs = [f"{index} " + "x" * 1400 for index in range(5)]
    sections = text_sections("\n\n".join(paragraphs))
    assert [len(s["text"]["text"]) for s in sections] == [2806, 2806, 1402]
    assert sections[2]["text"]["text"].startswith("4 ")


async def test_a_broadcast_has_a_header_its_text_and_who_sent_it(session: AsyncSession) -> None:
    message = await default_renderers().render(request(session, {
        "kind": "broadcast", "title": "Week 3", "text": "Reflect on <one> decision.",
        "sender": "The Leadership Lab"}))
    validate_message(message)
    assert [block["type"] for block in message["blocks"]] == ["header", "section", "context"]
    assert message["blocks"][2]["elements"][0]["text"] == "From The Leadership Lab"
    assert message["text"] == "Week 3: Reflect on &lt;one&gt; decision."


@pytest.mark.parametrize("intent", [
    {"kind": "text"},
    {"kind": "text", "text": "   "},
    {"kind": "broadcast", "text": 42},
    {"kind": "broadcast", "text": "hi", "title": ["not", "text"]},
])
async def test_malformed_intents_cannot_be_rendered(
    session: AsyncSession, intent: dict[str, Any]
) -> None:
    with pytest.raises(RenderError):
        await default_renderers().render(request(session, intent))
