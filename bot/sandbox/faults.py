"""Faults the sandbox can inject: HTTP errors, 429s, Slack errors and latency.

Faults come from a scripted queue per method (consumed one call at a time) or from
random rules drawn with a seeded generator, so a failing test replays exactly.
The method "*" matches every method.
"""

from __future__ import annotations

import random
from collections import defaultdict, deque
from dataclasses import dataclass

ANY_METHOD = "*"


@dataclass(frozen=True)
class Fault:
    """What to do to one call: wait `delay` seconds, then answer with `status` and `error`,
    or, with neither set, answer normally (latency only)."""

    status: int = 200
    error: str | None = None
    delay: float = 0.0
    retry_after: int | None = None

    @classmethod
    def http_error(cls, status: int = 500) -> Fault:
        """An HTTP 5xx with a non-JSON body, as a failing Slack front end sends."""
        return cls(status=status)

    @classmethod
    def ratelimited(cls, retry_after: int = 1) -> Fault:
        """A 429 with Retry-After, whatever the actual pace."""
        return cls(status=429, error="ratelimited", retry_after=retry_after)

    @classmethod
    def slack_error(cls, error: str) -> Fault:
        """HTTP 200 with {"ok": false, "error": error}."""
        return cls(error=error)

    @classmethod
    def latency(cls, seconds: float) -> Fault:
        """A slow but otherwise normal answer."""
        return cls(delay=seconds)

    @property
    def answers(self) -> bool:
        """Whether the fault replaces the real answer (rather than only delaying it)."""
        return self.status != 200 or self.error is not None


@dataclass(frozen=True)
class _RandomRule:
    probability: float
    fault: Fault


class FaultPlan:
    """The faults still to inject, per method."""

    def __init__(self, *, seed: int = 0) -> None:
        self._random = random.Random(seed)
        self._scripted: defaultdict[str, deque[Fault]] = defaultdict(deque)
        self._rules: defaultdict[str, list[_RandomRule]] = defaultdict(list)

    def script(self, method: str, *faults: Fault) -> None:
        """Inject these faults into the next calls of `method`, one per call, in order."""
        self._scripted[method].extend(faults)

    def randomly(self, method: str, *, probability: float, fault: Fault) -> None:
        """Inject `fault` into each call of `method` with this probability."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        self._rules[method].append(_RandomRule(probability, fault))

    def clear(self) -> None:
        """Forget every scripted fault and random rule."""
        self._scripted.clear()
        self._rules.clear()

    def pending(self, method: str) -> int:
        """How many scripted faults are still queued for `method`."""
        return len(self._scripted.get(method, ()))

    def next_fault(self, method: str) -> Fault | None:
        """The fault for this call of `method`, if any."""
        for key in (method, ANY_METHOD):
            queue = self._scripted.get(key)
            if queue:
                return queue.popleft()
        for key in (method, ANY_METHOD):
            for rule in self._rules.get(key, ()):
                if self._random.random() < rule.probability:
                    return rule.fault
        return None
