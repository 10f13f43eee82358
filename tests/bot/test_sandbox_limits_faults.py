"""The sandbox's Slack-like rate limits and its injected faults."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Fault, RateLimits, SlackSandbox
from tests.bot.fakes import ADA, ALAN, GRACE, FakeClock


async def refused(slack: AsyncWebClient, channel: str) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        await slack.chat_postMessage(channel=channel, text="one too many")
    return raised.value


async def test_a_channel_takes_a_short_burst_then_answers_429(
    slack: AsyncWebClient, sandbox: SlackSandbox, clock: FakeClock
) -> None:
    for index in range(3):
        await slack.chat_postMessage(channel=ADA, text=f"burst {index}")
    error = await refused(slack, ADA)
    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "1"
    assert error.response["error"] == "ratelimited"
    assert len(sandbox.messages(ADA)) == 3
    assert sandbox.calls("chat.postMessage")[-1].status == 429

    await slack.chat_postMessage(channel=GRACE, text="another channel is not held up")
    clock.advance(1.0)
    await slack.chat_postMessage(channel=ADA, text="a second later")
    assert len(sandbox.messages(ADA)) == 4


async def test_the_retry_after_grows_with_the_wait(clock: FakeClock) -> None:
    limits = RateLimits(channel_rate=0.2, channel_burst=1)
    async with SlackSandbox(clock=clock, rate_limits=limits) as sandbox:
        sandbox.add_user(user_id=ADA, name="ada")
        slack = AsyncWebClient(token=sandbox.token, base_url=sandbox.base_url)
        await slack.chat_postMessage(channel=ADA, text="first")
        assert (await refused(slack, ADA)).response.headers["Retry-After"] == "5"
        clock.advance(3.5)
        assert (await refused(slack, ADA)).response.headers["Retry-After"] == "2"


@pytest.fixture
async def tight_workspace(clock: FakeClock) -> AsyncIterator[SlackSandbox]:
    limits = RateLimits(workspace_rate=2, workspace_burst=2)
    async with SlackSandbox(clock=clock, rate_limits=limits) as sandbox:
        for user in (ADA, GRACE, ALAN):
            sandbox.add_user(user_id=user, name=user.lower())
        yield sandbox


async def test_the_workspace_limit_spans_channels(tight_workspace: SlackSandbox,
                                                  clock: FakeClock) -> None:
    slack = AsyncWebClient(token=tight_workspace.token, base_url=tight_workspace.base_url)
    await slack.chat_postMessage(channel=ADA, text="1")
    await slack.chat_postMessage(channel=GRACE, text="2")
    error = await refused(slack, ALAN)
    assert error.response.status_code == 429
    clock.advance(0.5)
    await slack.chat_postMessage(channel=ALAN, text="3")


async def test_without_limits_nothing_is_refused() -> None:
    async with SlackSandbox(rate_limits=None) as sandbox:
        sandbox.add_user(user_id=ADA, name="ada")
        slack = AsyncWebClient(token=sandbox.token, base_url=sandbox.base_url)
        for index in range(10):
            await slack.chat_postMessage(channel=ADA, text=str(index))
        assert len(sandbox.messages(ADA)) == 10


async def test_a_scripted_500_fails_once(slack: AsyncWebClient, sandbox: SlackSandbox) -> None:
    sandbox.faults.script("chat.postMessage", Fault.http_error(500))
    with pytest.raises(SlackApiError) as raised:
        await slack.chat_postMessage(channel=ADA, text="lost")
    assert raised.value.response.status_code == 500
    assert sandbox.messages(ADA) == []
    await slack.chat_postMessage(channel=ADA, text="delivered")
    assert [m["text"] for m in sandbox.messages(ADA)] == ["delivered"]
    assert [call.status for call in sandbox.calls("chat.postMessage")] == [500, 200]


async def test_scripted_faults_come_in_order(slack: AsyncWebClient,
                                             sandbox: SlackSandbox) -> None:
    sandbox.faults.script("chat.postMessage", Fault.ratelimited(retry_after=7),
                          Fault.slack_error("channel_not_found"), Fault.http_error(503))
    assert sandbox.faults.pending("chat.postMessage") == 3
    statuses = []
    for _ in range(3):
        with pytest.raises(SlackApiError) as raised:
            await slack.chat_postMessage(channel=ADA, text="x")
        statuses.append((raised.value.response.status_code, raised.value.response.data))
    assert statuses[0] == (429, {"ok": False, "error": "ratelimited"})
    assert statuses[1] == (200, {"ok": False, "error": "channel_not_found"})
    assert statuses[2][0] == 503
    assert sandbox.faults.pending("chat.postMessage") == 0
    assert sandbox.calls("chat.postMessage")[0].response["error"] == "ratelimited"


async def test_a_scripted_429_carries_its_retry_after(slack: AsyncWebClient,
                                                      sandbox: SlackSandbox) -> None:
    sandbox.faults.script("chat.postMessage", Fault.ratelimited(retry_after=7))
    with pytest.raises(SlackApiError) as raised:
        await slack.chat_postMessage(channel=ADA, text="x")
    assert raised.value.response.headers["Retry-After"] == "7"


async def test_a_wildcard_fault_hits_any_method(slack: AsyncWebClient,
                                                sandbox: SlackSandbox) -> None:
    sandbox.faults.script("*", Fault.slack_error("fatal_error"))
    with pytest.raises(SlackApiError) as raised:
        await slack.users_info(user=ADA)
    assert raised.value.response["error"] == "fatal_error"
    assert (await slack.users_info(user=ADA))["ok"] is True


async def test_latency_slows_an_answer_without_failing_it(slack: AsyncWebClient,
                                                          sandbox: SlackSandbox) -> None:
    sandbox.faults.script("auth.test", Fault.latency(0.2))
    started = time.monotonic()
    assert (await slack.auth_test())["ok"] is True
    assert time.monotonic() - started >= 0.2


async def test_a_client_that_times_out_can_miss_a_message_that_was_posted(
    slack: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    # What a sender must reconcile after a crash or timeout: Slack got it, we never heard.
    sandbox.faults.script("chat.postMessage", Fault.latency(1.3))
    impatient = AsyncWebClient(token=sandbox.token, base_url=sandbox.base_url, timeout=1)
    with pytest.raises(TimeoutError):
        await impatient.chat_postMessage(channel=ADA, text="did it arrive?")
    for _ in range(40):
        if sandbox.messages(ADA):
            break
        await asyncio.sleep(0.05)
    assert [m["text"] for m in sandbox.messages(ADA)] == ["did it arrive?"]


async def random_outcomes(seed: int, probability: float) -> list[bool]:
    async with SlackSandbox(seed=seed, rate_limits=None) as sandbox:
        sandbox.faults.randomly("auth.test", probability=probability,
                                fault=Fault.http_error(500))
        slack = AsyncWebClient(token=sandbox.token, base_url=sandbox.base_url)
        outcomes = []
        for _ in range(20):
            try:
                await slack.auth_test()
                outcomes.append(True)
            except SlackApiError:
                outcomes.append(False)
        return outcomes


async def test_random_faults_replay_with_the_same_seed() -> None:
    first = await random_outcomes(seed=7, probability=0.5)
    assert first == await random_outcomes(seed=7, probability=0.5)
    assert True in first and False in first
    assert all(await random_outcomes(seed=7, probability=0.0))
    assert not any(await random_outcomes(seed=7, probability=1.0))


def test_probabilities_must_be_probabilities(sandbox: SlackSandbox) -> None:
    with pytest.raises(ValueError):
        sandbox.faults.randomly("auth.test", probability=1.5, fault=Fault.http_error())


async def test_clearing_faults_restores_normal_service(slack: AsyncWebClient,
                                                       sandbox: SlackSandbox) -> None:
    sandbox.faults.randomly("*", probability=1.0, fault=Fault.http_error())
    sandbox.faults.script("auth.test", Fault.http_error())
    sandbox.faults.clear()
    assert (await slack.auth_test())["ok"] is True
