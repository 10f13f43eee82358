"""Fixtures for the LLM layer: a local OpenAI-compatible server and drafters pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from services.config import Settings
from services.llm import OfflineDrafter, OpenAIDrafter, create_llm_drafter
from tests.llm.openai_stand_in import MODEL, OpenAIStandIn

# Short enough to keep the suite fast, long enough for a loaded CI machine to answer.
TEST_TIMEOUT_SECONDS = 0.5

MakeDrafter = Callable[..., OpenAIDrafter]


@pytest.fixture
async def stand_in() -> AsyncIterator[OpenAIStandIn]:
    server = OpenAIStandIn()
    await server.start()
    yield server
    await server.close()


def llm_settings(base_url: str) -> Settings:
    return Settings(
        _env_file=None,
        COACHBOT_ENV="test",
        OPENAI_BASE_URL=base_url,
        OPENAI_API_KEY="sk-coachbot-stand-in",
        COACHBOT_LLM_MODEL=MODEL,
    )


@pytest.fixture
async def make_drafter(stand_in: OpenAIStandIn) -> AsyncIterator[MakeDrafter]:
    """Build real AsyncOpenAI-backed drafters against the stand-in; all closed afterwards."""
    drafters: list[OpenAIDrafter] = []

    def make(
        *, concurrency: int = 4, timeout_seconds: float = TEST_TIMEOUT_SECONDS, max_retries: int = 0
    ) -> OpenAIDrafter:
        drafter = create_llm_drafter(
            settings=llm_settings(stand_in.base_url),
            concurrency=concurrency,
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
        )
        assert drafter is not None
        drafters.append(drafter)
        return drafter

    yield make
    for drafter in drafters:
        await drafter.aclose()


@pytest.fixture
def offline() -> OfflineDrafter:
    return OfflineDrafter()
