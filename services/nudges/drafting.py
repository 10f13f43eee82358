"""Draft one grounded nudge: the LLM when configured and well-behaved, else the offline drafter."""

from __future__ import annotations

import logging
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from services.llm import (
    DraftOutcome,
    DraftRecord,
    DraftResult,
    NudgeDrafter,
    OfflineDrafter,
    nudge_messages,
)
from services.nudges.schema import NudgeContext, NudgeDraft
from services.nudges.validation import validate_draft

logger = logging.getLogger(__name__)

# One retry: a second sample often fixes a bad citation, a third rarely does and costs latency.
LLM_ATTEMPTS = 2


class DraftSource(StrEnum):
    llm = "llm"
    offline = "offline"


class NudgeOutcome(BaseModel):
    """A draft that passed validation, where it came from, and a record of every attempt."""

    model_config = ConfigDict(frozen=True)
    draft: NudgeDraft
    source: DraftSource
    model: str
    prompt_version: str
    attempts: tuple[DraftRecord, ...]


async def draft_nudge(
    *,
    context: NudgeContext,
    drafter: NudgeDrafter | None,
    fallback: OfflineDrafter,
) -> NudgeOutcome | None:
    """Try the LLM drafter twice, then the offline one; None when nothing grounded can be said."""
    if not context.open_goals:
        return None
    attempts: list[DraftRecord] = []
    if drafter is not None:
        for _ in range(LLM_ATTEMPTS):
            result = await _attempt(drafter=drafter, context=context)
            outcome, record = _accept(result=result, context=context, source=DraftSource.llm)
            attempts.append(record)
            if outcome is not None:
                return outcome.model_copy(update={"attempts": tuple(attempts)})
    result = await fallback.draft(context=context)
    outcome, record = _accept(result=result, context=context, source=DraftSource.offline)
    attempts.append(record)
    if outcome is None:
        # Only reachable when even the plain template trips validation (a colleague called
        # "Hi", say): sending nothing is better than sending something ungrounded.
        logger.error("offline drafter produced no valid nudge: %s", record.problems)
        return None
    return outcome.model_copy(update={"attempts": tuple(attempts)})


async def _attempt(*, drafter: NudgeDrafter, context: NudgeContext) -> DraftResult:
    try:
        return await drafter.draft(context=context)
    except Exception as exc:
        # A drafter is expected to report its own failures; anything else still must not
        # stop the nudge, so it is recorded and the flow moves on to the next attempt.
        logger.exception("nudge drafter raised %s", type(exc).__name__)
        _, prompt_version = nudge_messages(context=context)
        record = DraftRecord(
            model=str(getattr(drafter, "model", type(drafter).__name__)),
            prompt_version=prompt_version,
            mode=None,
            outcome=DraftOutcome.error,
            problems=(type(exc).__name__,),
        )
        return DraftResult(draft=None, record=record)


def _accept(
    *, result: DraftResult, context: NudgeContext, source: DraftSource
) -> tuple[NudgeOutcome | None, DraftRecord]:
    record = result.record
    if result.draft is None:
        return None, record
    problems = validate_draft(draft=result.draft, context=context)
    if problems:
        logger.info("nudge draft rejected: %s", "; ".join(problems))
        record = record.model_copy(
            update={"outcome": DraftOutcome.invalid, "problems": tuple(problems)}
        )
        return None, record
    outcome = NudgeOutcome(
        draft=result.draft,
        source=source,
        model=record.model,
        prompt_version=record.prompt_version,
        attempts=(),
    )
    return outcome, record
