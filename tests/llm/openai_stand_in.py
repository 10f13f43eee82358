"""A local OpenAI-compatible server for tests: scripted replies, recorded requests.

It speaks `/v1/chat/completions` and `/v1/models` on 127.0.0.1. Each request takes the next
scripted responder (or the default one); every request body is kept in `requests`, and the
server counts how many requests were in flight at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Body = dict[str, Any]
Responder = Callable[[Body, "OpenAIStandIn"], Awaitable[web.StreamResponse]]
MODEL = "stand-in-model"


def completion_json(
    *,
    content: str | None,
    refusal: str | None = None,
    finish_reason: str = "stop",
    prompt_tokens: int = 0,
    completion_tokens: int | None = None,
) -> Body:
    """A chat.completion object as OpenAI returns it."""
    if completion_tokens is None:
        completion_tokens = math.ceil(len(content or refusal or "") / 4)
    return {
        "id": "chatcmpl-stand-in",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _prompt_tokens(body: Body) -> int:
    return math.ceil(sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) / 4)


# --- responders ------------------------------------------------------------------------------


def answer(payload: Body | str, *, finish_reason: str = "stop") -> Responder:
    """Reply with this content: a dict is sent as JSON, a string as it is."""
    content = payload if isinstance(payload, str) else json.dumps(payload)

    async def respond(body: Body, server: OpenAIStandIn) -> web.StreamResponse:
        return web.json_response(
            completion_json(
                content=content, finish_reason=finish_reason, prompt_tokens=_prompt_tokens(body)
            )
        )

    return respond


def draft_answer(
    *,
    goal_id: int,
    milestone_id: int | None = None,
    text: str = "Hi Maya, your hand-over milestone is due soon. What one step moves it this week?",
    rationale: str = "Nearest due milestone on an at-risk goal.",
    suggested_action: str = "Book 30 minutes to draft the hand-over notes.",
) -> Responder:
    """Reply with a NudgeDraft-shaped JSON object."""
    return answer(
        {
            "text": text,
            "cited_goal_id": goal_id,
            "cited_milestone_id": milestone_id,
            "rationale": rationale,
            "suggested_action": suggested_action,
        }
    )


def malformed() -> Responder:
    """Reply with content that is not JSON at all."""
    return answer('Sure! Here is your nudge: {"text": "Hi Maya", cited_goal_id: ')


def refusal(message: str = "I can't help with that.") -> Responder:
    """Reply with `message.refusal` set and no content."""

    async def respond(body: Body, server: OpenAIStandIn) -> web.StreamResponse:
        return web.json_response(
            completion_json(content=None, refusal=message, prompt_tokens=_prompt_tokens(body))
        )

    return respond


def status(
    code: int, message: str = "stand-in error", *, error_type: str = "server_error"
) -> Responder:
    """Reply with an OpenAI-style error body and this HTTP status."""

    async def respond(body: Body, server: OpenAIStandIn) -> web.StreamResponse:
        error = {"error": {"message": message, "type": error_type, "param": None, "code": None}}
        headers = {"retry-after": "0"} if code == 429 else {}
        return web.json_response(error, status=code, headers=headers)

    return respond


def delayed(seconds: float, then: Responder) -> Responder:
    """Wait (until the server closes, at most `seconds`), then reply as `then` would."""

    async def respond(body: Body, server: OpenAIStandIn) -> web.StreamResponse:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.closing.wait(), timeout=seconds)
        return await then(body, server)

    return respond


# --- the server ------------------------------------------------------------------------------


@dataclass
class OpenAIStandIn:
    """The server; `script()` queues responders, `requests` holds what clients sent."""

    default: Responder | None = None
    reject_json_schema: bool = False
    requests: list[Body] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    _script: deque[Responder] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    base_url: str = ""

    def script(self, *responders: Responder) -> None:
        """Queue responders for the next requests, in order."""
        self._script.extend(responders)

    @property
    def chat_requests(self) -> list[Body]:
        return [r for r in self.requests if "messages" in r]

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self.base_url

    async def close(self) -> None:
        self.closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _models(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0,
                                         "owned_by": "coachbot-tests"}]}
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body: Body = await request.json()
        self.requests.append(body)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response_format = body.get("response_format") or {}
            if self.reject_json_schema and response_format.get("type") == "json_schema":
                return await status(
                    400, "response_format json_schema is not supported",
                    error_type="invalid_request_error",
                )(body, self)
            responder = self._script.popleft() if self._script else self.default
            if responder is None:
                return await status(500, "no scripted reply left")(body, self)
            return await responder(body, self)
        finally:
            self.in_flight -= 1
