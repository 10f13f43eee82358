"""Replies in a thread through the outbox: a reply waits for the message it replies to, goes
into that message's thread once it has a ts, survives Slack failures without being posted
twice, and never lands in someone else's conversation."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox import Fault, SlackSandbox
from services.db import transaction, utcnow
from services.delivery import service
from services.delivery.models import DeliveryState
from services.delivery.service import NewDelivery
from services.errors import Invalid
from tests.delivery.world import World, make_messenger, posted_keys, rows, run_until_quiet, worker

Sessions = async_sessionmaker[AsyncSession]


def text(world: World, key: str, *, member: int = 0, thread_key: str | None = None,
         channel: str | None = None) -> NewDelivery:
    return NewDelivery(workspace_id=world.workspace_id, delivery_key=key, kind="text",
                       intent={"kind": "text", "text": f"Message {key}"},
                       member_id=None if channel else world.members[member].id,
                       channel=channel, thread_key=thread_key)


async def enqueue(sessions: Sessions, *deliveries: NewDelivery) -> None:
    async with transaction(sessions) as session:
        await service.enqueue_many(session=session, deliveries=list(deliveries))


async def claimed_keys(sessions: Sessions) -> list[str]:
    async with transaction(sessions) as session:
        claimed = await service.claim_due(session=session, now=utcnow(), limit=10,
                                          worker_id="w", stale_after=timedelta(minutes=5))
    return [row.delivery_key for row in claimed]


async def test_a_reply_is_claimed_only_once_its_parent_is_settled(
    sessions: Sessions, world: World
) -> None:
    # The reply is queued first, and due first: it still waits for its parent.
    await enqueue(sessions, text(world, "reply", thread_key="parent"))
    await enqueue(sessions, text(world, "parent"))
    assert await claimed_keys(sessions) == ["parent"]
    assert await claimed_keys(sessions) == []  # the parent is being sent
    async with transaction(sessions) as session:
        (parent,) = [row for row in (await rows(sessions)).values()
                     if row.delivery_key == "parent"]
        await service.mark_sent(session=session, delivery=parent, channel="D1", ts="1.000001",
                                now=utcnow())
    assert await claimed_keys(sessions) == ["reply"]


async def test_a_delivery_cannot_reply_to_itself(sessions: Sessions, world: World) -> None:
    with pytest.raises(Invalid, match="thread_key"):
        await enqueue(sessions, text(world, "loop", thread_key="loop"))


async def test_replies_go_into_the_parents_thread_once_each_despite_500s_and_429s(
    sessions: Sessions, world: World, sandbox: SlackSandbox, http: aiohttp.ClientSession
) -> None:
    messenger = make_messenger(sandbox, http, sessions)
    await enqueue(sessions, text(world, "parent"),
                  *(text(world, f"reply:{n}", thread_key="parent") for n in range(3)))
    # The parent fails once and then goes; then each reply meets a 429, a 500 or a 503.
    sandbox.faults.script("chat.postMessage", Fault.http_error(500), Fault.latency(0.0),
                          Fault.ratelimited(1), Fault.http_error(500), Fault.http_error(503))
    await run_until_quiet(sessions, worker(sessions, messenger))
    assert sandbox.faults.pending("chat.postMessage") == 0

    user = world.members[0].slack_user_id
    parent, *replies = sandbox.messages(user)
    assert [m.get("thread_ts") for m in replies] == [parent["ts"]] * 3
    assert posted_keys(sandbox) == dict.fromkeys(["parent", "reply:0", "reply:1", "reply:2"], 1)
    found = await rows(sessions)
    assert {row.state for row in found.values()} == {DeliveryState.sent}
    assert found["parent"].slack_ts == parent["ts"]
    # No reply was tried before the parent was posted, and the two replies that failed
    # were looked for in the thread before they were posted again.
    posts = sandbox.calls("chat.postMessage")
    first_ok = next(index for index, call in enumerate(posts) if call.ok)
    assert all("thread_ts" not in call.args for call in posts[:first_ok + 1])
    assert [c.args["ts"] for c in sandbox.calls("conversations.replies")] == [parent["ts"]] * 2
    assert found["parent"].attempts == 1
    assert sorted(row.attempts for row in found.values()) == [0, 1, 1, 1]


async def test_a_reply_that_landed_unseen_is_found_in_its_thread_not_posted_again(
    sessions: Sessions, world: World, sandbox: SlackSandbox, http: aiohttp.ClientSession
) -> None:
    messenger = make_messenger(sandbox, http, sessions, call_timeout=0.3)
    await enqueue(sessions, text(world, "parent"), text(world, "reply", thread_key="parent"))
    # The parent goes out normally; the reply's post lands after the client gave up on it.
    sandbox.faults.script("chat.postMessage", Fault.latency(0.0), Fault.latency(0.45))
    await run_until_quiet(sessions, worker(sessions, messenger))

    parent, reply = sandbox.messages(world.members[0].slack_user_id)
    assert reply["thread_ts"] == parent["ts"]
    row = (await rows(sessions))["reply"]
    assert (row.state, row.attempts, row.slack_ts) == (DeliveryState.sent, 1, reply["ts"])
    assert len(sandbox.calls("chat.postMessage")) == 2
    (lookup,) = sandbox.calls("conversations.replies")
    assert lookup.args["ts"] == parent["ts"]
    assert sandbox.calls("conversations.history") == []


async def test_a_reply_to_a_message_never_sent_or_sent_elsewhere_is_dead(
    sessions: Sessions, world: World, sandbox: SlackSandbox, http: aiohttp.ClientSession
) -> None:
    messenger = make_messenger(sandbox, http, sessions)
    await enqueue(sessions, text(world, "theirs", member=1),
                  text(world, "into-theirs", thread_key="theirs"),
                  text(world, "to-channel", channel="C0COACHES"),
                  text(world, "dm-under-channel", thread_key="to-channel"),
                  text(world, "nowhere", channel="C0NOWHERE"),
                  text(world, "under-nowhere", channel="C0NOWHERE", thread_key="nowhere"),
                  text(world, "orphan", thread_key="never-queued"))
    await run_until_quiet(sessions, worker(sessions, messenger))

    found = await rows(sessions)
    assert {key for key, row in found.items() if row.state == DeliveryState.sent} == {
        "theirs", "to-channel"}
    assert found["nowhere"].last_error == "channel_not_found"
    for key in ("into-theirs", "dm-under-channel", "under-nowhere", "orphan"):
        assert (found[key].state, found[key].last_error) == (
            DeliveryState.dead, "render_failed: the message this replies to was never sent")
    assert set(posted_keys(sandbox)) == {"theirs", "to-channel"}
