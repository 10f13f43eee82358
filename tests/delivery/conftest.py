"""Fixtures for the outbox tests: a workspace with members, a running Slack sandbox, and
a messenger whose slack_sdk client talks to it over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messenger import SlackMessenger
from bot.sandbox import SlackSandbox
from tests.delivery.world import World, make_messenger, make_world


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    """A committed workspace with twenty members."""
    return await make_world(sessions, members=20)


@pytest.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    """Slack's Web API on localhost, with Slack's limits; unknown users are made up."""
    async with SlackSandbox(auto_users=True) as sandbox:
        sandbox.add_channel(name="coaches", channel_id="C0COACHES")
        yield sandbox


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def messenger(
    sandbox: SlackSandbox,
    http: aiohttp.ClientSession,
    sessions: async_sessionmaker[AsyncSession],
) -> SlackMessenger:
    """A messenger on the sandbox, paced like production but without a per-channel wait."""
    return make_messenger(sandbox, http, sessions)
