"""The background work's model client: built from the settings, bounded, closed on stop."""

from __future__ import annotations

import asyncio
import functools

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.runtime import BackgroundWork
from services.config import Settings
from services.nudges.jobs import DEFAULT_PARALLEL, leaders_at_once, nudge_tick
from tests.llm.openai_stand_in import MODEL, OpenAIStandIn, delayed, draft_answer
from tests.llm.sample_plans import AT_RISK_GOAL, OVERDUE_MILESTONE, maya_context

# Nothing is sent in these tests: no outbox rows, so the Slack API is never called.
UNUSED_SLACK_API = "http://127.0.0.1:9/api/"


def background_work(
    database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
    **environment: str,
) -> BackgroundWork:
    settings = Settings(_env_file=None, COACHBOT_ENV="test", COACHBOT_DATABASE_URL=database_url,
                        **environment)  # type: ignore[arg-type]
    return BackgroundWork(settings, engine=engine, sessions=sessions, token="xoxb-coachbot-test",
                          api_url=UNUSED_SLACK_API)


async def test_the_drafter_follows_the_concurrency_setting_and_is_closed_on_stop(
    database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
    stand_in: OpenAIStandIn,
) -> None:
    work = background_work(
        database_url, engine, sessions, OPENAI_BASE_URL=stand_in.base_url,
        OPENAI_API_KEY="sk-coachbot-stand-in", COACHBOT_LLM_MODEL=MODEL,
        COACHBOT_LLM_CONCURRENCY="3",
    )
    await work.start()
    try:
        drafter = work.drafter
        assert drafter is not None and not drafter.client.is_closed()
        stand_in.default = delayed(0.05, draft_answer(goal_id=AT_RISK_GOAL,
                                                      milestone_id=OVERDUE_MILESTONE))
        await asyncio.gather(*(drafter.draft(context=maya_context()) for _ in range(9)))
        assert stand_in.max_in_flight == 3
        assert work.scheduler is not None
        sweep = next(t for t in work.scheduler.ticks
                     if isinstance(t, functools.partial) and t.func is nudge_tick)
        assert sweep.keywords == {"drafter": drafter, "parallel": leaders_at_once(3)}
    finally:
        await work.stop()
    assert drafter.client.is_closed()
    assert work.drafter is None


async def test_without_a_model_there_is_no_client_to_close(
    database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
) -> None:
    work = background_work(database_url, engine, sessions)
    await work.start()
    assert work.drafter is None
    await work.stop()


def test_the_sweep_works_on_enough_leaders_to_keep_the_model_busy() -> None:
    assert leaders_at_once(1) == DEFAULT_PARALLEL
    assert leaders_at_once(4) == DEFAULT_PARALLEL
    assert leaders_at_once(64) == 128


def test_the_concurrency_setting_defaults_to_four() -> None:
    assert Settings(_env_file=None).llm_concurrency == 4
