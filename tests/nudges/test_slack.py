"""Nudges in Slack: the leader's DM with "why" and feedback buttons, the coach's review with
Approve / Edit / Reject and the Edit modal, all through Bolt, the messenger and the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks.nudge import (
    APPROVE,
    EDIT,
    EDIT_MODAL,
    HELPFUL,
    NOT_HELPFUL,
    REJECT,
    SNOOZE,
)
from bot.listeners import nudges as nudge_listeners
from bot.sandbox import SlackSandbox
from services.db import utcnow
from services.delivery.models import DeliveryState
from services.nudges.models import NudgeFeedback, NudgeStatus
from services.people.models import NudgeMode
from tests.delivery.world import rows
from tests.nudges.conftest import Tick, nudges_of
from tests.nudges.e2e import rendered
from tests.nudges.factories import Program, make_program
from tests.nudges.slack_world import (
    action_ids,
    click_message,
    deliver_outbox,
    dm_messages,
    text_of,
)
from tests.slack.conftest import (
    COACH,
    LEADER,
    TEAM,
    SlackUser,
    eventually,
    http,
    leader,
    sandbox,
    text_input,
    web,
)

__all__ = ["http", "leader", "sandbox", "web"]

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def nudge_app(web: FastAPI) -> FastAPI:
    """The web app; its Bolt app has the nudge listeners (bot/listeners registers them)."""
    assert nudge_listeners in listener_modules()
    return web


def listener_modules() -> tuple[object, ...]:
    import bot.listeners

    return tuple(vars(bot.listeners).values())


@pytest.fixture
def coach(nudge_app: FastAPI, http: object, sandbox: SlackSandbox) -> SlackUser:
    return SlackUser(http, sandbox, COACH)  # type: ignore[arg-type]


async def program_in_slack(session: AsyncSession, mode: NudgeMode) -> Program:
    program = await make_program(session, mode=mode, team_id=TEAM, leader_slack_id=LEADER,
                                 coach_slack_id=COACH)
    program.goal.title = "Delegate <the> weekly report & more"
    session.add(program.goal)
    await session.commit()
    return program


async def test_the_leader_gets_a_nudge_with_why_and_gives_feedback(
    nudge_app: FastAPI, session: AsyncSession, sessions: Sessions, tick: Tick,
    sandbox: SlackSandbox, leader: SlackUser,
) -> None:
    program = await program_in_slack(session, NudgeMode.auto)
    await tick()
    await deliver_outbox(sessions, sandbox)
    [message] = dm_messages(sandbox, LEADER)
    blocks = text_of(message)
    assert "Hi Maya" in blocks
    assert "Why you're getting this" in blocks
    cited = "“Write hand-over notes” on the goal “Delegate &lt;the&gt; weekly report &amp; more”"
    assert cited in blocks
    assert action_ids(message) == [HELPFUL, NOT_HELPFUL, SNOOZE]

    response = await click_message(leader, sandbox, message, HELPFUL)
    assert response.status_code == 200
    await eventually(lambda: sandbox.calls("chat.update"))
    [stored] = await nudges_of(sessions, program.leader.id or 0)
    assert stored.feedback == NudgeFeedback.helpful
    [updated] = dm_messages(sandbox, LEADER)
    assert action_ids(updated) == []
    assert "glad it helped" in text_of(updated)


async def test_snooze_brings_the_nudge_back(
    nudge_app: FastAPI, session: AsyncSession, sessions: Sessions, tick: Tick,
    sandbox: SlackSandbox, leader: SlackUser,
) -> None:
    program = await program_in_slack(session, NudgeMode.auto)
    await tick()
    await deliver_outbox(sessions, sandbox)
    [message] = dm_messages(sandbox, LEADER)
    await click_message(leader, sandbox, message, SNOOZE)
    await eventually(lambda: sandbox.calls("chat.update"))
    [stored] = await nudges_of(sessions, program.leader.id or 0)
    assert stored.feedback == NudgeFeedback.snoozed
    assert "Snoozed" in text_of(dm_messages(sandbox, LEADER)[0])
    again = (await rows(sessions))[f"nudge:{stored.id}:snoozed"]
    assert again.state == DeliveryState.pending
    assert again.next_attempt_at > utcnow() + timedelta(hours=23)
    # The copy asks for feedback again, without a second Snooze.
    copy = await rendered(sessions, again)
    assert action_ids(copy) == [HELPFUL, NOT_HELPFUL]


async def review_request(
    session: AsyncSession, sessions: Sessions, tick: Tick, sandbox: SlackSandbox
) -> tuple[Program, dict[str, object]]:
    program = await program_in_slack(session, NudgeMode.coach_review)
    await tick()
    await deliver_outbox(sessions, sandbox)
    assert dm_messages(sandbox, LEADER) == []
    [message] = dm_messages(sandbox, COACH)
    return program, message


async def test_the_coach_reviews_and_approves(
    nudge_app: FastAPI, session: AsyncSession, sessions: Sessions, tick: Tick,
    sandbox: SlackSandbox, coach: SlackUser,
) -> None:
    program, message = await review_request(session, sessions, tick, sandbox)
    text = text_of(message)
    assert "Draft nudge for Maya Patel" in text
    assert "Drafted because" in text and "Cites the milestone" in text
    assert action_ids(message) == [APPROVE, EDIT, REJECT]

    await click_message(coach, sandbox, message, APPROVE)
    await eventually(lambda: sandbox.calls("chat.update"))
    [stored] = await nudges_of(sessions, program.leader.id or 0)
    assert stored.status == NudgeStatus.sent and stored.reviewer_id == program.coach.id
    assert "Sent to Maya Patel" in text_of(dm_messages(sandbox, COACH)[0])
    await deliver_outbox(sessions, sandbox)
    [to_leader] = dm_messages(sandbox, LEADER)
    assert action_ids(to_leader) == [HELPFUL, NOT_HELPFUL, SNOOZE]


async def test_the_coach_rejects(
    nudge_app: FastAPI, session: AsyncSession, sessions: Sessions, tick: Tick,
    sandbox: SlackSandbox, coach: SlackUser,
) -> None:
    program, message = await review_request(session, sessions, tick, sandbox)
    await click_message(coach, sandbox, message, REJECT)
    await eventually(lambda: sandbox.calls("chat.update"))
    [stored] = await nudges_of(sessions, program.leader.id or 0)
    assert stored.status == NudgeStatus.rejected
    assert "Rejected" in text_of(dm_messages(sandbox, COACH)[0])
    await deliver_outbox(sessions, sandbox)
    assert dm_messages(sandbox, LEADER) == []


async def test_the_coach_edits_in_a_modal_with_inline_errors(
    nudge_app: FastAPI, session: AsyncSession, sessions: Sessions, tick: Tick,
    sandbox: SlackSandbox, coach: SlackUser,
) -> None:
    program, message = await review_request(session, sessions, tick, sandbox)
    await click_message(coach, sandbox, message, EDIT, trigger="edit.trigger")
    [opened] = await eventually(lambda: sandbox.calls("views.open"))
    view = opened.args["view"]
    assert view["callback_id"] == EDIT_MODAL
    [stored] = await nudges_of(sessions, program.leader.id or 0)
    assert view["blocks"][1]["element"]["initial_value"] == stored.text

    refused = await coach.submit(view, {"text": text_input("Tell <!channel> about it, Maya!")})
    assert refused.json()["response_action"] == "errors"
    assert "mention" in refused.json()["errors"]["text"]
    [still] = await nudges_of(sessions, program.leader.id or 0)
    assert still.status == NudgeStatus.draft

    edited = "Maya, one page of hand-over notes by Thursday would be a great start."
    accepted = await coach.submit(view, {"text": text_input(edited)})
    assert accepted.status_code == 200 and not accepted.content
    [done] = await nudges_of(sessions, program.leader.id or 0)
    assert (done.text, done.original_text) == (edited, stored.text)
    assert done.reviewer_id == program.coach.id and done.status == NudgeStatus.sent
    await eventually(lambda: sandbox.calls("chat.update"))
    await deliver_outbox(sessions, sandbox)
    [to_leader] = dm_messages(sandbox, LEADER)
    assert edited in to_leader["text"]


async def test_a_leader_cannot_approve_their_own_draft(
    nudge_app: FastAPI, session: AsyncSession, sessions: Sessions, tick: Tick,
    sandbox: SlackSandbox, leader: SlackUser,
) -> None:
    program, message = await review_request(session, sessions, tick, sandbox)
    await click_message(leader, sandbox, message, APPROVE)
    await eventually(lambda: sandbox.ephemerals(user=LEADER))
    [stored] = await nudges_of(sessions, program.leader.id or 0)
    assert stored.status == NudgeStatus.draft
