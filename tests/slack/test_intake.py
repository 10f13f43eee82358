"""Clicks and events are acked at the door and handed to Bolt as the work makes room."""

from __future__ import annotations

import json
import time
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.intake import Queued, acks_empty
from bot.sandbox import Fault, SlackSandbox
from bot.slack_signing import event_body, interaction_body, sign_request
from services.people.models import EnrollmentRole, Member
from services.plans.models import Goal, Visibility
from tests.factories.people import enrol, make_cohort, make_workspace
from tests.factories.plans import make_goal
from tests.slack.conftest import LEADER, SECRET, TEAM, SlackUser, eventually


@pytest.fixture
async def goals(session: AsyncSession) -> list[int]:
    """Lee, a leader with five goals, all shared with the coach."""
    workspace = await make_workspace(session, team_id=TEAM)
    cohort = await make_cohort(session, workspace)
    lee = Member(workspace_id=workspace.id or 0, slack_user_id=LEADER, name="Lee Leader")
    session.add(lee)
    await session.flush()
    await enrol(session, cohort, lee, EnrollmentRole.leader)
    made = [await make_goal(session, lee, title=f"Goal {n}") for n in range(5)]
    await session.commit()
    return [goal.id or 0 for goal in made]


def test_only_requests_whose_answer_is_empty_are_acked_at_the_door() -> None:
    assert acks_empty(interaction_body({"type": "block_actions", "actions": []}).encode())
    assert acks_empty(event_body({"type": "event_callback", "event": {}}).encode())
    assert not acks_empty(interaction_body({"type": "view_submission"}).encode())
    assert not acks_empty(event_body({"type": "url_verification"}).encode())
    assert not acks_empty(b"command=%2Fcoach&text=help")  # a slash command answers with text
    assert not acks_empty(b"payload=%7Bnot+json")
    assert not acks_empty(b"{]")


async def test_clicks_are_acked_while_earlier_work_holds_the_gate(
    goals: list[int], leader: SlackUser, web: FastAPI, sandbox: SlackSandbox,
    session: AsyncSession,
) -> None:
    transport = web.state.slack
    await leader.open_home()  # Lee is known and cached from here on
    await eventually(lambda: sandbox.calls("views.publish"))
    async with AsyncExitStack() as held:
        # Work under way from earlier requests fills the room the intake dispatches into.
        for _ in range(4):
            await held.enter_async_context(transport.in_flight.track())
        for goal_id in goals:
            response = await leader.click("home_goal_visibility", selected=f"{goal_id}:private")
            assert response.status_code == 200
        assert len(transport.intake) >= len(goals) - 2  # acked, not yet handed to Bolt
        changed = select(Goal).where(col(Goal.visibility) == Visibility.private)
        assert (await session.exec(changed)).all() == []
    await transport.intake.settled()
    await transport.in_flight.drain(within=5)
    session.expire_all()
    assert len((await session.exec(changed)).all()) == len(goals)


async def test_a_click_queued_past_slacks_five_minutes_is_still_done(
    goals: list[int], leader: SlackUser, web: FastAPI, session: AsyncSession
) -> None:
    """The signature is checked once, at the door; the queue may hold a click longer."""
    transport = web.state.slack
    await leader.open_home()
    body = interaction_body({
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": LEADER},
        "api_app_id": "A0COACHBOT", "trigger_id": "late.1",
        "container": {"type": "view", "view_id": "V0HOME"},
        "actions": [{"action_id": "home_goal_visibility", "block_id": "b",
                     "type": "static_select", "action_ts": "1.0",
                     "selected_option": {"value": f"{goals[0]}:private"}}],
    })
    signed = sign_request(signing_secret=SECRET, body=body, timestamp=int(time.time()) - 600)
    headers = {name.lower(): [value] for name, value in signed.headers.items()}
    await transport.intake.put(Queued(body=signed.body, headers=dict(headers), query=""))
    await transport.intake.settled()
    await transport.in_flight.drain(within=5)
    goal = await session.get(Goal, goals[0])
    assert goal is not None and goal.visibility == Visibility.private


@pytest.mark.parametrize("timestamp", ["not-a-number", "", "1e9"])
async def test_a_garbled_timestamp_is_401_and_nothing_is_queued(
    http: httpx.AsyncClient, web: FastAPI, timestamp: str
) -> None:
    body = event_body({"type": "event_callback", "team_id": TEAM, "event": {"type": "x"}})
    signed = sign_request(signing_secret=SECRET, body=body)
    headers = {**signed.headers, "X-Slack-Request-Timestamp": timestamp}
    response = await http.post("/slack/events", content=signed.body, headers=headers)
    assert response.status_code == 401
    assert json.loads(response.content) == {"error": "invalid request"}
    assert len(web.state.slack.intake) == 0 and not web.state.slack.intake.refused


async def test_home_renders_are_folded_while_one_is_under_way(
    goals: list[int], leader: SlackUser, web: FastAPI, sandbox: SlackSandbox
) -> None:
    """Five quick clicks: one render each would be five; one under way takes the rest
    into a single next render, which shows all of them."""
    transport = web.state.slack
    await leader.open_home()
    await eventually(lambda: sandbox.calls("views.publish"))
    sandbox.clear_calls()
    sandbox.faults.script("views.publish", Fault.latency(0.5))
    for goal_id in goals:
        await leader.click("home_goal_visibility", selected=f"{goal_id}:private")
    await transport.intake.settled()
    await transport.in_flight.drain(within=10)
    published = sandbox.calls("views.publish")
    assert 2 <= len(published) < len(goals)
    assert shown_visibility(sandbox.home_view(LEADER)) == {g: "private" for g in goals}


def shown_visibility(view: Any) -> dict[int, str]:
    """Each goal's visibility as the Home tab's selects show it."""
    shown = {}
    for block in view["blocks"]:
        elements = [*block.get("elements", []), block.get("accessory") or {}]
        for element in elements:
            if element.get("action_id") == "home_goal_visibility":
                goal_id, _, visibility = element["initial_option"]["value"].partition(":")
                shown[int(goal_id)] = visibility
    return shown


async def test_a_home_publish_slack_rate_limits_is_made_after_retry_after(
    goals: list[int], leader: SlackUser, web: FastAPI, sandbox: SlackSandbox
) -> None:
    transport = web.state.slack
    await leader.open_home()
    await eventually(lambda: sandbox.calls("views.publish"))
    sandbox.clear_calls()
    sandbox.faults.script("views.publish", Fault.ratelimited(retry_after=1))
    await leader.click("home_goal_visibility", selected=f"{goals[0]}:private")
    await transport.intake.settled()
    await transport.in_flight.drain(within=10)
    assert [call.status for call in sandbox.calls("views.publish")] == [429, 200]
    assert shown_visibility(sandbox.home_view(LEADER))[goals[0]] == "private"
    assert not sandbox.calls("chat.postEphemeral")  # nothing went wrong, as far as Lee sees


async def test_a_forged_click_is_401_and_nothing_is_queued(
    goals: list[int], http: httpx.AsyncClient, web: FastAPI, session: AsyncSession
) -> None:
    body = interaction_body({
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": LEADER},
        "trigger_id": "forged.1",
        "actions": [{"action_id": "home_goal_visibility", "block_id": "b",
                     "type": "static_select", "action_ts": "1.0",
                     "selected_option": {"value": f"{goals[0]}:private"}}],
    })
    signed = sign_request(signing_secret="not-the-secret", body=body)
    response = await http.post("/slack/events", content=signed.body, headers=signed.headers)
    assert response.status_code == 401
    assert len(web.state.slack.intake) == 0
    await web.state.slack.in_flight.drain(within=5)
    goal = await session.get(Goal, goals[0])
    assert goal is not None and goal.visibility == Visibility.coach
