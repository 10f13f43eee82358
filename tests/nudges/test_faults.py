"""End to end against a local OpenAI-compatible server: database → context → model →
validation → outbox → the Slack message. Grounded answers are sent as the model wrote them;
every fault ends in the offline draft, and nothing ungrounded is ever sent."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.llm import DraftOutcome
from services.nudges.models import NudgeStatus
from services.people.models import NudgeMode
from tests.llm.conftest import MakeDrafter
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
from tests.nudges.conftest import Tick, nudges_of
from tests.nudges.e2e import as_text, maya_alone, omar_strings, outbox, rendered
from tests.nudges.factories import Program

Sessions = async_sessionmaker[AsyncSession]
GROUNDED = "Hi Maya, your hand-over notes are two days late. Could one page go out today?"


def grounded(program: Program) -> Responder:
    return draft_answer(goal_id=program.goal.id or 0, milestone_id=program.milestone.id,
                        text=GROUNDED)


async def test_a_grounded_answer_is_sent_as_the_model_wrote_it(
    session: AsyncSession, sessions: Sessions, tick: Tick, stand_in: OpenAIStandIn,
    make_drafter: MakeDrafter,
) -> None:
    program = await maya_alone(session)
    stand_in.script(grounded(program))
    assert await tick(drafter=make_drafter()) == 1
    [nudge] = await nudges_of(sessions, program.leader.id or 0)
    assert (nudge.source, nudge.model, nudge.attempts) == ("llm", MODEL, 1)
    assert (nudge.outcome, nudge.llm_model) == ("ok", MODEL)
    assert nudge.text == GROUNDED and nudge.status == NudgeStatus.sent
    assert nudge.prompt_version == "nudges/system@1+nudges/user@1"
    assert nudge.tokens_in and nudge.tokens_in > 50 and nudge.tokens_out and nudge.tokens_out > 10
    assert nudge.latency_ms is not None
    [delivery] = await outbox(sessions)
    message = await rendered(sessions, delivery)
    assert GROUNDED in as_text(message)
    assert "“Write hand-over notes” on the goal “Delegate the weekly report”" in as_text(message)

    # What the model saw: Maya's own plan, her note and her answer; nothing of Omar's.
    [request] = stand_in.chat_requests
    sent = json.dumps(request, ensure_ascii=False)
    for text in ("Delegate the weekly report", "Asked Priya to pair", "Too many meetings"):
        assert text in sent
    for text in omar_strings(program):
        assert text not in sent


def other_goal(p: Program) -> Responder:
    return draft_answer(goal_id=p.other_goal.id or 0, text=GROUNDED)


def names_omar(p: Program) -> Responder:
    return draft_answer(goal_id=p.goal.id or 0, text=GROUNDED + " Omar Haddad did the same.")


def mentions(p: Program) -> Responder:
    return draft_answer(goal_id=p.goal.id or 0, text="<!channel> " + GROUNDED)


def too_long(p: Program) -> Responder:
    return draft_answer(goal_id=p.goal.id or 0, text=GROUNDED * 10)


def cut_off(p: Program) -> Responder:
    return answer('{"text": "Hi Maya, your hand-over', finish_reason="length")


def other_milestone(p: Program) -> Responder:
    return draft_answer(goal_id=p.goal.id or 0, milestone_id=p.other_milestone.id, text=GROUNDED)


# Each fault, and the attempt outcome it is recorded with (the nudge's is "fallback_" + it).
FAULTS: dict[str, tuple[Callable[[Program], Responder], DraftOutcome]] = {
    "cites another leader's goal": (other_goal, DraftOutcome.ungrounded),
    "names another leader": (names_omar, DraftOutcome.names_other_person),
    "mentions a channel": (mentions, DraftOutcome.unsafe),
    "over-long text": (too_long, DraftOutcome.too_long),
    "cut off at the token limit": (cut_off, DraftOutcome.truncated),
    "cites another leader's milestone": (other_milestone, DraftOutcome.ungrounded),
    "malformed JSON": (lambda p: malformed(), DraftOutcome.malformed),
    "refusal": (lambda p: refusal(), DraftOutcome.refusal),
    "429": (lambda p: status(429, "slow down", error_type="rate_limit_exceeded"),
            DraftOutcome.rate_limited),
    "500": (lambda p: status(500), DraftOutcome.server_error),
    "timeout": (lambda p: delayed(5.0, grounded(p)), DraftOutcome.timeout),
}
NO_ANSWER = {DraftOutcome.rate_limited, DraftOutcome.server_error, DraftOutcome.timeout}


@pytest.mark.parametrize("fault", list(FAULTS), ids=lambda name: name.replace(" ", "-"))
async def test_every_fault_ends_in_the_offline_draft(
    fault: str, session: AsyncSession, sessions: Sessions, tick: Tick, stand_in: OpenAIStandIn,
    make_drafter: MakeDrafter,
) -> None:
    program = await maya_alone(session)
    make_responder, expected = FAULTS[fault]
    responder = make_responder(program)
    stand_in.script(responder, responder)
    assert await tick(drafter=make_drafter(timeout_seconds=0.3)) == 1
    [nudge] = await nudges_of(sessions, program.leader.id or 0)
    assert (nudge.source, nudge.model, nudge.attempts) == ("offline", "offline", 3)
    # The record says which model failed, how, and what its answers cost.
    assert (nudge.outcome, nudge.llm_model) == (f"fallback_{expected.value}", MODEL)
    assert nudge.attempt_log is not None
    assert [(a["model"], a["mode"], a["outcome"]) for a in nudge.attempt_log] == [
        (MODEL, "json_schema", expected.value), (MODEL, "json_schema", expected.value),
        ("offline", "offline", "ok"),
    ]
    answered = expected not in NO_ANSWER
    assert all((a["tokens_in"] is not None) == answered for a in nudge.attempt_log[:2])
    assert (nudge.tokens_in is not None) == answered
    assert nudge.latency_ms == sum(a["latency_ms"] for a in nudge.attempt_log)
    assert nudge.goal_id == program.goal.id and nudge.milestone_id == program.milestone.id
    assert len(stand_in.chat_requests) == 2
    [delivery] = await outbox(sessions)
    assert delivery.member_id == program.leader.id
    text = as_text(await rendered(sessions, delivery))
    assert "Hi Maya" in text
    for forbidden in ("<!", "<@", "Omar", "Lisbon", GROUNDED[:30]):
        assert forbidden not in text


async def test_a_fault_then_a_grounded_answer_uses_the_model(
    session: AsyncSession, sessions: Sessions, tick: Tick, stand_in: OpenAIStandIn,
    make_drafter: MakeDrafter,
) -> None:
    program = await maya_alone(session)
    stand_in.script(other_goal(program), grounded(program))
    await tick(drafter=make_drafter())
    [nudge] = await nudges_of(sessions, program.leader.id or 0)
    assert (nudge.source, nudge.attempts, nudge.text) == ("llm", 2, GROUNDED)
    assert (nudge.outcome, nudge.llm_model) == ("ok_after_retry", MODEL)
    assert nudge.attempt_log is not None
    assert [a["outcome"] for a in nudge.attempt_log] == ["ungrounded", "ok"]


async def test_without_a_model_the_outcome_is_offline(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await maya_alone(session)
    assert await tick() == 1
    [nudge] = await nudges_of(sessions, program.leader.id or 0)
    assert (nudge.source, nudge.outcome, nudge.llm_model, nudge.attempts) == (
        "offline", "offline", None, 1)
    assert nudge.tokens_in is None
    assert nudge.attempt_log == [{"model": "offline", "mode": "offline", "outcome": "ok",
                                  "tokens_in": None, "tokens_out": None,
                                  "latency_ms": nudge.latency_ms}]


async def test_review_mode_sends_the_model_only_what_the_coach_may_read(
    session: AsyncSession, sessions: Sessions, tick: Tick, stand_in: OpenAIStandIn,
    make_drafter: MakeDrafter,
) -> None:
    program = await maya_alone(session, mode=NudgeMode.coach_review)
    stand_in.script(grounded(program))
    await tick(drafter=make_drafter())
    sent = json.dumps(stand_in.chat_requests, ensure_ascii=False)
    assert "Delegate the weekly report" in sent
    assert program.private_goal.title not in sent
    [delivery] = await outbox(sessions)
    assert delivery.kind == "nudge_review" and delivery.member_id == program.coach.id
    review = as_text(await rendered(sessions, delivery))
    assert GROUNDED in review and "Approve" in review
    assert program.private_goal.title not in review
