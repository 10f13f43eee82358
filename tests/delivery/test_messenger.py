"""The messenger against the sandbox over HTTP: what Slack receives, errors, 429s and
reconciliation of sends caught midway."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import JSON
from bot.messenger import EVENT_TYPE, Deferred, Failed, SlackMessenger
from bot.render import RenderRequest, default_renderers
from bot.sandbox import Fault, SlackSandbox
from services.db import transaction, utcnow
from services.delivery import service
from services.delivery.models import Delivery, DeliveryState
from tests.delivery.world import (
    World,
    enqueue_texts,
    make_messenger,
    posted_keys,
    rows,
    run_until_quiet,
    worker,
)


async def claim_one(sessions: async_sessionmaker[AsyncSession], **when: timedelta) -> Delivery:
    now = utcnow() + when.get("now", timedelta())
    async with transaction(sessions) as session:
        (row,) = await service.claim_due(session=session, now=now, limit=1, worker_id="w",
                                         stale_after=timedelta(minutes=5))
    return row


async def test_a_dm_and_a_channel_message_arrive_with_the_key_in_metadata(
    sessions: async_sessionmaker[AsyncSession], world: World, sandbox: SlackSandbox,
    messenger: SlackMessenger,
) -> None:
    leader = world.members[0]
    async with transaction(sessions) as session:
        await service.enqueue(session=session, workspace_id=world.workspace_id,
                              delivery_key="dm:1", kind="text", member_id=leader.id,
                              intent={"kind": "text", "text": "Time for your check-in"})
        await service.enqueue(session=session, workspace_id=world.workspace_id,
                              delivery_key="coaches:1", kind="broadcast", channel="C0COACHES",
                              intent={"kind": "broadcast", "title": "Week 1",
                                      "text": "Circles are formed.", "sender": "Program team"})
    await run_until_quiet(sessions, worker(sessions, messenger))

    (dm,) = sandbox.messages(leader.slack_user_id)
    assert dm["text"] == "Time for your check-in"
    assert dm["blocks"][0]["text"]["text"] == "Time for your check-in"
    assert dm["metadata"] == {"event_type": EVENT_TYPE,
                              "event_payload": {"delivery_key": "dm:1"}}
    (post,) = [call for call in sandbox.calls("chat.postMessage")
               if call.args["channel"] == leader.slack_user_id]
    assert post.args["unfurl_links"] is False
    (announcement,) = sandbox.messages("C0COACHES")
    assert announcement["metadata"]["event_payload"] == {"delivery_key": "coaches:1"}
    assert [b["type"] for b in announcement["blocks"]] == ["header", "section", "context"]

    found = await rows(sessions)
    assert found["dm:1"].state == DeliveryState.sent
    assert (found["dm:1"].slack_channel, found["dm:1"].slack_ts) == (
        sandbox.dm_channel(leader.slack_user_id), dm["ts"])
    assert (found["coaches:1"].slack_channel, found["coaches:1"].slack_ts) == (
        "C0COACHES", announcement["ts"])
    assert found["dm:1"].attempts == 0 and found["dm:1"].sent_at is not None
    # Nothing was sent twice, and nothing needed looking up first.
    assert len(sandbox.calls("chat.postMessage")) == 2
    assert sandbox.calls("conversations.history") == []


async def test_permanent_slack_errors_and_unrenderable_intents_are_dead_at_once(
    sessions: async_sessionmaker[AsyncSession], world: World, sandbox: SlackSandbox,
    http: aiohttp.ClientSession,
) -> None:
    async def broken(request: RenderRequest) -> JSON:
        return {"text": "hi", "blocks": [{"type": "section"}]}

    renderers = default_renderers()
    renderers.register_renderer("broken", broken)
    messenger = make_messenger(sandbox, http, sessions, renderers=renderers)
    async with transaction(sessions) as session:
        for key, kind, channel in (("archived", "text", "C0COACHES"),
                                   ("gone", "text", "C0NOWHERE"),
                                   ("broken", "broken", "C0COACHES")):
            await service.enqueue(session=session, workspace_id=world.workspace_id,
                                  delivery_key=key, kind=kind, channel=channel,
                                  intent={"kind": kind, "text": "hi"})
    # One at a time, so the scripted error meets the first row.
    sandbox.faults.script("chat.postMessage", Fault.slack_error("is_archived"))
    await run_until_quiet(sessions, worker(sessions, messenger, concurrency=1))

    found = await rows(sessions)
    assert {key: (row.state, row.attempts) for key, row in found.items()} == {
        key: (DeliveryState.dead, 1) for key in ("gone", "archived", "broken")}
    assert found["gone"].last_error == "channel_not_found"
    assert found["archived"].last_error == "is_archived"
    assert (found["broken"].last_error or "").startswith("render_failed: invalid message")
    assert len(sandbox.calls("chat.postMessage")) == 2


async def test_a_429_holds_the_whole_workspace_and_costs_no_attempt(
    sessions: async_sessionmaker[AsyncSession], world: World, sandbox: SlackSandbox,
    http: aiohttp.ClientSession,
) -> None:
    # Sends 100 ms apart, so each 429 is answered before the next send is due.
    messenger = make_messenger(sandbox, http, sessions, rate=10, burst=1)
    keys = await enqueue_texts(sessions, world, count=6)
    sandbox.faults.script("chat.postMessage", Fault.ratelimited(retry_after=1),
                          Fault.ratelimited(retry_after=1))
    await run_until_quiet(sessions, worker(sessions, messenger))

    calls = sandbox.calls("chat.postMessage")
    refusals = [call for call in calls if call.status == 429]
    assert len(refusals) == 2
    # Nothing went out for a second after the first 429, for any channel. (After the
    # pause the waiting sends go together, so the second 429 can meet some in flight.)
    later = [call for call in calls if call.at > refusals[0].at]
    assert min(call.at for call in later) >= refusals[0].at + 0.95
    assert posted_keys(sandbox) == dict.fromkeys(keys, 1)
    assert {row.attempts for row in (await rows(sessions)).values()} == {0}


async def test_a_timed_out_post_that_landed_is_found_not_sent_again(
    sessions: async_sessionmaker[AsyncSession], world: World, sandbox: SlackSandbox,
    http: aiohttp.ClientSession,
) -> None:
    messenger = make_messenger(sandbox, http, sessions, call_timeout=0.3)
    (key,) = await enqueue_texts(sessions, world, count=1)
    # Slack takes 0.45 s: the client gives up at 0.3 s, and the message lands regardless.
    # The retry waits as long again (0.3 s) before it looks, however short the backoff.
    sandbox.faults.script("chat.postMessage", Fault.latency(0.45))
    await run_until_quiet(sessions, worker(sessions, messenger))

    user = world.members[0].slack_user_id
    (message,) = sandbox.messages(user)
    row = (await rows(sessions))[key]
    assert (row.state, row.attempts, row.slack_ts) == (DeliveryState.sent, 1, message["ts"])
    assert row.slack_channel == sandbox.dm_channel(user)
    assert len(sandbox.calls("chat.postMessage")) == 1
    assert [c.args["channel"] for c in sandbox.calls("conversations.history")] == [
        sandbox.dm_channel(user)]


@pytest.mark.parametrize("landed", [True, False], ids=["post-landed", "post-never-made"])
async def test_a_row_left_sending_by_a_crashed_worker_is_reconciled(
    sessions: async_sessionmaker[AsyncSession], world: World, sandbox: SlackSandbox,
    http: aiohttp.ClientSession, landed: bool,
) -> None:
    (key,) = await enqueue_texts(sessions, world, count=1, ago=timedelta(minutes=10))
    user = world.members[0].slack_user_id
    crashed = await claim_one(sessions, now=timedelta(minutes=-6))
    if landed:
        # The crashed worker's post reached Slack; its process died before recording it.
        first = make_messenger(sandbox, http, sessions)
        await first.deliver(crashed, user_id=user)
    # A new process: nothing in memory, only the row and what Slack holds.
    restarted = make_messenger(sandbox, http, sessions)
    await run_until_quiet(sessions, worker(sessions, restarted))

    (message,) = sandbox.messages(user)
    row = (await rows(sessions))[key]
    assert (row.state, row.attempts, row.slack_ts) == (DeliveryState.sent, 1, message["ts"])
    assert len(sandbox.calls("chat.postMessage")) == 1
    assert len(sandbox.calls("conversations.open")) == 1
    assert len(sandbox.calls("conversations.history")) == 1


async def test_a_refused_token_holds_everything_and_spends_no_attempt(
    sessions: async_sessionmaker[AsyncSession], world: World, sandbox: SlackSandbox,
    messenger: SlackMessenger,
) -> None:
    await enqueue_texts(sessions, world, count=1)
    row = await claim_one(sessions)
    sandbox.faults.script("chat.postMessage", Fault.slack_error("invalid_auth"))
    outcome = await messenger.deliver(row, user_id=world.members[0].slack_user_id)
    assert outcome == Deferred("invalid_auth", 60.0)
    assert messenger.pacer.pause.remaining() > 55


async def test_nothing_is_posted_once_the_claim_has_run_out(
    sessions: async_sessionmaker[AsyncSession], world: World, sandbox: SlackSandbox,
    messenger: SlackMessenger,
) -> None:
    await enqueue_texts(sessions, world, count=1)
    row = await claim_one(sessions)
    outcome = await messenger.deliver(row, user_id=world.members[0].slack_user_id, budget=0.0)
    assert isinstance(outcome, Deferred)
    assert sandbox.calls("chat.postMessage") == []


async def test_unknown_kinds_are_retried_and_missing_recipients_are_not(
    sessions: async_sessionmaker[AsyncSession], world: World, messenger: SlackMessenger,
) -> None:
    async with transaction(sessions) as session:
        await service.enqueue(session=session, workspace_id=world.workspace_id,
                              delivery_key="future", kind="circle_intro", channel="C0COACHES",
                              intent={"kind": "circle_intro", "circle_id": 7})
    row = await claim_one(sessions)
    assert await messenger.deliver(row) == Failed(
        "no renderer for intent kind 'circle_intro'", permanent=False)
    dm = row.model_copy(update={"member_id": world.members[0].id, "channel": None})
    outcome = await messenger.deliver(dm, user_id=None)
    assert isinstance(outcome, Failed) and outcome.permanent


async def test_a_client_that_retries_on_its_own_is_refused(
    sandbox: SlackSandbox, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client = AsyncWebClient(token=sandbox.token, base_url=sandbox.base_url)
    with pytest.raises(ValueError, match="no retry handlers"):
        SlackMessenger(client=client, renderers=default_renderers(), sessions=sessions)
