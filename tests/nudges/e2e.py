"""Helpers for the end-to-end nudge tests: Maya alone is due, and what reaches Slack."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks.nudge import render_nudge, render_review
from bot.render import RenderRequest
from services.delivery.models import Delivery
from services.people.models import NudgeMode
from tests.factories.plans import make_progress
from tests.nudges.factories import NOW, Program, make_checkin, make_program

# Omar lives in Auckland: 22:45 there at NOW, quiet hours, so only Maya is due.
AWAY = "Pacific/Auckland"
OMAR_NOTE = "Omar's secret: the Lisbon team will be cut by half"
OMAR_ANSWER = "Omar's answer: I am interviewing elsewhere"


async def maya_alone(session: AsyncSession, *, mode: NudgeMode = NudgeMode.auto) -> Program:
    """Maya due now, with a progress note and a check-in answer; Omar's rows beside hers."""
    program = await make_program(session, mode=mode, other_timezone=AWAY)
    await make_progress(session, program.goal, note="Asked Priya to pair on the report",
                        confidence=3, created_at=NOW.replace(day=9))
    await make_progress(session, program.other_goal, note=OMAR_NOTE, created_at=NOW.replace(day=9))
    monday = NOW.replace(day=10)
    await make_checkin(session, program.leader, program.cohort, local_date=monday.date(),
                       answers={"q1": "Too many meetings this week"}, answered_at=monday)
    await make_checkin(session, program.other, program.cohort, local_date=monday.date(),
                       answers={"q1": OMAR_ANSWER}, answered_at=monday)
    await session.commit()
    return program


def omar_strings(program: Program) -> list[str]:
    """Everything of Omar's that must never reach a model or Maya's Slack."""
    return [program.other_goal.title, "Draft the new org chart", OMAR_NOTE, OMAR_ANSWER,
            "Omar"]


async def outbox(sessions: async_sessionmaker[AsyncSession]) -> list[Delivery]:
    async with sessions() as session:
        return list((await session.exec(select(Delivery).order_by(Delivery.id))).all())  # type: ignore[arg-type]


async def rendered(
    sessions: async_sessionmaker[AsyncSession], delivery: Delivery
) -> dict[str, Any]:
    """The Slack message this outbox row becomes at send time."""
    render = render_nudge if delivery.kind == "nudge" else render_review
    async with sessions() as session:
        return await render(RenderRequest(
            kind=delivery.kind, intent=delivery.intent, workspace_id=delivery.workspace_id,
            member_id=delivery.member_id, delivery_key=delivery.delivery_key, session=session,
        ))


def as_text(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False)
