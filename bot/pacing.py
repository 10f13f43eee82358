"""Pacing for Slack sends: a workspace token bucket, per-channel spacing, and 429 pauses.

Every primitive takes a clock (monotonic seconds) and a sleep function so tests can run
them on a fake clock. Waiting is reservation-based: a caller books its slot before it
sleeps, so concurrent callers line up without a lock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# The channel table is pruned of idle channels once it grows past this many entries.
_CHANNEL_TABLE_PRUNE_AT = 1024


class TokenBucket:
    """`rate` tokens per second, holding at most `burst` of them."""

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        return now

    def available_in(self) -> float:
        """Seconds until a token is free (0.0 if one is free now); takes nothing."""
        self._refill()
        return max(0.0, (1.0 - self._tokens) / self.rate)

    def reserve(self) -> float:
        """Take the next token, possibly one not yet refilled; return seconds until it is."""
        self._refill()
        # Tokens may go negative: the debt is the queue of callers already waiting.
        self._tokens -= 1.0
        return max(0.0, -self._tokens / self.rate)

    async def acquire(self) -> None:
        """Wait until a token is ours."""
        delay = self.reserve()
        if delay > 0:
            await self._sleep(delay)


class ChannelPacer:
    """Keeps at least `interval` seconds between two sends to the same channel."""

    def __init__(
        self,
        *,
        interval: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if interval < 0:
            raise ValueError("interval must not be negative")
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next_free: dict[str, float] = {}

    def reserve(self, channel: str) -> float:
        """Book the channel's next slot; return seconds until it comes."""
        now = self._clock()
        slot = max(now, self._next_free.get(channel, now))
        self._next_free[channel] = slot + self.interval
        if len(self._next_free) > _CHANNEL_TABLE_PRUNE_AT:
            self._prune(now)
        return slot - now

    def _prune(self, now: float) -> None:
        self._next_free = {ch: at for ch, at in self._next_free.items() if at > now}

    async def acquire(self, channel: str) -> None:
        """Wait for the channel's next slot."""
        delay = self.reserve(channel)
        if delay > 0:
            await self._sleep(delay)


class Pause:
    """A "nothing goes out before" deadline, set from a 429's Retry-After."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._until = float("-inf")

    def pause_until(self, deadline: float) -> None:
        """Hold everything until the clock reads `deadline`; never shortens a pause."""
        self._until = max(self._until, deadline)

    def pause_for(self, seconds: float) -> None:
        """Hold everything for `seconds` from now."""
        self.pause_until(self._clock() + seconds)

    def remaining(self) -> float:
        """Seconds left in the pause (0.0 when not paused)."""
        return max(0.0, self._until - self._clock())

    async def wait(self) -> None:
        """Return once no pause is in force."""
        # Loop: the pause may be extended by another 429 while we sleep.
        while (remaining := self.remaining()) > 0:
            await self._sleep(remaining)


class WorkspacePacer:
    """Everything one workspace's sends must respect: 429 pause, rate, per-channel spacing."""

    def __init__(
        self,
        *,
        rate: float = 50.0,
        burst: int = 50,
        channel_interval: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._sleep = sleep
        self.bucket = TokenBucket(rate=rate, burst=burst, clock=clock, sleep=sleep)
        self.channels = ChannelPacer(interval=channel_interval, clock=clock, sleep=sleep)
        self.pause = Pause(clock=clock, sleep=sleep)

    async def acquire(self, *, channel: str | None) -> None:
        """Wait until a call may go out; one posting to `channel` also waits for its slot."""
        await self.pause.wait()
        delay = self.bucket.reserve()
        if channel is not None:
            delay = max(delay, self.channels.reserve(channel))
        if delay > 0:
            await self._sleep(delay)
        # A 429 seen by another sender while we waited pauses us too.
        await self.pause.wait()

    def retry_after(self, seconds: float) -> None:
        """Honour a 429: hold the whole workspace for `seconds`."""
        self.pause.pause_for(seconds)
