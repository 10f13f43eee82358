"""A leader with a coach and a plan, a check-in schedule due now, and a way to deliver
its invitation through the real outbox worker to the Slack stand-in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import checkin as checkin_blocks
from bot.render import default_renderers
from bot.sandbox import SlackSandbox
from services.checkins.jobs import checkin_sweep_tick
from services.checkins.models import CheckinSchedule
from services.db import utcnow
from services.delivery.models import Delivery
from services.people.models import Cohort, EnrollmentRole, Member
from services.plans.models import Goal, Milestone, Visibility
from tests.checkins.factories import make_leader, make_schedule
from tests.delivery.world import make_messenger, run_until_quiet, worker
from tests.factories.people import assign, make_cohort, make_workspace
from tests.factories.plans import make_goal, make_milestone
from tests.slack.conftest import COACH, LEADER, TEAM


@dataclass
class CoachedLeader:
    cohort: Cohort
    leader: Member
    coach: Member
    shared_goal: Goal
    shared_milestone: Milestone
    private_goal: Goal
    private_milestone: Milestone
    schedule: CheckinSchedule


async def coached_leader(session: AsyncSession) -> CoachedLeader:
    workspace = await make_workspace(session, team_id=TEAM)
    cohort = await make_cohort(session, workspace, program="Leadership Lab")
    leader = await make_leader(session, workspace, cohort, timezone="America/New_York",
                               name="Lee Leader")
    leader.slack_user_id = LEADER
    coach = await make_leader(session, workspace, cohort, timezone="Europe/London",
                              name="Cam Coach", role=EnrollmentRole.coach)
    coach.slack_user_id = COACH
    await assign(session, cohort, coach, leader)
    shared = await make_goal(session, leader, title="Delegate <more> & better")
    shared_milestone = await make_milestone(session, shared, title="Hand off the report")
    private = await make_goal(session, leader, title="Salary talk", visibility=Visibility.private)
    private_milestone = await make_milestone(session, private, title="Prepare numbers")
    # Due five minutes ago in New York, open for a day.
    due = utcnow().astimezone(ZoneInfo("America/New_York")) - timedelta(minutes=5)
    schedule = await make_schedule(
        session, cohort, at=due.time().replace(microsecond=0), start=due.date(),
        reminder_after_minutes=60, name="Weekly check-in")
    await session.commit()
    return CoachedLeader(cohort, leader, coach, shared, shared_milestone, private,
                         private_milestone, schedule)


async def sweep_and_deliver(sessions: async_sessionmaker[AsyncSession],
                            sandbox: SlackSandbox) -> None:
    """Run the sweep now, then the delivery worker until the outbox is empty."""
    await checkin_sweep_tick(sessions=sessions, now=utcnow())
    await deliver(sessions, sandbox)


async def deliver(sessions: async_sessionmaker[AsyncSession], sandbox: SlackSandbox, *,
                  call_timeout: float = 2.0) -> None:
    """Run a delivery worker with the check-in renderers until the outbox is empty."""
    renderers = default_renderers()
    checkin_blocks.register(renderers)
    async with aiohttp.ClientSession() as http:
        messenger = make_messenger(sandbox, http, sessions, renderers=renderers,
                                   call_timeout=call_timeout)
        await run_until_quiet(sessions, worker(sessions, messenger))


async def queued(sessions: async_sessionmaker[AsyncSession], kind: str) -> int:
    """How many deliveries of this kind the outbox holds, in any state."""
    async with sessions() as session:
        return len((await session.exec(select(Delivery).where(Delivery.kind == kind))).all())


async def deliver_once_queued(sessions: async_sessionmaker[AsyncSession],
                              sandbox: SlackSandbox, kind: str, count: int) -> None:
    """Wait for a listener's work after the ack to queue `count` deliveries of `kind`, then
    deliver everything."""
    for _ in range(250):
        if await queued(sessions, kind) >= count:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError(f"{count} {kind} deliveries were never queued")
    await deliver(sessions, sandbox)


def invitation(sandbox: SlackSandbox, user_id: str) -> dict[str, Any]:
    """The latest check-in invitation in this person's DM."""
    found = [m for m in sandbox.messages(user_id)
             if any(b.get("block_id", "").startswith("checkin:") for b in m.get("blocks", []))]
    assert found, "no check-in invitation was sent"
    return found[-1]


def button_value(message: dict[str, Any], action_id: str) -> str:
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button")
