"""draft_nudge against a real AsyncOpenAI client and a local OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace

import pytest

from services.config import Settings
from services.llm import (
    DraftMode,
    DraftOutcome,
    DraftResult,
    OfflineDrafter,
    create_llm_drafter,
)
from services.nudges.drafting import DraftSource, draft_nudge
from services.nudges.models import NudgeOutcome
from services.nudges.schema import NudgeContext, NudgeDraft
from services.nudges.validation import ProblemKind, validate_draft
from services.plans.models import GoalStatus
from tests.llm.conftest import MakeDrafter, llm_settings
from tests.llm.openai_stand_in import (
    MODEL,
    OpenAIStandIn,
    Responder,
    answer,
    delayed,
    draft_answer,
    malformed,
    refusal,
    status,
)
from tests.llm.sample_plans import (
    ALICE_GOAL,
    ALICE_MILESTONE,
    AT_RISK_GOAL,
    DONE_GOAL,
    OVERDUE_MILESTONE,
    context_from,
    maya_context,
    maya_plan,
)

GROUNDED = draft_answer(goal_id=AT_RISK_GOAL, milestone_id=OVERDUE_MILESTONE)


async def test_grounded_answer_is_used_and_recorded(
    stand_in: OpenAIStandIn, make_drafter: MakeDrafter, offline: OfflineDrafter
) -> None:
    stand_in.script(GROUNDED)
    outcome = await draft_nudge(context=maya_context(), drafter=make_drafter(), fallback=offline)

    assert outcome is not None
    assert outcome.source is DraftSource.llm
    assert (outcome.draft.cited_goal_id, outcome.draft.cited_milestone_id) == (
        AT_RISK_GOAL, OVERDUE_MILESTONE,
    )
    assert outcome.model == MODEL
    assert outcome.prompt_version == "nudges/system@1+nudges/user@1"
    [record] = outcome.attempts
    assert record.outcome is DraftOutcome.ok
    assert record.mode is DraftMode.json_schema
    assert record.tokens_in and record.tokens_in > 100
    assert record.tokens_out and record.tokens_out > 10
    assert record.latency_ms >= 0

    [request] = stand_in.chat_requests
    assert request["model"] == MODEL
    assert request["response_format"]["type"] == "json_schema"
    schema = request["response_format"]["json_schema"]
    assert (schema["name"], schema["strict"]) == ("NudgeDraft", True)
    assert schema["schema"]["additionalProperties"] is False
    assert set(schema["schema"]["required"]) == set(NudgeDraft.model_fields)
    assert request["max_completion_tokens"] == 600
    assert [m["role"] for m in request["messages"]] == ["system", "user"]


TOO_LONG_TEXT = "Hi Maya, " + "this nudge just keeps going and going. " * 40

FAULTS: dict[str, tuple[Responder, DraftOutcome]] = {
    "malformed JSON": (malformed(), DraftOutcome.malformed),
    "JSON missing fields": (answer({"text": "Hi Maya"}), DraftOutcome.malformed),
    "slower than the timeout": (delayed(5, GROUNDED), DraftOutcome.timeout),
    "429": (status(429, "rate limited", error_type="rate_limit_error"), DraftOutcome.rate_limited),
    "500": (status(500), DraftOutcome.server_error),
    "503": (status(503), DraftOutcome.server_error),
    "401": (status(401, "bad key", error_type="invalid_api_key"), DraftOutcome.rejected),
    "refusal": (refusal(), DraftOutcome.refusal),
    "cut off at the token limit": (
        answer('{"text": "Hi Maya, your hand', finish_reason="length"), DraftOutcome.truncated,
    ),
    "content filter": (answer("", finish_reason="content_filter"), DraftOutcome.refusal),
    "over-long text": (
        draft_answer(goal_id=AT_RISK_GOAL, text=TOO_LONG_TEXT), DraftOutcome.too_long,
    ),
    "another leader's goal": (
        draft_answer(goal_id=ALICE_GOAL, milestone_id=ALICE_MILESTONE), DraftOutcome.ungrounded,
    ),
    "a done goal": (draft_answer(goal_id=DONE_GOAL), DraftOutcome.ungrounded),
    "an invented goal": (draft_answer(goal_id=999), DraftOutcome.ungrounded),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_every_fault_ends_in_the_offline_draft(
    fault: str, stand_in: OpenAIStandIn, make_drafter: MakeDrafter, offline: OfflineDrafter
) -> None:
    responder, expected = FAULTS[fault]
    stand_in.script(responder, responder)
    context = maya_context()

    outcome = await draft_nudge(context=context, drafter=make_drafter(), fallback=offline)

    assert outcome is not None
    assert outcome.source is DraftSource.offline
    assert outcome.model == "offline"
    assert outcome.prompt_version == "nudges/offline_overdue@1"
    assert validate_draft(draft=outcome.draft, context=context) == []
    assert [a.outcome for a in outcome.attempts] == [expected, expected, DraftOutcome.ok]
    assert len(stand_in.chat_requests) == 2  # one retry, then offline
    assert outcome.outcome is NudgeOutcome(f"fallback_{expected.value}")
    assert outcome.llm_model == MODEL


def test_every_way_a_model_attempt_fails_names_a_fallback() -> None:
    not_failures = {DraftOutcome.ok, DraftOutcome.nothing_to_cite}
    named = {f"fallback_{o.value}" for o in DraftOutcome if o not in not_failures}
    assert named <= {o.value for o in NudgeOutcome}
    assert {o.value for o in ProblemKind} <= {o.value for o in DraftOutcome}


@pytest.mark.parametrize("fault", ["malformed JSON", "refusal", "cut off at the token limit"])
async def test_an_unusable_answer_still_costs_its_tokens(
    fault: str, stand_in: OpenAIStandIn, make_drafter: MakeDrafter
) -> None:
    responder, _ = FAULTS[fault]
    stand_in.script(responder)
    result = await make_drafter().draft(context=maya_context())
    assert result.draft is None
    assert result.record.tokens_in and result.record.tokens_in > 100
    assert result.record.tokens_out is not None


async def test_a_bad_first_answer_is_retried_once(
    stand_in: OpenAIStandIn, make_drafter: MakeDrafter, offline: OfflineDrafter
) -> None:
    stand_in.script(draft_answer(goal_id=999), GROUNDED)
    outcome = await draft_nudge(context=maya_context(), drafter=make_drafter(), fallback=offline)
    assert outcome is not None and outcome.source is DraftSource.llm
    assert [a.outcome for a in outcome.attempts] == [DraftOutcome.ungrounded, DraftOutcome.ok]
    assert outcome.outcome is NudgeOutcome.ok_after_retry
    assert outcome.attempts[0].problems == ("cited goal 999 is not one of this leader's goals",)


async def test_client_retries_are_bounded(
    stand_in: OpenAIStandIn, make_drafter: MakeDrafter, offline: OfflineDrafter
) -> None:
    stand_in.default = status(500)
    outcome = await draft_nudge(
        context=maya_context(), drafter=make_drafter(max_retries=1), fallback=offline
    )
    assert outcome is not None and outcome.source is DraftSource.offline
    assert len(stand_in.chat_requests) == 4  # 2 attempts x (1 try + 1 client retry)


async def test_unreachable_server_ends_in_the_offline_draft(offline: OfflineDrafter) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    drafter = create_llm_drafter(
        settings=llm_settings(f"http://127.0.0.1:{port}/v1"), timeout_seconds=0.5, max_retries=0
    )
    assert drafter is not None
    async with drafter:
        outcome = await draft_nudge(context=maya_context(), drafter=drafter, fallback=offline)
    assert outcome is not None and outcome.source is DraftSource.offline
    assert outcome.attempts[0].outcome is DraftOutcome.connection_error


async def test_json_mode_fallback_when_the_server_rejects_json_schema(
    stand_in: OpenAIStandIn, make_drafter: MakeDrafter, offline: OfflineDrafter
) -> None:
    stand_in.reject_json_schema = True
    stand_in.script(GROUNDED, GROUNDED)
    drafter = make_drafter()

    first = await draft_nudge(context=maya_context(), drafter=drafter, fallback=offline)
    second = await draft_nudge(context=maya_context(), drafter=drafter, fallback=offline)

    assert first is not None and first.source is DraftSource.llm
    assert second is not None and second.source is DraftSource.llm
    assert first.attempts[0].mode is DraftMode.json_object
    formats = [r.get("response_format", {}).get("type") for r in stand_in.chat_requests]
    # The drafter learns: after one rejection it asks in JSON mode straight away.
    assert formats == ["json_schema", "json_object", "json_object"]


FENCED = (
    '```json\n{"text": "Hi Maya, the hand-over notes are three days late. One section today?",'
    f' "cited_goal_id": {AT_RISK_GOAL}, "cited_milestone_id": null,'
    ' "rationale": "Overdue.", "suggested_action": "Draft one section."}\n```'
)


async def test_json_mode_accepts_code_fenced_answers(
    stand_in: OpenAIStandIn, make_drafter: MakeDrafter, offline: OfflineDrafter
) -> None:
    stand_in.reject_json_schema = True
    stand_in.script(answer(FENCED))
    outcome = await draft_nudge(context=maya_context(), drafter=make_drafter(), fallback=offline)
    assert outcome is not None and outcome.source is DraftSource.llm


@pytest.mark.parametrize(
    ("first", "second", "outcomes"),
    [
        (malformed(), answer("x", finish_reason="length"), ["malformed", "truncated"]),
        (refusal(), answer("", finish_reason="content_filter"), ["refusal", "refusal"]),
        (answer(""), status(500), ["malformed", "server_error"]),
        (delayed(5, GROUNDED), draft_answer(goal_id=999), ["timeout", "ungrounded"]),
    ],
)
async def test_json_mode_faults_still_end_offline(
    first: Responder,
    second: Responder,
    outcomes: list[str],
    stand_in: OpenAIStandIn,
    make_drafter: MakeDrafter,
    offline: OfflineDrafter,
) -> None:
    stand_in.reject_json_schema = True
    drafter = make_drafter()
    drafter.mode = DraftMode.json_object  # as if an earlier draft had taught it
    stand_in.script(first, second)
    outcome = await draft_nudge(context=maya_context(), drafter=drafter, fallback=offline)
    assert outcome is not None and outcome.source is DraftSource.offline
    assert [a.outcome for a in outcome.attempts] == [*outcomes, "ok"]
    assert all(a.mode is DraftMode.json_object for a in outcome.attempts[:2])


async def test_concurrency_is_bounded(
    stand_in: OpenAIStandIn, make_drafter: MakeDrafter, offline: OfflineDrafter
) -> None:
    stand_in.default = delayed(0.05, GROUNDED)
    drafter = make_drafter(concurrency=3)
    outcomes = await asyncio.gather(
        *(draft_nudge(context=maya_context(), drafter=drafter, fallback=offline) for _ in range(12))
    )
    assert all(o is not None and o.source is DraftSource.llm for o in outcomes)
    assert len(stand_in.chat_requests) == 12
    assert stand_in.max_in_flight == 3


async def test_concurrency_comes_from_the_settings(
    stand_in: OpenAIStandIn, offline: OfflineDrafter
) -> None:
    stand_in.default = delayed(0.05, GROUNDED)
    settings = llm_settings(stand_in.base_url).model_copy(update={"llm_concurrency": 2})
    drafter = create_llm_drafter(settings=settings, timeout_seconds=0.5)
    assert drafter is not None
    async with drafter:
        await asyncio.gather(*(draft_nudge(context=maya_context(), drafter=drafter,
                                           fallback=offline) for _ in range(6)))
    assert stand_in.max_in_flight == 2


async def test_structured_output_is_read_as_sent(
    stand_in: OpenAIStandIn, make_drafter: MakeDrafter, offline: OfflineDrafter
) -> None:
    stand_in.script(answer(FENCED), answer(FENCED))
    outcome = await draft_nudge(context=maya_context(), drafter=make_drafter(), fallback=offline)
    # A server that enforces the schema sends bare JSON; anything else is not the answer.
    assert outcome is not None and outcome.source is DraftSource.offline
    assert outcome.attempts[0].outcome is DraftOutcome.malformed


async def test_stand_in_lists_its_model(make_drafter: MakeDrafter) -> None:
    models = await make_drafter().client.models.list()
    assert [m.id async for m in models] == [MODEL]


async def test_no_llm_configured_means_offline_only(offline: OfflineDrafter) -> None:
    settings = Settings(_env_file=None, COACHBOT_ENV="test")
    assert create_llm_drafter(settings=settings) is None
    outcome = await draft_nudge(context=maya_context(), drafter=None, fallback=offline)
    assert outcome is not None and outcome.source is DraftSource.offline
    assert [a.mode for a in outcome.attempts] == [DraftMode.offline]
    assert (outcome.outcome, outcome.llm_model) == (NudgeOutcome.offline, None)


async def test_a_base_url_without_a_key_is_enough(stand_in: OpenAIStandIn) -> None:
    settings = Settings(
        _env_file=None, COACHBOT_ENV="test", OPENAI_BASE_URL=stand_in.base_url
    )
    drafter = create_llm_drafter(settings=settings, timeout_seconds=0.5)
    assert drafter is not None
    stand_in.script(GROUNDED)
    async with drafter:
        result = await drafter.draft(context=maya_context())
    assert result.record.outcome is DraftOutcome.ok


async def test_nothing_to_cite_means_no_nudge_and_no_llm_call(
    stand_in: OpenAIStandIn, make_drafter: MakeDrafter, offline: OfflineDrafter
) -> None:
    plan = maya_plan()
    plan.goals = [replace(g, status=GoalStatus.done) for g in plan.goals]
    context = context_from(plan)
    assert await draft_nudge(context=context, drafter=make_drafter(), fallback=offline) is None
    assert stand_in.chat_requests == []


class ExplodingDrafter:
    """A drafter that breaks its promise to report failures as records."""

    async def draft(self, *, context: NudgeContext) -> DraftResult:
        raise RuntimeError("boom")


async def test_a_drafter_that_raises_still_ends_offline(offline: OfflineDrafter) -> None:
    outcome = await draft_nudge(
        context=maya_context(), drafter=ExplodingDrafter(), fallback=offline
    )
    assert outcome is not None and outcome.source is DraftSource.offline
    assert [a.outcome for a in outcome.attempts] == [
        DraftOutcome.error, DraftOutcome.error, DraftOutcome.ok,
    ]
    assert outcome.outcome is NudgeOutcome.fallback_error
