"""A check-in in Slack, end to end on the stand-in: the sweep's invitation goes out through
the outbox, the leader answers in the modal, the coach reviews it in one thread per leader,
and replies are relayed both ways."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import checkin as blocks
from bot.sandbox import SlackSandbox
from services.checkins.jobs import checkin_followup_tick
from services.checkins.models import Checkin, CheckinAnswer, CheckinStatus, ReviewThread
from services.checkins.relays import RELAY_KIND
from services.db import utcnow
from services.delivery.models import Delivery, DeliveryState
from services.people.models import Enrollment, EnrollmentStatus
from services.plans.models import Milestone, MilestoneStatus, ProgressSource, ProgressUpdate
from tests.checkins.slack_world import (
    CoachedLeader,
    button_value,
    coached_leader,
    deliver,
    deliver_once_queued,
    invitation,
    sweep_and_deliver,
)
from tests.delivery.world import posted_keys
from tests.slack.conftest import (
    COACH,
    LEADER,
    SlackUser,
    date_input,
    eventually,
    selected,
    text_input,
)

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def world(session: AsyncSession, web: FastAPI) -> CoachedLeader:
    """The running app (its Bolt app registers the check-in listeners) and its people."""
    return await coached_leader(session)


@pytest.fixture
def coach(http: httpx.AsyncClient, sandbox: SlackSandbox) -> SlackUser:
    return SlackUser(http, sandbox, COACH)


async def press(user: SlackUser, sandbox: SlackSandbox, message: dict[str, Any],
                action_id: str, *, trigger: str | None = None) -> httpx.Response:
    """Click a button in a DM message, as Slack reports it."""
    channel = sandbox.dm_channel(user.user_id)
    action = {"action_id": action_id, "block_id": "b", "type": "button",
              "value": button_value(message, action_id), "action_ts": f"{time.time():.6f}"}
    return await user.interact({
        "type": "block_actions",
        "container": {"type": "message", "channel_id": channel, "message_ts": message["ts"]},
        "channel": {"id": channel}, "message": message, "actions": [action],
    }, trigger=trigger)


def modal_values(world: CoachedLeader, **overrides: dict[str, Any]) -> dict[str, Any]:
    shared, private = world.shared_milestone.id, world.private_milestone.id
    values: dict[str, Any] = {
        "q:week": selected("4"),
        f"gp:progress:{shared}:status": selected("done"),
        f"gp:progress:{shared}:confidence": selected("4"),
        f"gp:progress:{shared}:note": text_input("Handed the report to Ana <3 & it went well"),
        f"gp:progress:{private}:status": selected("open"),
        f"gp:progress:{private}:confidence": selected(None),
        f"gp:progress:{private}:note": text_input("Numbers ready, nervous"),
        "q:learned": text_input("Letting go was easier than I thought"),
        "q:help": selected("Focus time"),
        "private": {"type": "checkboxes", "selected_options": []},
    }
    values.update(overrides)
    return values


async def open_modal(leader: SlackUser, sandbox: SlackSandbox, sessions: Sessions,
                     *, trigger: str | None = None) -> dict[str, Any]:
    await sweep_and_deliver(sessions, sandbox)
    dm = invitation(sandbox, LEADER)
    sandbox.clear_calls()
    response = await press(leader, sandbox, dm, blocks.START, trigger=trigger)
    assert response.status_code == 200
    opened = await eventually(lambda: sandbox.calls("views.open"))
    view: dict[str, Any] = opened[-1].args["view"]
    return view


async def test_answer_a_checkin_and_the_coach_reviews_it_in_one_thread(
    world: CoachedLeader, leader: SlackUser, coach: SlackUser, sandbox: SlackSandbox,
    session: AsyncSession, sessions: Sessions,
) -> None:
    view = await open_modal(leader, sandbox, sessions)
    assert view["callback_id"] == blocks.MODAL
    shown = json.dumps(view)
    assert "Hand off the report" in shown and "Prepare numbers" in shown

    response = await leader.submit(view, modal_values(world))
    assert response.status_code == 200 and not response.content

    checkin = (await session.exec(select(Checkin))).one()
    assert checkin.status == CheckinStatus.answered and not checkin.late
    # The snapshot names the milestones that were asked about.
    progress = next(q for q in checkin.questions if q["kind"] == "goal_progress")
    assert {i["title"] for i in progress["items"]} == {"Hand off the report", "Prepare numbers"}
    answers = {a.question_id: a for a in (await session.exec(select(CheckinAnswer))).all()}
    shared, private = world.shared_milestone.id, world.private_milestone.id
    assert answers["week"].number == 4
    assert answers[f"progress:m{shared}:status"].text == "done"
    assert answers[f"progress:m{private}"].visibility == "private"  # its goal is private
    assert f"progress:m{private}:status" not in answers  # unchanged status is no answer
    updates = (await session.exec(select(ProgressUpdate))).all()
    assert {(u.milestone_id, u.source) for u in updates} == {
        (shared, ProgressSource.checkin), (private, ProgressSource.checkin)}
    milestone = await session.get(Milestone, shared, populate_existing=True)
    assert milestone is not None and milestone.status == MilestoneStatus.done

    # The invitation now says it is done.
    done = await eventually(lambda: [m for m in sandbox.messages(LEADER) if "Done" in m["text"]])
    assert done[0]["ts"] == invitation_ts(sandbox)
    # Through the outbox, the coach gets one parent message for Lee and this check-in as a
    # reply under it.
    await deliver(sessions, sandbox)
    coach_dm = sandbox.dm_channel(COACH)
    parent, posted = sandbox.messages(COACH)
    assert posted["thread_ts"] == parent.get("thread_ts") == parent["ts"]
    assert "Check-ins from Lee Leader" in parent["text"]
    review = json.dumps(posted["blocks"])
    assert "Handed the report to Ana &lt;3 &amp; it went well" in review
    assert "Letting go was easier" in review and "4/5" in review
    assert "Numbers ready" not in review and "Salary talk" not in review
    assert "1 answer kept private" in review

    # The coach replies in the thread: Lee gets it in a DM, saying who wrote it.
    await coach.event({"type": "message", "channel": coach_dm, "channel_type": "im",
                       "text": "Great work &lt;3", "ts": f"{time.time():.6f}",
                       "thread_ts": parent["ts"]})
    await deliver_once_queued(sessions, sandbox, RELAY_KIND, 1)
    (relayed,) = [m for m in sandbox.messages(LEADER) if "wrote" in m["text"]]
    assert relayed.get("thread_ts", relayed["ts"]) == relayed["ts"]  # a message of its own
    assert "*Cam Coach* (your coach) wrote:\nGreat work &lt;3" in json.dumps(
        relayed["blocks"])[:400].replace("\\n", "\n")
    # Lee answers in that DM thread: it lands in the coach's thread.
    await leader.event({"type": "message", "channel": sandbox.dm_channel(LEADER),
                        "channel_type": "im", "text": "Thanks!", "ts": f"{time.time():.6f}",
                        "thread_ts": relayed["ts"]})
    await deliver_once_queued(sessions, sandbox, RELAY_KIND, 2)
    (back,) = [m for m in sandbox.thread(coach_dm, parent["ts"]) if "Thanks!" in m["text"]]
    assert "Lee Leader" in back["text"] and "your coachee" in back["text"]
    # The coach's next reply goes into Lee's thread, not into a new message.
    await coach.event({"type": "message", "channel": coach_dm, "channel_type": "im",
                       "text": "Keep going", "ts": f"{time.time():.6f}",
                       "thread_ts": parent["ts"]})
    await deliver_once_queued(sessions, sandbox, RELAY_KIND, 3)
    (again,) = [m for m in sandbox.messages(LEADER) if "Keep going" in m["text"]]
    assert again["thread_ts"] == relayed["ts"]
    assert set(posted_keys(sandbox).values()) == {1}  # nothing was sent twice

    async with sessions() as other:
        assert len((await other.exec(select(ReviewThread))).all()) == 1


def invitation_ts(sandbox: SlackSandbox) -> str:
    return str(invitation_or_done(sandbox)["ts"])


def invitation_or_done(sandbox: SlackSandbox) -> dict[str, Any]:
    return next(m for m in sandbox.messages(LEADER) if not m.get("thread_ts"))


async def test_the_home_tab_offers_the_open_checkin_then_names_the_next_one(
    world: CoachedLeader, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession,
    sessions: Sessions,
) -> None:
    await sweep_and_deliver(sessions, sandbox)
    await checkin_followup_tick(sessions=sessions, now=utcnow())  # notes where the DM is
    checkin = (await session.exec(select(Checkin))).one()
    await leader.open_home()
    home = lambda: json.dumps(sandbox.home_view(LEADER) or {})  # noqa: E731
    await eventually(lambda: "waiting for your answers" in home())
    closes = checkin.expires_at.astimezone(ZoneInfo("America/New_York"))
    assert (f"*Weekly check-in* is waiting for your answers, open until {closes:%a} "
            f"{closes.day} {closes:%b} at {closes:%H:%M}") in home()
    answer = next(e for b in sandbox.home_view(LEADER)["blocks"] for e in b.get("elements", [])
                  if e.get("action_id") == blocks.START)
    assert answer["value"] == str(checkin.id)

    sandbox.clear_calls()
    await leader.click(blocks.START, value=str(checkin.id))  # from the Home tab
    opened = await eventually(lambda: sandbox.calls("views.open"))
    view = opened[-1].args["view"]
    assert view["callback_id"] == blocks.MODAL
    response = await leader.submit(view, modal_values(world))
    assert response.status_code == 200 and not response.content
    # Answered from Home: the invitation in the DM is marked done all the same, and the Home
    # tab is published again with the next check-in instead of the button.
    await eventually(lambda: [m for m in sandbox.messages(LEADER) if "Done" in m["text"]])
    await eventually(lambda: "Next check-in: *Weekly check-in*" in home())
    assert blocks.START not in home()


async def test_a_resubmitted_modal_is_stored_once(
    world: CoachedLeader, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession,
    sessions: Sessions,
) -> None:
    view = await open_modal(leader, sandbox, sessions)
    values = modal_values(world)
    first = await leader.submit(view, values, trigger="retry.trigger")
    retried = await leader.submit(view, values, trigger="retry.trigger")  # Slack's retry
    again = await leader.submit(view, values)  # a second copy of the modal
    assert first.status_code == retried.status_code == 200
    assert again.json()["response_action"] == "errors"
    assert "already answered" in json.dumps(again.json()["errors"])
    # The first submission's work after the ack (coach thread, the DM marked done) ends.
    await eventually(lambda: [m for m in sandbox.messages(LEADER) if "Done" in m["text"]])
    assert len((await session.exec(select(CheckinAnswer).where(
        CheckinAnswer.question_id == "week"))).all()) == 1
    assert len((await session.exec(select(ProgressUpdate))).all()) == 2


async def test_invalid_answers_are_shown_inline_and_nothing_is_stored(
    world: CoachedLeader, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession,
    sessions: Sessions,
) -> None:
    view = await open_modal(leader, sandbox, sessions)
    response = await leader.submit(view, modal_values(world, **{
        "q:learned": text_input("   "), "q:week": selected(None)}))
    errors = response.json()["errors"]
    assert set(errors) == {"q:learned", "q:week"}
    assert (await session.exec(select(CheckinAnswer))).all() == []
    checkin = (await session.exec(select(Checkin))).one()
    assert checkin.status == CheckinStatus.pending  # unchanged: nothing was claimed


async def test_answers_after_expiry_are_kept_and_marked_late(
    world: CoachedLeader, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession,
    sessions: Sessions,
) -> None:
    view = await open_modal(leader, sandbox, sessions)
    checkin = (await session.exec(select(Checkin))).one()
    checkin.expires_at = utcnow() - timedelta(minutes=1)
    checkin.status = CheckinStatus.expired
    await session.commit()
    response = await leader.submit(view, modal_values(world))
    assert response.status_code == 200 and not response.content
    await session.refresh(checkin)
    assert checkin.status == CheckinStatus.answered and checkin.late
    await eventually(lambda: [m for m in sandbox.messages(LEADER) if "marked late" in m["text"]])


async def test_private_answers_never_reach_the_coach(
    world: CoachedLeader, leader: SlackUser, sandbox: SlackSandbox, sessions: Sessions,
) -> None:
    view = await open_modal(leader, sandbox, sessions)
    await leader.submit(view, modal_values(world, private={
        "type": "checkboxes", "selected_options": [{"value": "private"}]}))
    await deliver(sessions, sandbox)
    parent, posted = sandbox.messages(COACH)
    assert posted["thread_ts"] == parent["ts"]
    text = json.dumps(posted)
    assert "Letting go" not in text and "Handed the report" not in text
    assert "kept private" in text


async def test_someone_elses_checkin_cannot_be_opened(
    world: CoachedLeader, stranger: SlackUser, sandbox: SlackSandbox, sessions: Sessions,
) -> None:
    await sweep_and_deliver(sessions, sandbox)
    dm = invitation(sandbox, LEADER)
    sandbox.clear_calls()
    await stranger.interact({
        "type": "block_actions", "container": {"type": "message", "channel_id": "D0X",
                                                "message_ts": dm["ts"]},
        "actions": [{"action_id": blocks.START, "type": "button", "block_id": "b",
                     "value": button_value(dm, blocks.START), "action_ts": "1.0"}],
    })
    said = await eventually(lambda: sandbox.calls("chat.postEphemeral"))
    assert "not found" in said[0].args["text"]
    assert not sandbox.calls("views.open")


async def test_skip_and_snooze_from_the_invitation(
    world: CoachedLeader, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession,
    sessions: Sessions,
) -> None:
    await sweep_and_deliver(sessions, sandbox)
    dm = invitation(sandbox, LEADER)
    await press(leader, sandbox, dm, blocks.SNOOZE_HOUR)
    await eventually(lambda: [m for m in sandbox.messages(LEADER) if "Snoozed" in m["text"]])
    checkin = (await session.exec(select(Checkin))).one()
    assert checkin.snoozed_until is not None
    assert checkin.snoozed_until - utcnow() > timedelta(minutes=55)
    await press(leader, sandbox, dm, blocks.SKIP)
    await eventually(lambda: [m for m in sandbox.messages(LEADER) if "Skipped" in m["text"]])
    await session.refresh(checkin)
    assert checkin.status == CheckinStatus.skipped
    rows = (await session.exec(select(Delivery).order_by(col(Delivery.id)))).all()
    assert [r.state for r in rows] == [DeliveryState.sent]


async def test_other_direct_messages_are_acknowledged_and_ignored(
    world: CoachedLeader, leader: SlackUser, sandbox: SlackSandbox,
) -> None:
    channel = sandbox.dm_channel(LEADER)
    for event in (
        {"type": "message", "channel": channel, "channel_type": "im", "text": "hello",
         "ts": "1.000001"},
        {"type": "message", "channel": channel, "channel_type": "im", "text": "in a thread",
         "ts": "1.000003", "thread_ts": "1.000002"},
        {"type": "message", "subtype": "message_changed", "channel": channel,
         "channel_type": "im", "ts": "1.000004"},
    ):
        response = await leader.event(event)
        assert response.status_code == 200
    assert not sandbox.calls("chat.postMessage")


async def test_pause_until_a_date_from_the_invitation(
    world: CoachedLeader, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession,
    sessions: Sessions,
) -> None:
    await sweep_and_deliver(sessions, sandbox)
    sandbox.clear_calls()
    await press(leader, sandbox, invitation(sandbox, LEADER), blocks.PAUSE)
    opened = await eventually(lambda: sandbox.calls("views.open"))
    view = opened[-1].args["view"]
    assert view["callback_id"] == blocks.PAUSE_MODAL
    today = utcnow().astimezone(ZoneInfo("America/New_York")).date()
    refused = await leader.submit(view, {"until": date_input(today.isoformat())})
    assert "after today" in json.dumps(refused.json()["errors"])
    until = today + timedelta(days=10)
    accepted = await leader.submit(view, {"until": date_input(until.isoformat())})
    assert accepted.status_code == 200 and not accepted.content
    enrollment = (await session.exec(select(Enrollment).where(
        Enrollment.member_id == world.leader.id))).one()
    assert enrollment.status == EnrollmentStatus.paused and enrollment.paused_until == until
