"""Broadcasts in Slack against the Slack stand-in: an owner composes with `/coach
broadcast`, bad input is answered inline, the outbox delivers one message per leader, a
leader answers through the Answer button and the message shows their answer."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import broadcast as blocks
from bot.blocks import validate_message
from bot.runtime import all_renderers
from bot.sandbox import SlackSandbox
from services.broadcasts.models import Broadcast, BroadcastAnswer, BroadcastStatus
from services.db import utcnow
from services.people.models import Cohort, EnrollmentRole, Member
from tests.broadcasts.world import outbox, recipients
from tests.delivery.world import make_messenger, run_until_quiet, worker
from tests.factories.people import enrol, make_cohort, make_workspace
from tests.slack.conftest import COACH, LEADER, STRANGER, TEAM, SlackUser, eventually, text_input

OWNER = COACH  # the stand-in's second user plays the program owner here


@pytest.fixture
async def cohort(session: AsyncSession, web: FastAPI, sandbox: SlackSandbox) -> Cohort:
    workspace = await make_workspace(session, team_id=TEAM)
    cohort = await make_cohort(session, workspace, timezone="America/New_York")
    cohort.name = "Leadership Lab"
    people = {OWNER: "Olivia Owner", LEADER: "Lee Leader", STRANGER: "Sam Second"}
    for user_id, name in people.items():
        member = Member(workspace_id=workspace.id or 0, slack_user_id=user_id, name=name,
                        timezone="America/New_York")
        session.add(member)
        await session.flush()
        role = EnrollmentRole.owner if user_id == OWNER else EnrollmentRole.leader
        await enrol(session, cohort, member, role)
    await session.commit()
    return cohort


@pytest.fixture
def owner(http: httpx.AsyncClient, sandbox: SlackSandbox) -> SlackUser:
    return SlackUser(http, sandbox, OWNER)


def compose_values(cohort: Cohort, *, text: str = "Offsite on <Friday> & lunch @channel",
                   question: str | None = "Will you come?", day: str | None = None,
                   at: str | None = None) -> dict[str, Any]:
    return {
        blocks.COHORT_BLOCK: {"type": "static_select",
                              "selected_option": {"value": str(cohort.id)}},
        blocks.AUDIENCE_BLOCK: {"type": "radio_buttons",
                                "selected_option": {"value": "leaders"}},
        blocks.TEXT_BLOCK: text_input(text),
        blocks.QUESTION_BLOCK: text_input(question) if question else text_input(None),
        blocks.DATE_BLOCK: {"type": "datepicker", "selected_date": day},
        blocks.TIME_BLOCK: {"type": "timepicker", "selected_time": at},
    }


async def open_compose(owner: SlackUser, sandbox: SlackSandbox) -> dict[str, Any]:
    response = await owner.command("broadcast")
    assert response.status_code == 200
    opened = await eventually(lambda: sandbox.calls("views.open"))
    view: dict[str, Any] = opened[-1].args["view"]
    assert view["callback_id"] == blocks.COMPOSE_MODAL
    return view


async def deliver(sessions: async_sessionmaker[AsyncSession], sandbox: SlackSandbox) -> None:
    async with aiohttp.ClientSession() as http:
        messenger = make_messenger(sandbox, http, sessions, renderers=all_renderers())
        await run_until_quiet(sessions, worker(sessions, messenger))


async def test_compose_deliver_and_answer(
    cohort: Cohort, owner: SlackUser, leader: SlackUser, sandbox: SlackSandbox,
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession,
) -> None:
    view = await open_compose(owner, sandbox)
    response = await owner.submit(view, compose_values(cohort))
    assert response.status_code == 200 and not response.content
    broadcast = await eventually(lambda: sandbox.messages(OWNER))
    assert "Sending to 2 people in Leadership Lab" in broadcast[-1]["text"]
    [sent] = (await session.exec(select(Broadcast))).all()
    assert sent.status == BroadcastStatus.sending and sent.recipients == 2
    assert len(recipients(await outbox(sessions, sent.id))) == 2

    await deliver(sessions, sandbox)
    message = sandbox.messages(LEADER)[-1]
    validate_message(message)
    shown = str(message["blocks"])
    # Owner-written text is escaped: no @channel, no link.
    assert "Offsite on &lt;Friday&gt; &amp; lunch @channel" in shown
    assert "Will you come?" in shown and "From Olivia Owner to Leadership Lab" in shown

    channel = sandbox.dm_channel(LEADER)
    button = {"action_id": blocks.ANSWER, "block_id": "b", "type": "button",
              "value": str(sent.id), "action_ts": f"{time.time():.6f}"}
    sandbox.clear_calls()
    await leader.interact({"type": "block_actions", "actions": [button],
                           "container": {"type": "message", "channel_id": channel,
                                         "message_ts": message["ts"]},
                           "channel": {"id": channel}, "message": message})
    opened = await eventually(lambda: sandbox.calls("views.open"))
    modal = opened[-1].args["view"]
    assert modal["callback_id"] == blocks.ANSWER_MODAL
    blank = await leader.submit(modal, {blocks.ANSWER_BLOCK: text_input("   ")})
    assert blank.json()["response_action"] == "errors"
    done = await leader.submit(modal, {blocks.ANSWER_BLOCK: text_input("Yes, gladly")})
    assert done.status_code == 200 and not done.content
    updated = await eventually(lambda: sandbox.calls("chat.update"))
    assert "Your answer: Yes, gladly" in str(updated[-1].args["blocks"])
    session.expunge_all()
    answers = (await session.exec(select(BroadcastAnswer))).all()
    assert [(a.broadcast_id, a.answer) for a in answers] == [(sent.id, "Yes, gladly")]


async def test_a_scheduled_broadcast_uses_the_cohorts_timezone(
    cohort: Cohort, owner: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    view = await open_compose(owner, sandbox)
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    response = await owner.submit(view, compose_values(cohort, day=tomorrow, at="09:30"))
    assert response.status_code == 200 and not response.content
    notice = await eventually(lambda: sandbox.messages(OWNER))
    assert f"Scheduled for {tomorrow} 09:30 America/New_York" in notice[-1]["text"]
    [scheduled] = (await session.exec(select(Broadcast))).all()
    assert scheduled.status == BroadcastStatus.scheduled
    local = scheduled.send_at.astimezone(ZoneInfo("America/New_York"))
    assert (local.date().isoformat(), local.strftime("%H:%M")) == (tomorrow, "09:30")


@pytest.mark.parametrize(("change", "block", "says"), [
    ({"day": "2020-01-01", "at": "09:00"}, blocks.DATE_BLOCK, "in the past"),
    ({"day": "2099-01-01"}, blocks.TIME_BLOCK, "Pick a time too"),
    ({"at": "09:00"}, blocks.DATE_BLOCK, "Pick a day too"),
    ({"text": "   "}, blocks.TEXT_BLOCK, "blank"),
])
async def test_bad_input_is_shown_inline_and_nothing_is_saved(
    cohort: Cohort, owner: SlackUser, sandbox: SlackSandbox, session: AsyncSession,
    change: dict[str, str], block: str, says: str,
) -> None:
    view = await open_compose(owner, sandbox)
    response = await owner.submit(view, compose_values(cohort, **change))
    body = response.json()
    assert body["response_action"] == "errors"
    assert says in body["errors"][block]
    assert (await session.exec(select(Broadcast))).all() == []


async def test_only_owners_can_compose(
    cohort: Cohort, leader: SlackUser, sandbox: SlackSandbox
) -> None:
    await leader.command("broadcast")
    replies = await eventually(lambda: sandbox.responses())
    assert "program owners" in replies[-1]["text"]
    assert sandbox.calls("views.open") == []
