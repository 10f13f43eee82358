"""Draft one grounded nudge: the LLM when configured and well-behaved, else the offline drafter."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from services.llm import (
    DraftMode,
    DraftOutcome,
    DraftRecord,
    DraftResult,
    NudgeDrafter,
    OfflineDrafter,
    nudge_messages,
)
from services.nudges.models import NudgeOutcome
from services.nudges.schema import NudgeContext, NudgeDraft
from services.nudges.validation import ProblemKind, draft_problems

logger = logging.getLogger(__name__)

# One retry: a second sample often fixes a bad citation, a third rarely does and costs latency.
LLM_ATTEMPTS = 2


class DraftSource(StrEnum):
    llm = "llm"
    offline = "offline"


# A rejected draft's attempt is named after its most serious problem (ProblemKind's order).
PROBLEM_OUTCOMES = {
    ProblemKind.ungrounded: DraftOutcome.ungrounded,
    ProblemKind.names_other_person: DraftOutcome.names_other_person,
    ProblemKind.unsafe: DraftOutcome.unsafe,
    ProblemKind.too_long: DraftOutcome.too_long,
    ProblemKind.too_short: DraftOutcome.too_short,
}


class DraftedNudge(BaseModel):
    """A draft that passed validation, where it came from, and a record of every attempt."""

    model_config = ConfigDict(frozen=True)
    draft: NudgeDraft
    source: DraftSource
    model: str
    prompt_version: str
    attempts: tuple[DraftRecord, ...]

    @property
    def llm_attempts(self) -> tuple[DraftRecord, ...]:
        return tuple(a for a in self.attempts if a.mode is not DraftMode.offline)

    @property
    def llm_model(self) -> str | None:
        """The model that was asked, also when the offline drafter wrote the text."""
        tried = self.llm_attempts
        return tried[-1].model if tried else None

    @property
    def outcome(self) -> NudgeOutcome:
        """How the text came about: the model's answer, or why the offline drafter wrote it."""
        tried = self.llm_attempts
        if self.source is DraftSource.llm:
            return NudgeOutcome.ok if len(tried) <= 1 else NudgeOutcome.ok_after_retry
        if not tried:
            return NudgeOutcome.offline
        try:
            return NudgeOutcome(f"fallback_{tried[-1].outcome.value}")
        except ValueError:  # an attempt outcome no fallback is named after
            return NudgeOutcome.fallback

    def attempt_log(self) -> list[dict[str, Any]]:
        """Every attempt as stored with the nudge: model, mode, outcome, tokens, latency."""
        return [
            attempt.model_dump(mode="json", exclude={"prompt_version", "problems"})
            for attempt in self.attempts
        ]


async def draft_nudge(
    *,
    context: NudgeContext,
    drafter: NudgeDrafter | None,
    fallback: OfflineDrafter,
) -> DraftedNudge | None:
    """Try the LLM drafter twice, then the offline one; None when nothing grounded can be said."""
    if not context.open_goals:
        return None
    attempts: list[DraftRecord] = []
    if drafter is not None:
        for _ in range(LLM_ATTEMPTS):
            result = await _attempt(drafter=drafter, context=context)
            drafted, record = _accept(result=result, context=context, source=DraftSource.llm)
            attempts.append(record)
            if drafted is not None:
                return drafted.model_copy(update={"attempts": tuple(attempts)})
    result = await fallback.draft(context=context)
    drafted, record = _accept(result=result, context=context, source=DraftSource.offline)
    attempts.append(record)
    if drafted is None:
        # Only reachable when even the plain template trips validation (a colleague called
        # "Hi", say): sending nothing is better than sending something ungrounded.
        logger.error("offline drafter produced no valid nudge: %s", record.problems)
        return None
    return drafted.model_copy(update={"attempts": tuple(attempts)})


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
) -> tuple[DraftedNudge | None, DraftRecord]:
    record = result.record
    if result.draft is None:
        return None, record
    problems = draft_problems(draft=result.draft, context=context)
    if problems:
        messages = tuple(problem.message for problem in problems)
        logger.info("nudge draft rejected: %s", "; ".join(messages))
        worst = min((problem.kind for problem in problems), key=list(ProblemKind).index)
        record = record.model_copy(
            update={"outcome": PROBLEM_OUTCOMES[worst], "problems": messages}
        )
        return None, record
    drafted = DraftedNudge(
        draft=result.draft,
        source=source,
        model=record.model,
        prompt_version=record.prompt_version,
        attempts=(),
    )
    return drafted, record
