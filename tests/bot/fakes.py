"""Fakes for the Slack transport tests: a clock whose sleeps return at once, and the
people seeded in the sandbox."""

from __future__ import annotations

import asyncio

ADA = "U0ADA"
GRACE = "U0GRACE"
ALAN = "U0ALAN"


class FakeClock:
    """Call it for the time; `await clock.sleep(s)` records s and moves time on."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        # Yield, as a real sleep would, so concurrent waiters interleave.
        await asyncio.sleep(0)
