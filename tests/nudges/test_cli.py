"""`coachbot nudges draft --member ID [--send]`: print the draft and its source; send or
queue it per the cohort's mode."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.nudges.cli import draft_command
from services.people.models import NudgeMode
from tests.llm.conftest import MakeDrafter
from tests.llm.openai_stand_in import MODEL, OpenAIStandIn, draft_answer, status
from tests.nudges.conftest import deliveries, nudges_of
from tests.nudges.factories import NOW, make_program

Sessions = async_sessionmaker[AsyncSession]


async def run(sessions: Sessions, member_id: int, *, send: bool = False,
              drafter: object = None) -> tuple[int, str]:
    out = io.StringIO()
    code = await draft_command(sessions=sessions, member_id=member_id, send=send,
                               drafter=drafter, now=NOW, out=out)  # type: ignore[arg-type]
    return code, out.getvalue()


async def test_draft_prints_the_offline_draft_and_stores_nothing(
    session: AsyncSession, sessions: Sessions
) -> None:
    program = await make_program(session)
    await session.commit()
    code, out = await run(sessions, program.leader.id or 0)
    assert code == 0
    assert "Source: offline" in out and "Hi Maya" in out and "Next step:" in out
    assert "Outcome: offline" in out
    assert f"Cites: goal {program.goal.id}, milestone {program.milestone.id}" in out
    assert "Not sent" in out
    assert await nudges_of(sessions, program.leader.id or 0) == []


async def test_draft_with_the_model_shows_its_records(
    session: AsyncSession, sessions: Sessions, stand_in: OpenAIStandIn, make_drafter: MakeDrafter
) -> None:
    program = await make_program(session)
    await session.commit()
    stand_in.script(draft_answer(goal_id=program.goal.id or 0,
                                 text="Hi Maya, one page of hand-over notes today?"))
    code, out = await run(sessions, program.leader.id or 0, drafter=make_drafter())
    assert code == 0
    assert "Source: llm (model stand-in-model" in out and "Outcome: ok" in out
    assert "Attempt 1: stand-in-model ok" in out and "tokens in" in out
    assert "Hi Maya, one page of hand-over notes today?" in out


async def test_send_records_why_the_model_was_not_used(
    session: AsyncSession, sessions: Sessions, stand_in: OpenAIStandIn, make_drafter: MakeDrafter
) -> None:
    program = await make_program(session)
    await session.commit()
    stand_in.script(status(429, "slow down", error_type="rate_limit_exceeded"), status(500))
    code, out = await run(sessions, program.leader.id or 0, send=True, drafter=make_drafter())
    assert code == 0 and "Outcome: fallback_server_error" in out
    [nudge] = await nudges_of(sessions, program.leader.id or 0)
    assert (nudge.source, nudge.outcome, nudge.llm_model) == (
        "offline", "fallback_server_error", MODEL)
    assert nudge.attempt_log is not None
    assert [a["outcome"] for a in nudge.attempt_log] == ["rate_limited", "server_error", "ok"]


async def test_send_follows_the_cohort_mode(session: AsyncSession, sessions: Sessions) -> None:
    auto = await make_program(session)
    review = await make_program(session, mode=NudgeMode.coach_review)
    held = await make_program(session, mode=NudgeMode.coach_review, with_coach=False)
    await session.commit()
    code, out = await run(sessions, auto.leader.id or 0, send=True)
    assert code == 0 and "Sent: nudge" in out
    code, out = await run(sessions, review.leader.id or 0, send=True)
    assert code == 0 and f"waits for review by coach (member {review.coach.id})" in out
    code, out = await run(sessions, held.leader.id or 0, send=True)
    assert code == 0 and "Held" in out
    kinds = [(d.kind, d.member_id) for d in await deliveries(sessions)]
    assert kinds == [("nudge", auto.leader.id), ("nudge_review", review.coach.id)]
    [nudge] = await nudges_of(sessions, auto.leader.id or 0)
    assert nudge.dedupe_key.startswith(f"nudge:{auto.leader.id}:manual:")


async def test_refusals(session: AsyncSession, sessions: Sessions) -> None:
    off = await make_program(session, mode=NudgeMode.off)
    await session.commit()
    code, out = await run(sessions, 999_999)
    assert code == 1 and "not found" in out
    code, out = await run(sessions, off.leader.id or 0, send=True)
    assert code == 1 and "nudges on" in out
    code, out = await run(sessions, off.coach.id or 0)
    assert code == 1


async def test_as_a_command(database_url: str, session: AsyncSession) -> None:
    program = await make_program(session)
    await session.commit()
    env = {**os.environ, "COACHBOT_DATABASE_URL": database_url, "COACHBOT_ENV": "test"}
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        env.pop(name, None)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.nudges.cli", "draft", "--member", str(program.leader.id)],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Source: offline" in done.stdout and "Maya" in done.stdout
