"""A scripted terminal against the whole app, on the test database with the demo seeded."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox_client import run_sandbox_async
from services.config import Settings
from services.demo import DemoSummary, seed_demo

Play = Callable[..., Awaitable[str]]


@pytest.fixture
async def demo(session: AsyncSession) -> DemoSummary:
    summary = await seed_demo(session=session)
    await session.commit()
    return summary


@pytest.fixture
def play(settings: Settings, sessions: object) -> Play:
    """Type the lines into `coachbot sandbox` and return everything it printed."""

    async def typed(*lines: str, user_id: str = "UDEMOLEAD01", status: int = 0) -> str:
        out = io.StringIO()
        script = io.StringIO("".join(f"{line}\n" for line in lines))
        code = await run_sandbox_async(settings=settings, user_id=user_id, stdin=script, stdout=out)
        printed = out.getvalue()
        assert code == status, printed
        assert "Traceback" not in printed
        return printed

    return typed
