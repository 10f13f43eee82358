"""Slack-like rate limits enforced by the sandbox.

Slack allows about one chat.postMessage per second per channel (with short bursts) and
limits each method per workspace. A call over either limit is refused, not queued: the
caller gets a 429 with Retry-After and must come back.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from bot.pacing import Clock, TokenBucket

CHANNEL_PACED_METHODS = frozenset({"chat.postMessage"})


@dataclass(frozen=True)
class RateLimits:
    """Per-channel limits for chat.postMessage and per-method limits for the workspace."""

    channel_rate: float = 1.0
    channel_burst: int = 3
    workspace_rate: float = 50.0
    workspace_burst: int = 50


class RateLimiter:
    """Admits or refuses calls; refused calls take no token."""

    def __init__(self, limits: RateLimits, *, clock: Clock = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._methods: dict[str, TokenBucket] = {}
        self._channels: dict[str, TokenBucket] = {}

    def admit(self, *, method: str, channel: str | None) -> int:
        """0 if the call may go ahead (and it is counted), else the Retry-After in seconds."""
        buckets = [self._bucket(self._methods, method, self.limits.workspace_rate,
                                self.limits.workspace_burst)]
        if channel is not None and method in CHANNEL_PACED_METHODS:
            buckets.append(self._bucket(self._channels, channel, self.limits.channel_rate,
                                        self.limits.channel_burst))
        wait = max(bucket.available_in() for bucket in buckets)
        if wait > 0:
            # Slack sends whole seconds; never 0, or a client would retry at once.
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.reserve()
        return 0

    def _bucket(self, table: dict[str, TokenBucket], key: str, rate: float,
                burst: int) -> TokenBucket:
        if key not in table:
            table[key] = TokenBucket(rate=rate, burst=burst, clock=self._clock)
        return table[key]
