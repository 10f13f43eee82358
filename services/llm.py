"""The LLM layer for nudges: a drafter protocol, an OpenAI-compatible drafter, the offline one.

The OpenAI drafter asks for structured output (`json_schema`) first. Servers that reject it
(many vLLM, Ollama and llama.cpp builds) are asked again in JSON mode, and the drafter keeps
using JSON mode from then on. Either way the answer is checked the way `chat.completions.parse`
checks it and validated against `NudgeDraft`. Every attempt, good or bad, produces a
`DraftRecord`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from enum import StrEnum
from types import TracebackType
from typing import Protocol, cast

import openai
from openai import AsyncOpenAI
from openai.lib._parsing import type_to_response_format_param
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionMessage,
    ChatCompletionMessageParam,
    completion_create_params,
)
from pydantic import BaseModel, ConfigDict

from services.config import Settings
from services.nudges.context import render_context_json
from services.nudges.offline import OFFLINE_MODEL, compose_offline_draft
from services.nudges.schema import NudgeContext, NudgeDraft
from services.nudges.validation import MAX_TEXT_CHARS, MIN_TEXT_CHARS
from services.prompts import render_prompt

logger = logging.getLogger(__name__)

DATA_FENCE = "leader_data"
DEFAULT_TIMEOUT_SECONDS = 15.0
DEFAULT_MAX_RETRIES = 1
DEFAULT_MAX_OUTPUT_TOKENS = 600
# Local servers such as Ollama ignore the key, but the client refuses to start without one.
KEYLESS_PLACEHOLDER = "no-key-required"

# The strict JSON schema `chat.completions.parse(response_format=NudgeDraft)` would send,
# built once: `parse()` builds it again from the model on every call, which cost about a
# third of the client's CPU per draft.
STRUCTURED_OUTPUT = cast(
    completion_create_params.ResponseFormat, type_to_response_format_param(NudgeDraft)
)
JSON_MODE: completion_create_params.ResponseFormat = {"type": "json_object"}


class DraftMode(StrEnum):
    json_schema = "json_schema"
    json_object = "json_object"
    offline = "offline"


class DraftOutcome(StrEnum):
    """How one drafting attempt ended."""

    ok = "ok"
    # The model answered, but not with a usable draft.
    refusal = "refusal"  # declined, or stopped by a content filter
    malformed = "malformed"  # no JSON, or not a NudgeDraft
    truncated = "truncated"  # cut off at the output token limit
    # The draft failed validation (services/nudges/validation.py, ProblemKind).
    ungrounded = "ungrounded"
    names_other_person = "names_other_person"
    unsafe = "unsafe"
    too_long = "too_long"
    too_short = "too_short"
    # No answer.
    timeout = "timeout"
    rate_limited = "rate_limited"
    server_error = "server_error"
    connection_error = "connection_error"
    rejected = "rejected"  # any other 4xx: a bad key, an unknown model
    error = "error"  # the drafter itself failed
    nothing_to_cite = "nothing_to_cite"  # the offline drafter: no open goal


class DraftRecord(BaseModel):
    """What one drafting attempt cost and how it ended; never carries the leader's content."""

    model_config = ConfigDict(frozen=True)
    model: str
    prompt_version: str
    mode: DraftMode | None  # None when a drafter failed before choosing one
    outcome: DraftOutcome
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_ms: int = 0
    problems: tuple[str, ...] = ()


class DraftResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    draft: NudgeDraft | None
    record: DraftRecord


class NudgeDrafter(Protocol):
    async def draft(self, *, context: NudgeContext) -> DraftResult:
        """Draft one nudge from the context; failures come back as a record, not an exception."""
        ...


class _Refused(Exception):
    """The model declined to answer."""


class _Empty(Exception):
    """The model answered with no content."""


# --- prompts -----------------------------------------------------------------------------


def nudge_messages(*, context: NudgeContext) -> tuple[list[ChatCompletionMessageParam], str]:
    """The system and user messages for one nudge, and the prompt version they add up to."""
    system = render_prompt(
        name="nudges/system",
        variables={"fence": DATA_FENCE, "min_chars": MIN_TEXT_CHARS, "max_chars": MAX_TEXT_CHARS},
    )
    user = render_prompt(
        name="nudges/user",
        variables={"fence": DATA_FENCE, "context_json": render_context_json(context=context)},
    )
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": system.text},
        {"role": "user", "content": user.text},
    ]
    return messages, f"{system.versioned_name}+{user.versioned_name}"


# --- the OpenAI-compatible drafter ---------------------------------------------------------


class OpenAIDrafter:
    """Drafts nudges through any OpenAI-compatible chat-completions endpoint."""

    def __init__(
        self,
        *,
        client: AsyncOpenAI,
        model: str,
        concurrency: int,
        deadline_seconds: float = 2 * DEFAULT_TIMEOUT_SECONDS,
        max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
        mode: DraftMode = DraftMode.json_schema,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = client
        self.model = model
        self.mode = mode
        self.deadline_seconds = deadline_seconds
        self.max_output_tokens = max_output_tokens
        self._slots = asyncio.Semaphore(concurrency)

    async def draft(self, *, context: NudgeContext) -> DraftResult:
        """Ask the model once (twice if it rejects structured output) and record how it went."""
        messages, prompt_version = nudge_messages(context=context)
        async with self._slots:
            started = time.perf_counter()
            tokens: tuple[int | None, int | None] = (None, None)
            mode = self.mode
            problems: tuple[str, ...] = ()
            try:
                async with asyncio.timeout(self.deadline_seconds):
                    completion, mode = await self._complete(messages)
                # An answer costs its tokens whether or not it can be used.
                tokens = _usage(completion.usage)
                draft: NudgeDraft | None = _read_draft(completion, mode=mode)
                outcome = DraftOutcome.ok
            except (openai.OpenAIError, ValueError, TimeoutError, _Refused, _Empty) as exc:
                draft, outcome = None, outcome_for(exc)
                problems = (type(exc).__name__,)
                logger.warning("nudge draft failed: %s (%s)", outcome.value, type(exc).__name__)
            latency_ms = round((time.perf_counter() - started) * 1000)
        record = DraftRecord(
            model=self.model,
            prompt_version=prompt_version,
            mode=mode,
            outcome=outcome,
            tokens_in=tokens[0],
            tokens_out=tokens[1],
            latency_ms=latency_ms,
            problems=problems,
        )
        return DraftResult(draft=draft, record=record)

    async def _complete(
        self, messages: list[ChatCompletionMessageParam]
    ) -> tuple[ChatCompletion, DraftMode]:
        if self.mode is DraftMode.json_schema:
            try:
                return await self._ask(messages, mode=DraftMode.json_schema), DraftMode.json_schema
            except (openai.BadRequestError, openai.UnprocessableEntityError):
                logger.info("model server rejected json_schema output; trying JSON mode")
        completion = await self._ask(messages, mode=DraftMode.json_object)
        # Only a server that answered in JSON mode has shown it supports it; remember that.
        self.mode = DraftMode.json_object
        return completion, DraftMode.json_object

    async def _ask(
        self, messages: list[ChatCompletionMessageParam], *, mode: DraftMode
    ) -> ChatCompletion:
        return await self.client.chat.completions.create(
            model=self.model,
            messages=messages,
            response_format=STRUCTURED_OUTPUT if mode is DraftMode.json_schema else JSON_MODE,
            max_completion_tokens=self.max_output_tokens,
        )

    async def aclose(self) -> None:
        """Close the HTTP client and its connections."""
        await self.client.close()

    async def __aenter__(self) -> OpenAIDrafter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _read_draft(completion: ChatCompletion, *, mode: DraftMode) -> NudgeDraft:
    """The draft in the first choice, read as `chat.completions.parse` reads it."""
    content = _answer(completion)
    if mode is DraftMode.json_object:
        # Small local models often wrap JSON-mode answers in ```json fences; a server that
        # enforces the schema does not, and its answer is taken as it is.
        content = _strip_code_fence(content)
    return NudgeDraft.model_validate_json(content)


def _answer(completion: ChatCompletion) -> str:
    """The first choice's content, after the checks `chat.completions.parse` makes."""
    if not completion.choices:
        raise _Empty("no choices")
    choice = completion.choices[0]
    if choice.finish_reason == "length":
        raise openai.LengthFinishReasonError(completion=completion)
    if choice.finish_reason == "content_filter":
        raise openai.ContentFilterFinishReasonError(completion=completion)
    _raise_if_refused(choice.message)
    if not choice.message.content:
        raise _Empty("no content")
    return choice.message.content


def _raise_if_refused(message: ChatCompletionMessage) -> None:
    if message.refusal:
        raise _Refused("model refused")


def _usage(usage: object) -> tuple[int | None, int | None]:
    return getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None)


def _strip_code_fence(content: str) -> str:
    text = content.strip()
    if text.startswith("```") and text.endswith("```"):
        text = text[3:-3].strip()
        text = text.removeprefix("json").strip()
    return text


_ExceptionKinds = type[BaseException] | tuple[type[BaseException], ...]


def outcome_for(exc: BaseException) -> DraftOutcome:
    """Name a drafting failure for the record."""
    # Order matters: a timeout is a connection error, a refusal filter is an OpenAIError.
    outcomes: tuple[tuple[_ExceptionKinds, DraftOutcome], ...] = (
        ((openai.APITimeoutError, TimeoutError), DraftOutcome.timeout),
        (openai.APIConnectionError, DraftOutcome.connection_error),
        (openai.RateLimitError, DraftOutcome.rate_limited),
        (openai.InternalServerError, DraftOutcome.server_error),
        (openai.APIStatusError, DraftOutcome.rejected),
        (openai.LengthFinishReasonError, DraftOutcome.truncated),
        ((openai.ContentFilterFinishReasonError, _Refused), DraftOutcome.refusal),
        ((ValueError, _Empty), DraftOutcome.malformed),
    )
    for kinds, outcome in outcomes:
        if isinstance(exc, kinds):
            return outcome
    return DraftOutcome.error


def create_llm_drafter(
    *,
    settings: Settings,
    concurrency: int | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> OpenAIDrafter | None:
    """The OpenAI drafter for these settings, or None when no LLM is configured (offline only);
    `concurrency` overrides `settings.llm_concurrency`."""
    if not settings.llm_configured:
        return None
    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    client = AsyncOpenAI(
        api_key=api_key or KEYLESS_PLACEHOLDER,
        base_url=settings.openai_base_url,
        timeout=timeout_seconds,
        max_retries=max_retries,
    )
    return OpenAIDrafter(
        client=client,
        model=settings.llm_model,
        concurrency=settings.llm_concurrency if concurrency is None else concurrency,
        # A hard stop for the whole attempt, the client's own retries included.
        deadline_seconds=timeout_seconds * (max_retries + 1) + 1.0,
    )


# --- the offline drafter -------------------------------------------------------------------


class OfflineDrafter:
    """Deterministic nudges from the leader's own plan, through `prompts/nudges/offline_*.j2`."""

    async def draft(self, *, context: NudgeContext) -> DraftResult:
        """Draft the offline nudge for the most urgent open item; no draft without open goals."""
        started = time.perf_counter()
        offline = compose_offline_draft(context=context)
        latency_ms = round((time.perf_counter() - started) * 1000)
        record = DraftRecord(
            model=OFFLINE_MODEL,
            prompt_version=offline.prompt_version if offline else "",
            mode=DraftMode.offline,
            outcome=DraftOutcome.ok if offline else DraftOutcome.nothing_to_cite,
            latency_ms=latency_ms,
        )
        return DraftResult(draft=offline.draft if offline else None, record=record)
