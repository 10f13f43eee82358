"""Answered check-ins reach each coach's review thread through the outbox, whether answered
in Slack or through the REST API; a post survives Slack failures and is sent once, in its
thread; answers kept private never reach a coach; nothing goes once the coaching has ended;
and relayed replies are queued once each, even when Slack sends an event again."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox import Fault, SlackSandbox
from services.checkins.relays import RELAY_KIND, relay_reply
from services.checkins.reviews import POST_KIND, thread_key
from services.db import transaction
from services.delivery.models import Delivery, DeliveryState
from services.people.models import CoachAssignment, Member
from tests.checkins.slack_world import deliver
from tests.checkins.world import CheckinWorld, build_checkin_world
from tests.delivery.world import posted_keys, rows
from tests.factories.people import assign

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def world(session: AsyncSession) -> CheckinWorld:
    return await build_checkin_world(session)


@pytest.fixture
async def slack() -> AsyncIterator[SlackSandbox]:
    """Slack's Web API on localhost; the world's people are made up on first contact."""
    async with SlackSandbox(auto_users=True, rate_limits=None) as sandbox:
        yield sandbox


def answers(world: CheckinWorld, **extra: Any) -> dict[str, Any]:
    return {"answers": [
        {"question_id": "week", "number": 4},
        {"question_id": "learned", "text": "Said no to a meeting"},
        {"question_id": "progress", "milestone_id": world.shared_milestone.id,
         "text": "Drafted the plan", "number": 3},
        {"question_id": "progress", "milestone_id": world.private_milestone.id,
         "text": "Salary numbers ready"},
    ], **extra}


async def answer_through_api(world: CheckinWorld, client: httpx.AsyncClient,
                             **extra: Any) -> None:
    response = await client.post(f"/api/v1/checkins/{world.checkin.id}/answers",
                                 json=answers(world, **extra), headers=world.keys["leader"])
    assert response.status_code == 201, response.text


def coach_thread(slack: SlackSandbox, coach: Member) -> tuple[dict[str, Any], dict[str, Any]]:
    """The coach's DM: exactly one parent message and one answered check-in under it."""
    parent, posted = slack.messages(coach.slack_user_id)
    assert posted["thread_ts"] == parent["ts"]
    assert "Check-ins from Lee Leader" in parent["text"]
    return parent, posted


async def test_answers_given_through_the_api_reach_the_coach_thread(
    world: CheckinWorld, client: httpx.AsyncClient, sessions: Sessions, slack: SlackSandbox
) -> None:
    await answer_through_api(world, client)
    await deliver(sessions, slack)

    _, posted = coach_thread(slack, world.coach)
    review = json.dumps(posted)
    assert "Said no to a meeting" in review and "Drafted the plan" in review
    assert "4/5" in review and "confidence 3/5" in review
    # The milestone of a private goal stays with the leader, here and everywhere else.
    assert "1 answer kept private by Lee Leader" in review
    assert "Salary" not in json.dumps([c.args for c in slack.calls()])
    # The outbox holds ids, not answers.
    assert "Salary" not in json.dumps([row.intent for row in (await rows(sessions)).values()])


async def test_answers_marked_private_never_reach_the_coach(
    world: CheckinWorld, client: httpx.AsyncClient, sessions: Sessions, slack: SlackSandbox
) -> None:
    await answer_through_api(world, client, private=True)
    await deliver(sessions, slack)

    _, posted = coach_thread(slack, world.coach)
    assert "4 answers kept private by Lee Leader" in json.dumps(posted)
    sent = json.dumps([c.args for c in slack.calls()])
    for said in ("Said no", "Drafted", "Salary", "4/5"):
        assert said not in sent


async def test_a_post_to_the_coach_survives_slack_failures_and_is_sent_once_in_its_thread(
    world: CheckinWorld, client: httpx.AsyncClient, sessions: Sessions, slack: SlackSandbox
) -> None:
    await answer_through_api(world, client)
    # The parent meets a 500, then a 429; the answered check-in's post then lands in Slack
    # after the client has given up waiting for it.
    slack.faults.script("chat.postMessage", Fault.http_error(500), Fault.ratelimited(1),
                        Fault.latency(0.0), Fault.latency(0.6))
    await deliver(sessions, slack, call_timeout=0.3)
    assert slack.faults.pending("chat.postMessage") == 0

    parent, posted = coach_thread(slack, world.coach)
    found = await rows(sessions)
    sent = {key: row for key, row in found.items() if key.startswith("review:")}
    assert {row.state for row in sent.values()} == {DeliveryState.sent}
    assert posted_keys(slack) == dict.fromkeys(sent, 1)
    (post,) = [row for row in sent.values() if row.kind == POST_KIND]
    assert (post.slack_ts, post.attempts) == (posted["ts"], 1)
    (lookup,) = slack.calls("conversations.replies")
    assert lookup.args["ts"] == parent["ts"]


async def test_nothing_goes_to_a_coach_whose_coaching_ended_before_it_was_sent(
    world: CheckinWorld, client: httpx.AsyncClient, session: AsyncSession, sessions: Sessions,
    slack: SlackSandbox,
) -> None:
    second = await _second_coach(session, world)
    await answer_through_api(world, client)
    async with transaction(sessions) as fresh:
        await fresh.exec(delete(CoachAssignment).where(
            col(CoachAssignment.coach_id) == world.coach.id))
    await deliver(sessions, slack)

    assert slack.messages(world.coach.slack_user_id) == []
    coach_thread(slack, second)
    ended = [row for row in (await rows(sessions)).values()
             if row.member_id == world.coach.id]
    assert len(ended) == 2
    for row in ended:
        assert row.state == DeliveryState.dead
        assert "has ended" in (row.last_error or "")


async def _second_coach(session: AsyncSession, world: CheckinWorld) -> Member:
    workspace_id = world.cohort.workspace_id
    coach = Member(workspace_id=workspace_id, slack_user_id="U0SECOND01", name="Sasha Second")
    session.add(coach)
    await session.flush()
    await assign(session, world.cohort, coach, world.leader)
    await session.commit()
    return coach


async def test_replies_are_relayed_once_each_and_not_after_the_coaching_ended(
    world: CheckinWorld, client: httpx.AsyncClient, session: AsyncSession, sessions: Sessions,
    slack: SlackSandbox,
) -> None:
    await answer_through_api(world, client)
    await deliver(sessions, slack)
    parent, _ = coach_thread(slack, world.coach)
    coach_dm = slack.dm_channel(world.coach.slack_user_id)

    async def relay(author: Member, channel: str, thread_ts: str, ts: str) -> bool:
        async with transaction(sessions) as fresh:
            return await relay_reply(session=fresh, author=author, channel=channel,
                                     thread_ts=thread_ts, ts=ts, text=f"message {ts}")

    # Slack sends the coach's first reply twice: it starts Lee's thread once.
    assert await relay(world.coach, coach_dm, parent["ts"], "10.000001")
    assert await relay(world.coach, coach_dm, parent["ts"], "10.000001")
    assert await relay(world.coach, coach_dm, parent["ts"], "10.000002")
    assert await relay(world.coach, coach_dm, parent["ts"], "10.000002")
    # Not a review thread (the answered check-in's own ts), or not the author's.
    assert not await relay(world.coach, coach_dm, "1.000000", "10.000003")
    assert not await relay(world.leader, coach_dm, parent["ts"], "10.000004")
    await deliver(sessions, slack)

    opener, second = slack.messages(world.leader.slack_user_id)
    assert second["thread_ts"] == opener["ts"] and "message 10.000002" in second["text"]
    assert "Reply in this thread" in json.dumps(opener["blocks"])
    leader_dm = slack.dm_channel(world.leader.slack_user_id)
    assert await relay(world.leader, leader_dm, opener["ts"], "11.000001")
    await deliver(sessions, slack)
    (back,) = [m for m in slack.thread(coach_dm, parent["ts"]) if "11.000001" in m["text"]]
    assert "Lee Leader" in back["text"]

    await session.exec(delete(CoachAssignment))
    await session.commit()
    assert not await relay(world.leader, leader_dm, opener["ts"], "11.000002")
    assert not await relay(world.coach, coach_dm, parent["ts"], "10.000005")
    # In the order they were queued (PostgreSQL returns unordered rows as it finds them).
    relays = (await session.exec(
        select(Delivery).where(Delivery.kind == RELAY_KIND).order_by(col(Delivery.id)))).all()
    assert len(relays) == 3
    assert thread_key(relays[0].intent["thread_id"], "leader") == relays[0].delivery_key


async def test_a_members_relayed_replies_are_in_their_export_and_blanked_by_erasure(
    world: CheckinWorld, client: httpx.AsyncClient, sessions: Sessions, slack: SlackSandbox,
) -> None:
    from services.checkins.privacy import erase_checkin_data, export_checkin_data

    await answer_through_api(world, client)
    await deliver(sessions, slack)
    parent, _ = coach_thread(slack, world.coach)
    coach_dm = slack.dm_channel(world.coach.slack_user_id)
    async with transaction(sessions) as fresh:
        assert await relay_reply(session=fresh, author=world.coach, channel=coach_dm,
                                 thread_ts=parent["ts"], ts="20.000001", text="How did it go?")
    await deliver(sessions, slack)
    (opener,) = slack.messages(world.leader.slack_user_id)
    leader_dm = slack.dm_channel(world.leader.slack_user_id)
    async with transaction(sessions) as fresh:
        assert await relay_reply(session=fresh, author=world.leader, channel=leader_dm,
                                 thread_ts=opener["ts"], ts="21.000001", text="Nervous, honestly")

    leader_id = world.leader.id or 0
    async with transaction(sessions) as fresh:
        exported = await export_checkin_data(session=fresh, member_id=leader_id)
        assert [r["text"] for r in exported["review_replies_written"]] == ["Nervous, honestly"]
        erased = await erase_checkin_data(session=fresh, member_id=leader_id)
    assert erased["review_replies"] == 1
    texts = sorted(str(row.intent.get("text")) for row in (await rows(sessions)).values()
                   if row.kind == RELAY_KIND)
    # The coach's words stay (they are the coach's); the leader's are gone.
    assert texts == ["How did it go?", "[erased]"]
