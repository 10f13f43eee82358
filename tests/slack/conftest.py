"""The whole web app with Slack in HTTP mode, talking to the sandbox over real HTTP."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.main import create_app
from bot.sandbox import SlackSandbox
from bot.slack_signing import sign_request
from services.config import Settings
from services.people.models import Cohort, EnrollmentRole, Member
from tests.factories.people import enrol, make_cohort, make_workspace

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0TEST0001"
LEADER = "U0LEADER01"
COACH = "U0COACH001"
STRANGER = "U0STRANGE1"
OWNER = COACH  # where a test needs a program owner, the stand-in's second user plays one

_triggers = itertools.count(1)


@dataclass
class SlackUser:
    """Sends what Slack would send when this person acts, signed like Slack signs it."""

    http: httpx.AsyncClient
    sandbox: SlackSandbox
    user_id: str

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        signed = sign_request(
            signing_secret=SECRET, body=body, timestamp=timestamp, content_type=content_type
        )
        return await self.http.post(
            "/slack/events", content=signed.body, headers={**signed.headers, **(headers or {})}
        )

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        envelope = {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0COACHBOT",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_triggers):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM}],
            "event": {"user": self.user_id, **event},
        }
        return await self.post(json.dumps(envelope), "application/json", headers=headers)

    async def open_home(self, **kwargs: Any) -> httpx.Response:
        return await self.event(
            {"type": "app_home_opened", "tab": "home", "channel": "D0HOME0001"}, **kwargs
        )

    async def command(self, text: str) -> httpx.Response:
        trigger = f"{next(_triggers)}.trigger"
        body = urlencode(
            {
                "token": "legacy",
                "team_id": TEAM,
                "team_domain": "test",
                "channel_id": "D0CMD0001",
                "channel_name": "directmessage",
                "user_id": self.user_id,
                "user_name": "someone",
                "command": "/coach",
                "text": text,
                "api_app_id": "A0COACHBOT",
                "response_url": self.sandbox.response_url(trigger),
                "trigger_id": trigger,
            }
        )
        return await self.post(body, "application/x-www-form-urlencoded")

    async def interact(
        self, payload: dict[str, Any], *, trigger: str | None = None
    ) -> httpx.Response:
        payload = {
            "team": {"id": TEAM, "domain": "test"},
            "user": {"id": self.user_id, "team_id": TEAM},
            "api_app_id": "A0COACHBOT",
            "token": "legacy",
            "trigger_id": trigger or f"{next(_triggers)}.trigger",
            **payload,
        }
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded")

    async def click(
        self,
        action_id: str,
        *,
        value: str | None = None,
        selected: str | None = None,
        trigger: str | None = None,
    ) -> httpx.Response:
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": "b",
            "action_ts": f"{time.time():.6f}",
        }
        if value is not None:
            action |= {"type": "button", "value": value}
        if selected is not None:
            action |= {"type": "static_select", "selected_option": {"value": selected}}
        return await self.interact(
            {
                "type": "block_actions",
                "container": {"type": "view", "view_id": "V0HOME"},
                "view": {"id": "V0HOME", "type": "home"},
                "actions": [action],
            },
            trigger=trigger,
        )

    async def submit(
        self, view: dict[str, Any], values: dict[str, Any], *, trigger: str | None = None
    ) -> httpx.Response:
        state = {block: {"value": value} for block, value in values.items()}
        submitted = {**view, "id": "V0MODAL", "hash": "1.abc", "state": {"values": state}}
        return await self.interact({"type": "view_submission", "view": submitted}, trigger=trigger)


def text_input(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def selected(value: str | None) -> dict[str, Any]:
    return {
        "type": "static_select",
        "selected_option": {"value": value} if value is not None else None,
    }


def date_input(value: str | None) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": value}


async def eventually(check: Callable[[], Any], *, within: float = 5.0) -> Any:
    """Wait for work Bolt finishes after the ack (listeners run on after acking)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    async with SlackSandbox(rate_limits=None) as sandbox:
        sandbox.workspace.team_id = TEAM
        sandbox.add_user(
            user_id=LEADER,
            name="lee",
            real_name="Lee Leader",
            title="Team lead",
            tz="America/New_York",
            email="lee@example.com",
        )
        sandbox.add_user(user_id=COACH, name="cam", real_name="Cam Coach", tz="Europe/London")
        sandbox.add_user(
            user_id=STRANGER, name="sam", real_name="Sam Stranger", tz="Asia/Kathmandu"
        )
        yield sandbox


def slack_settings(database_url: str, sandbox: SlackSandbox, **more: object) -> Settings:
    """Settings for the whole app in HTTP mode against the sandbox; `more` adds to them.

    The tests run sweeps and deliveries themselves unless they ask for the in-process
    worker, as on PostgreSQL: its scheduler would draft nudges or send reminders by the
    hour the test runs at.
    """
    fields: dict[str, object] = {
        "COACHBOT_DATABASE_URL": database_url,
        "COACHBOT_ENV": "test",
        "SLACK_BOT_TOKEN": sandbox.token,
        "SLACK_SIGNING_SECRET": SECRET,
        "COACHBOT_SLACK_API_URL": sandbox.base_url,
        "COACHBOT_IN_PROCESS_WORKER": False,
    }
    return Settings(**(fields | more))  # type: ignore[arg-type]


@pytest.fixture
async def web(database_url: str, sandbox: SlackSandbox, sessions: object) -> AsyncIterator[FastAPI]:
    app = create_app(slack_settings(database_url, sandbox), console=None)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def http(web: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://coachbot.test") as client:
        yield client


@pytest.fixture
def leader(http: httpx.AsyncClient, sandbox: SlackSandbox) -> SlackUser:
    return SlackUser(http, sandbox, LEADER)


@pytest.fixture
def stranger(http: httpx.AsyncClient, sandbox: SlackSandbox) -> SlackUser:
    return SlackUser(http, sandbox, STRANGER)


@pytest.fixture
def owner(http: httpx.AsyncClient, sandbox: SlackSandbox) -> SlackUser:
    return SlackUser(http, sandbox, OWNER)


async def owned_cohort(session: AsyncSession, *, timezone: str) -> Cohort:
    """"Spring Leaders", owned by Olivia Owner (OWNER) and led by Lee Leader (LEADER), all in
    one timezone."""
    workspace = await make_workspace(session, team_id=TEAM)
    cohort = await make_cohort(session, workspace, timezone=timezone)
    cohort.name = "Spring Leaders"
    for user_id, name, role in ((OWNER, "Olivia Owner", EnrollmentRole.owner),
                                (LEADER, "Lee Leader", EnrollmentRole.leader)):
        member = Member(workspace_id=workspace.id or 0, slack_user_id=user_id, name=name,
                        timezone=timezone)
        session.add(member)
        await session.flush()
        await enrol(session, cohort, member, role)
    await session.commit()
    return cohort
