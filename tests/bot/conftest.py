"""Fixtures for the Slack transport tests: a running sandbox and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import SlackSandbox
from tests.bot.fakes import ADA, ALAN, GRACE, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[SlackSandbox]:
    """A sandbox with three people, pacing on a fake clock (advance it to refill)."""
    async with SlackSandbox(clock=clock) as sandbox:
        sandbox.add_user(user_id=ADA, name="ada", real_name="Ada Lovelace",
                         title="VP Engineering", email="ada@example.com", tz="Europe/London")
        sandbox.add_user(user_id=GRACE, name="grace", real_name="Grace Hopper",
                         display_name="grace", tz="America/New_York")
        sandbox.add_user(user_id=ALAN, name="alan", real_name="Alan Turing", tz="Asia/Tokyo")
        yield sandbox


@pytest.fixture
def slack(sandbox: SlackSandbox) -> AsyncWebClient:
    """slack_sdk's own async client, talking to the sandbox over HTTP."""
    return AsyncWebClient(token=sandbox.token, base_url=sandbox.base_url)
