"""`serve` runs delivery in-process when asked (the default on SQLite): the outbox is sent."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.main import create_app
from bot.sandbox import SlackSandbox
from services.delivery.models import Delivery, DeliveryState
from services.delivery.service import enqueue
from tests.factories.people import make_member, make_workspace
from tests.slack.conftest import LEADER, TEAM, eventually, slack_settings


@pytest.fixture
async def serving(
    database_url: str, sandbox: SlackSandbox, sessions: object
) -> AsyncIterator[FastAPI]:
    settings = slack_settings(
        database_url, sandbox, COACHBOT_IN_PROCESS_WORKER=True, COACHBOT_SLACK_RATE_PER_SECOND=50
    )
    app = create_app(settings, console=None)
    async with app.router.lifespan_context(app):
        yield app


async def test_an_enqueued_message_reaches_slack_once(
    serving: FastAPI, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    workspace = await make_workspace(session, team_id=TEAM)
    member = await make_member(session, workspace, name="Lee")
    member.slack_user_id = LEADER
    for _ in range(2):  # enqueueing twice with one key sends once
        await enqueue(
            session=session,
            workspace_id=workspace.id or 0,
            delivery_key="welcome:lee",
            kind="text",
            intent={"kind": "text", "text": "Welcome to the <program> & more"},
            member_id=member.id,
        )
    await session.commit()
    serving.state.background.delivery.wake()
    await eventually(lambda: sandbox.messages(LEADER))
    delivery_id = (await session.exec(select(Delivery))).one().id

    async def sent() -> bool:
        session.expire_all()
        row = await session.get(Delivery, delivery_id)
        return row is not None and row.state == DeliveryState.sent

    for _ in range(100):
        if await sent():
            break
        await asyncio.sleep(0.05)
    messages = sandbox.messages(LEADER)
    assert len(messages) == 1
    assert "&lt;program&gt; &amp; more" in str(messages[0]["blocks"])
    assert messages[0]["metadata"]["event_payload"]["delivery_key"] == "welcome:lee"
    assert await sent()


async def test_serving_keeps_startup_objects_out_of_full_collections(
    serving: FastAPI,
) -> None:
    """Collecting the ~240,000 objects starting allocates stops the loop for ~200 ms."""
    assert gc.get_freeze_count() > 100_000


async def test_stopping_hands_the_startup_objects_back(
    database_url: str, sandbox: SlackSandbox, sessions: object
) -> None:
    app = create_app(slack_settings(database_url, sandbox), console=None)
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
