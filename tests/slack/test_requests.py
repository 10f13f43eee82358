"""Slack's requests against the real app: signatures, retries, url_verification, errors."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox import SlackSandbox
from bot.slack_signing import sign_request
from services.db import utcnow
from services.people.models import Member
from tests.slack.conftest import LEADER, SECRET, SlackUser, eventually


async def test_url_verification_is_answered(http: httpx.AsyncClient) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"})
    signed = sign_request(signing_secret=SECRET, body=body, content_type="application/json")
    response = await http.post("/slack/events", content=signed.body, headers=signed.headers)
    assert response.status_code == 200
    assert response.json() == {"challenge": "c-123"}


async def test_forged_signature_is_401(http: httpx.AsyncClient, sandbox: SlackSandbox) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c"})
    signed = sign_request(
        signing_secret="not-the-secret", body=body, content_type="application/json"
    )
    response = await http.post("/slack/events", content=signed.body, headers=signed.headers)
    assert response.status_code == 401
    assert sandbox.calls() == []


async def test_timestamp_over_five_minutes_old_is_401(
    leader: SlackUser, sandbox: SlackSandbox
) -> None:
    stale = int(time.time()) - 301
    response = await leader.post(
        json.dumps({"type": "url_verification", "challenge": "c"}),
        "application/json",
        timestamp=stale,
    )
    assert response.status_code == 401
    fresh = await leader.post(
        json.dumps({"type": "url_verification", "challenge": "c"}),
        "application/json",
        timestamp=int(time.time()) - 200,
    )
    assert fresh.status_code == 200


async def test_first_contact_creates_the_member_from_users_info(
    leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    assert (await leader.open_home()).status_code == 200
    await eventually(lambda: sandbox.home_view(LEADER))
    member = (await session.exec(select(Member).where(Member.slack_user_id == LEADER))).one()
    assert (member.name, member.title, member.timezone) == (
        "Lee Leader",
        "Team lead",
        "America/New_York",
    )
    # A second contact does not look the profile up again.
    await leader.open_home()
    await eventually(lambda: len(sandbox.calls("views.publish")) == 2)
    assert len(sandbox.calls("users.info")) == 1


async def test_a_member_erased_after_being_cached_gets_nothing_stored_against_them(
    leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    await leader.open_home()
    await eventually(lambda: sandbox.home_view(LEADER))
    member = (await session.exec(select(Member).where(Member.slack_user_id == LEADER))).one()
    member.sqlmodel_update(
        {"slack_user_id": f"ERASED{member.id}", "erased_at": utcnow(), "updated_at": utcnow()}
    )
    session.add(member)
    await session.commit()

    await leader.open_home()  # acked from the cache; the work finds the row erased and stops
    ephemeral = await eventually(lambda: sandbox.calls("chat.postEphemeral"))
    assert "profile changed" in ephemeral[0].args["text"]
    assert len(sandbox.calls("views.publish")) == 1

    await leader.open_home()  # read afresh: a new member, from users.info
    await eventually(lambda: len(sandbox.calls("views.publish")) == 2)
    assert len(sandbox.calls("users.info")) == 2
    rows = (await session.exec(select(Member.slack_user_id).order_by(Member.id))).all()
    assert rows == [f"ERASED{member.id}", LEADER]


async def test_a_retried_event_is_handled_once(leader: SlackUser, sandbox: SlackSandbox) -> None:
    for retry in range(3):
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        response = await leader.open_home(event_id="EvSAME00001", headers=headers)
        assert response.status_code == 200
    await eventually(lambda: sandbox.calls("views.publish"))
    await leader.command("help")  # later traffic flows, so the count below is settled
    assert len(sandbox.calls("views.publish")) == 1


async def test_copies_arriving_together_are_handled_once(
    leader: SlackUser, sandbox: SlackSandbox
) -> None:
    await leader.command("help")  # the member is known, so the copies race only on the work
    retries = [
        {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        for retry in range(3)
    ]
    responses = await asyncio.gather(
        *(leader.open_home(event_id="EvSAME00002", headers=headers) for headers in retries)
    )
    assert [response.status_code for response in responses] == [200, 200, 200]
    await eventually(lambda: sandbox.calls("views.publish"))
    await leader.command("help")
    assert len(sandbox.calls("views.publish")) == 1
    assert not sandbox.calls("chat.postEphemeral")  # a repeat is dropped quietly


async def test_not_enrolled_person_gets_a_welcome(
    stranger: SlackUser, sandbox: SlackSandbox
) -> None:
    await stranger.open_home()
    view = await eventually(lambda: sandbox.home_view("U0STRANGE1"))
    text = json.dumps(view)
    assert "not enrolled in a program yet" in text
    assert "program owner" in text
