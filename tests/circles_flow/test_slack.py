"""Circles in Slack, end to end: the tick forms a round, the real delivery worker opens the
group DM in the sandbox and posts the intro, follow-ups arrive by DM, and the buttons and
the commitment modal go through Bolt over signed HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import circle as circle_blocks
from bot.blocks.circle import COMMIT, COMMIT_MODAL, PREFERENCES, PREFERENCES_MODAL, RESUME
from bot.circle_dm import CircleGroupDMs
from bot.render import default_renderers
from bot.sandbox import SlackSandbox
from bot.sandbox.faults import Fault
from services.circles.models import Circle, CircleBlock, MetAnswer, ParticipantStatus
from services.circles.rounds import INTRO_KIND
from services.plans.models import ProgressSource, ProgressUpdate
from tests.circles_flow.conftest import Sessions, Tick, deliveries, my_row, participant
from tests.circles_flow.factories import FIRST_ROUND, Program, make_program
from tests.delivery.world import make_messenger, run_until_quiet, worker
from tests.factories.plans import make_goal
from tests.slack.conftest import (
    LEADER,
    TEAM,
    SlackUser,
    date_input,
    eventually,
    http,
    leader,
    sandbox,
    selected,
    text_input,
    web,
)

__all__ = ["http", "leader", "sandbox", "web"]

PEERS = ("U0PEER0002", "U0PEER0003")
ROSTER = (("America/New_York", "Sales", "L1"), ("America/Chicago", "Finance", "L2"),
          ("America/Toronto", "Engineering", "L1"))


@pytest.fixture
def circle_app(web: FastAPI, sandbox: SlackSandbox) -> FastAPI:
    """The web app (its Bolt app carries the circle listeners), and the peers in Slack."""
    for user_id, name in zip(PEERS, ("Pat Peer", "Quinn Peer"), strict=True):
        sandbox.add_user(user_id=user_id, name=name.split()[0].lower(), real_name=name,
                         tz="America/Chicago")
    return web


@pytest.fixture
async def program(session: AsyncSession) -> Program:
    return await make_program(session, roster=ROSTER, team_id=TEAM,
                              slack_ids=[LEADER, *PEERS], miss_limit=1)


@pytest.fixture
async def deliver(sessions: Sessions, sandbox: SlackSandbox) -> AsyncIterator[Any]:
    """Send every due outbox row to the sandbox, as `coachbot worker` would."""
    renderers = default_renderers()
    circle_blocks.register(renderers)
    async with aiohttp.ClientSession() as client_session:

        async def run() -> None:
            inner = make_messenger(sandbox, client_session, sessions, renderers=renderers)
            messenger = CircleGroupDMs(inner=inner, client=inner._client, sessions=sessions)
            await run_until_quiet(sessions, worker(sessions, messenger))

        yield run


def group_dms(sandbox: SlackSandbox) -> list[Any]:
    return [c for c in sandbox.workspace.conversations.values() if c.kind == "mpim"]


def blocks_text(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)


async def click(
    user: SlackUser, sandbox: SlackSandbox, channel: str, message: dict[str, Any], action_id: str
) -> httpx.Response:
    """Click a button on a message, as Slack sends it."""
    element = next(e for b in message["blocks"]
                   for e in (b.get("elements") or [b.get("accessory") or {}])
                   if e.get("action_id") == action_id)
    action = {"action_id": action_id, "block_id": "b", "type": "button",
              "value": element["value"], "action_ts": f"{time.time():.6f}"}
    return await user.interact({
        "type": "block_actions",
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel},
        "channel": {"id": channel},
        "message": message,
        "response_url": sandbox.response_url(f"click-{action_id}"),
        "actions": [action],
    })


async def test_the_intro_goes_to_one_group_dm_with_the_whole_circle(
    circle_app: FastAPI, program: Program, tick: Tick, deliver: Any, sandbox: SlackSandbox,
    sessions: Sessions,
) -> None:
    await tick(FIRST_ROUND)
    await deliver()
    [group] = group_dms(sandbox)
    assert set(group.members) >= {LEADER, *PEERS}
    [intro] = group.messages
    text = blocks_text(intro)
    assert "Meet your peer circle" in text
    assert all(f"<@{user}>" in text for user in (LEADER, *PEERS))
    assert "Suggested agenda" in text and "Reflection prompt" in text
    assert "Why this group: different teams" in text
    async with sessions() as check:
        [circle] = (await check.exec(select(Circle))).all()
    assert circle.slack_channel == group.id
    [sent] = await deliveries(sessions, INTRO_KIND)
    assert sent.slack_channel == group.id and sent.state == "sent"
    opens = [c for c in sandbox.calls("conversations.open") if "," in c.args.get("users", "")]
    assert len(opens) == 1


async def test_a_member_answers_the_followup_and_commits_on_a_goal(
    circle_app: FastAPI, program: Program, tick: Tick, deliver: Any, sandbox: SlackSandbox,
    sessions: Sessions, session: AsyncSession, leader: SlackUser,
) -> None:
    goal = await make_goal(session, program.leaders[0], title="Delegate <more> & better")
    await session.commit()
    await tick(FIRST_ROUND)
    await tick(FIRST_ROUND + timedelta(days=3))
    await deliver()
    channel = sandbox.dm_channel(LEADER)
    [followup] = sandbox.messages(channel)
    assert "Did you meet?" in blocks_text(followup)
    assert all(len(sandbox.messages(sandbox.dm_channel(peer))) == 1 for peer in PEERS)

    await click(leader, sandbox, channel, followup, "circle_met_yes")
    await eventually(lambda: sandbox.calls("chat.update"))
    assert (await my_row(sessions, program.leaders[0], 1)).met == MetAnswer.yes
    assert "You said: Yes, we met." in blocks_text(sandbox.messages(channel)[0])

    await click(leader, sandbox, channel, sandbox.messages(channel)[0], COMMIT)
    [opened] = await eventually(lambda: sandbox.calls("views.open"))
    view = opened.args["view"]
    assert view["callback_id"] == COMMIT_MODAL
    assert "Delegate &lt;more&gt; &amp; better" not in json.dumps(view)  # plain text, not mrkdwn
    refused = await leader.submit(view, {"commitment": text_input("  "),
                                         "goal": {"type": "static_select",
                                                  "selected_option": {"value": str(goal.id)}}})
    assert refused.json()["response_action"] == "errors"
    saved = await leader.submit(view, {"commitment": text_input("Hand the report to Sam"),
                                       "goal": {"type": "static_select",
                                                "selected_option": {"value": str(goal.id)}}})
    assert saved.status_code == 200 and not saved.content
    row = await my_row(sessions, program.leaders[0], 1)
    assert row.commitment == "Hand the report to Sam"
    async with sessions() as check:
        update = await check.get(ProgressUpdate, row.progress_update_id)
    assert update is not None and (update.goal_id, update.source) == (goal.id,
                                                                      ProgressSource.circle)
    await eventually(lambda: len(sandbox.calls("chat.update")) == 2)
    assert "Your commitment: Hand the report to Sam" in blocks_text(sandbox.messages(channel)[0])


async def test_a_paused_member_comes_back_with_one_click(
    circle_app: FastAPI, program: Program, tick: Tick, deliver: Any, sandbox: SlackSandbox,
    sessions: Sessions, leader: SlackUser,
) -> None:
    await tick(FIRST_ROUND)
    await tick(FIRST_ROUND + timedelta(days=3))
    await tick(FIRST_ROUND + timedelta(days=6))  # nobody answered: miss_limit 1 pauses all
    await deliver()
    me = program.leaders[0]
    assert (await participant(sessions, me)).status == ParticipantStatus.paused  # type: ignore[union-attr]
    channel = sandbox.dm_channel(LEADER)
    [note] = [m for m in sandbox.messages(channel) if RESUME in blocks_text(m)]
    assert "missed 1" in blocks_text(note)
    await click(leader, sandbox, channel, note, RESUME)
    await eventually(lambda: sandbox.calls("chat.update"))
    found = await participant(sessions, me)
    assert found is not None and found.status == ParticipantStatus.active
    assert any("Welcome back" in blocks_text(m) for m in sandbox.messages(channel))


async def test_opening_the_group_dm_survives_a_429_and_a_5xx_and_posts_once(
    circle_app: FastAPI, program: Program, tick: Tick, deliver: Any, sandbox: SlackSandbox,
    sessions: Sessions,
) -> None:
    sandbox.faults.script("conversations.open", Fault.ratelimited(1), Fault.http_error(500))
    await tick(FIRST_ROUND)
    await deliver()
    [group] = group_dms(sandbox)
    assert len(group.messages) == 1
    [sent] = await deliveries(sessions, INTRO_KIND)
    assert sent.state == "sent" and sent.slack_channel == group.id


async def test_a_group_dm_slack_refuses_is_given_up(
    circle_app: FastAPI, program: Program, tick: Tick, deliver: Any, sandbox: SlackSandbox,
    sessions: Sessions,
) -> None:
    sandbox.faults.script("conversations.open", Fault.slack_error("user_not_found"))
    await tick(FIRST_ROUND)
    await deliver()
    assert group_dms(sandbox) == []
    [dead] = await deliveries(sessions, INTRO_KIND)
    assert dead.state == "dead" and "user_not_found" in (dead.last_error or "")


async def test_preferences_pause_opt_out_and_a_private_block_list(
    circle_app: FastAPI, program: Program, sandbox: SlackSandbox, sessions: Sessions,
    leader: SlackUser, http: httpx.AsyncClient,
) -> None:
    series = program.series.id
    await leader.click(PREFERENCES, value="")
    [opened] = await eventually(lambda: sandbox.calls("views.open"))
    view = opened.args["view"]
    assert view["callback_id"] == PREFERENCES_MODAL
    assert "Leadership Lab circles" in json.dumps(view)

    def form(status: str, until: str | None, users: list[str]) -> dict[str, Any]:
        return {f"series_{series}": selected(status), f"until_{series}": date_input(until),
                "blocks": {"type": "multi_users_select", "selected_users": users}}

    refused = await leader.submit(view, form("paused", "2000-01-01", []))
    assert refused.json() == {"response_action": "errors",
                              "errors": {f"until_{series}": "pause until a date after today"}}
    saved = await leader.submit(view, form("opted_out", None, [PEERS[0], "U0NOBODY01"]))
    assert saved.status_code == 200 and not saved.content
    me = await participant(sessions, program.leaders[0])
    assert me is not None and me.status == ParticipantStatus.opted_out
    async with sessions() as check:
        blocks = (await check.exec(select(CircleBlock))).all()
    assert [(b.blocker_id, b.blocked_id) for b in blocks] == [(program.leaders[0].id,
                                                               program.leaders[1].id)]
    # Reopened, it shows the list to its owner; the person on it sees an empty one.
    await leader.click(PREFERENCES, value="")
    await eventually(lambda: len(sandbox.calls("views.open")) == 2)
    assert PEERS[0] in json.dumps(sandbox.calls("views.open")[1].args["view"])
    peer = SlackUser(http, sandbox, PEERS[0])
    await peer.click(PREFERENCES, value="")
    await eventually(lambda: len(sandbox.calls("views.open")) == 3)
    assert LEADER not in json.dumps(sandbox.calls("views.open")[2].args["view"])
