"""Signed test requests: accepted by Slack's own verifier and by a Bolt app on the sandbox."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from urllib.parse import parse_qs

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.async_app import AsyncAck, AsyncSay
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import SlackSandbox
from bot.slack_signing import (
    SignedRequest,
    event_body,
    form_body,
    interaction_body,
    sign_request,
    slack_signature,
)
from tests.bot.fakes import ADA

SECRET = "test-signing-secret"


def bolt_request(signed: SignedRequest) -> AsyncBoltRequest:
    headers: dict[str, str | Sequence[str]] = dict(signed.headers)
    return AsyncBoltRequest(body=signed.body.decode(), headers=headers)


def verifies(body: bytes, headers: dict[str, str]) -> bool:
    return SignatureVerifier(SECRET).is_valid_request(body, headers)


def test_a_signed_request_passes_slack_verification() -> None:
    signed = sign_request(signing_secret=SECRET, body=form_body({"command": "/coachbot"}))
    assert verifies(signed.body, signed.headers)
    assert signed.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_the_signature_matches_slacks_documented_example() -> None:
    # The worked example from Slack's "Verifying requests from Slack" guide.
    body = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
            b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
            b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com"
            b"%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
            b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
    assert slack_signature(signing_secret="8f742231b10e8888abcd99yyyzzz85a5", timestamp=1531420618,
                           body=body) == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")


def test_a_forged_old_timestamp_is_rejected() -> None:
    stale = int(time.time()) - 301
    signed = sign_request(signing_secret=SECRET, body="a=1", timestamp=stale)
    assert signed.headers["X-Slack-Request-Timestamp"] == str(stale)
    assert not verifies(signed.body, signed.headers)


def test_a_wrong_secret_or_changed_body_is_rejected() -> None:
    signed = sign_request(signing_secret="another-secret", body="a=1")
    assert not verifies(signed.body, signed.headers)
    genuine = sign_request(signing_secret=SECRET, body="a=1")
    assert not verifies(b"a=2", genuine.headers)


def test_bodies_look_like_slacks() -> None:
    assert parse_qs(form_body({"command": "/coachbot", "text": "plan"})) == {
        "command": ["/coachbot"], "text": ["plan"]}
    payload = parse_qs(interaction_body({"type": "block_actions"}))["payload"][0]
    assert json.loads(payload) == {"type": "block_actions"}
    signed = sign_request(signing_secret=SECRET, body=event_body({"type": "event_callback"}))
    assert signed.headers["Content-Type"] == "application/json"


async def test_a_bolt_app_on_the_sandbox_answers_a_signed_command(sandbox: SlackSandbox) -> None:
    client = AsyncWebClient(token=sandbox.token, base_url=sandbox.base_url)
    app = AsyncApp(client=client, signing_secret=SECRET)

    @app.command("/coachbot")
    async def plan(ack: AsyncAck, say: AsyncSay, command: dict[str, str]) -> None:
        await ack()
        await say(text=f"Your plan, <@{command['user_id']}>")

    channel = sandbox.dm_channel(ADA)
    body = form_body({"command": "/coachbot", "text": "plan", "user_id": ADA,
                      "team_id": sandbox.workspace.team_id, "channel_id": channel,
                      "trigger_id": "1.2.3", "response_url": "https://hooks.invalid/x"})
    signed = sign_request(signing_secret=SECRET, body=body)
    response = await app.async_dispatch(bolt_request(signed))
    assert response.status == 200
    assert sandbox.calls("auth.test"), "a token app checks its token first"
    # Bolt runs the rest of the listener after the ack: wait for its message.
    for _ in range(250):
        if sandbox.messages(channel):
            break
        await asyncio.sleep(0.02)
    assert [m["text"] for m in sandbox.messages(channel)] == [f"Your plan, <@{ADA}>"]

    forged = sign_request(signing_secret=SECRET, body=body, timestamp=int(time.time()) - 600)
    refused = await app.async_dispatch(bolt_request(forged))
    assert refused.status == 401
