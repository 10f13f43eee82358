"""The delivery loop: claim due outbox rows in batches and send them concurrently.

Each row is sent and recorded on its own (its own task, its own transaction), so one
row's failure never touches another. A row whose outcome cannot be recorded stays in
`sending`; after `stale_after` a worker takes it again and reconciles before posting.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messenger import Deferred, Failed, Outcome, Sent
from services.db import transaction, utcnow
from services.delivery import service
from services.delivery.models import Delivery
from services.delivery.service import RetryPolicy

log = logging.getLogger(__name__)

# A send must be over well before its claim can be taken by another worker.
_LEASE_SHARE = 0.8


class Messenger(Protocol):
    """Sends one claimed row; SlackMessenger is the real one."""

    async def deliver(
        self, delivery: Delivery, *, user_id: str | None = None, budget: float | None = None
    ) -> Outcome: ...


@dataclass
class DeliveryStats:
    """What this worker has done since it started."""

    claimed: int = 0
    sent: int = 0
    reconciled: int = 0
    retried: int = 0
    deferred: int = 0
    dead: int = 0
    lost_claims: int = 0


def new_worker_id() -> str:
    """host:pid:random, unique per worker and readable in `claimed_by`."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DeliveryWorker:
    """Claims and sends outbox rows until stopped; use start()/stop() or run(stop)."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        messenger: Messenger,
        worker_id: str | None = None,
        concurrency: int = 50,
        batch_size: int = 100,
        idle_interval: float = 0.5,
        stale_after: timedelta = timedelta(minutes=5),
        policy: RetryPolicy | None = None,
        shutdown_grace: float = 10.0,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        if concurrency < 1 or batch_size < 1:
            raise ValueError("concurrency and batch_size must be at least 1")
        self.sessions = sessions
        self.messenger = messenger
        self.worker_id = worker_id or new_worker_id()
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.idle_interval = idle_interval
        self.stale_after = stale_after
        self.policy = policy or RetryPolicy()
        self.shutdown_grace = shutdown_grace
        self.stats = DeliveryStats()
        self._clock = clock
        self._rng = rng or random.Random()
        # Claim again once a quarter of the slots are free, not after every single send.
        self._refill_at = max(1, min(batch_size, concurrency // 4))
        self._in_flight: set[asyncio.Task[None]] = set()
        self._signal = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # Lifecycle

    async def start(self) -> None:
        """Run the loop in the background until stop()."""
        if self._task is not None:
            raise RuntimeError("the delivery worker is already running")
        self._stop.clear()
        self._task = asyncio.create_task(self.run(self._stop), name=f"delivery {self.worker_id}")

    async def stop(self) -> None:
        """Stop claiming, give the sends under way `shutdown_grace` seconds, and return."""
        self._stop.set()
        self._signal.set()
        if self._task is not None:
            task, self._task = self._task, None
            await task

    def wake(self) -> None:
        """Look for due rows now rather than after the idle interval (e.g. after enqueue)."""
        self._signal.set()

    @property
    def in_flight(self) -> int:
        """Rows being sent right now."""
        return len(self._in_flight)

    # The loop

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and send until `stop` is set, then let the sends under way finish."""
        watcher = asyncio.create_task(self._relay(stop))
        try:
            while not stop.is_set():
                # Cleared before claiming, so a slot freed meanwhile is not missed.
                self._signal.clear()
                timeout = await self._claim_and_spawn()
                if timeout == 0.0 or stop.is_set():
                    continue
                try:
                    async with asyncio.timeout(timeout):
                        await self._signal.wait()
                except TimeoutError:
                    pass
        finally:
            watcher.cancel()
            await self._drain()

    async def _drain(self) -> None:
        if not self._in_flight:
            return
        _, pending = await asyncio.wait(set(self._in_flight), timeout=self.shutdown_grace)
        for task in pending:
            # Its row stays in `sending`; the next claim after stale_after reconciles it.
            task.cancel()
        if pending:
            log.warning("stopped %d sends under way; they will be reconciled", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)

    async def _relay(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._signal.set()

    async def _claim_and_spawn(self) -> float | None:
        """Claim what fits; return how long to wait before looking again (None: until a
        slot frees up, 0.0: at once)."""
        free = self.concurrency - len(self._in_flight)
        if free < self._refill_at:
            return None
        wanted = min(free, self.batch_size)
        try:
            claimed, recipients = await self._claim(wanted)
        except Exception:
            log.exception("claiming deliveries failed; trying again shortly")
            return self.idle_interval
        for delivery in claimed:
            user_id = recipients.get(delivery.member_id) if delivery.member_id else None
            task = asyncio.create_task(self._process(delivery, user_id))
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        self.stats.claimed += len(claimed)
        return 0.0 if len(claimed) == wanted else self.idle_interval

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if self.concurrency - len(self._in_flight) >= self._refill_at:
            self._signal.set()

    async def _claim(self, limit: int) -> tuple[list[Delivery], dict[int, str]]:
        async with transaction(self.sessions) as session:
            claimed = await service.claim_due(session=session, now=self._clock(), limit=limit,
                                              worker_id=self.worker_id,
                                              stale_after=self.stale_after)
            members = {d.member_id for d in claimed if d.member_id is not None}
            recipients = await service.slack_user_ids(session=session, member_ids=members)
        return claimed, recipients

    # One row

    async def _process(self, delivery: Delivery, user_id: str | None) -> None:
        held = self._clock() - (delivery.claimed_at or self._clock())
        budget = self.stale_after.total_seconds() * _LEASE_SHARE - held.total_seconds()
        try:
            outcome = await self.messenger.deliver(delivery, user_id=user_id, budget=budget)
        except Exception as error:
            log.exception("delivery %s: unexpected error while sending", delivery.delivery_key)
            outcome = Failed(f"internal error: {type(error).__name__}", permanent=False)
        try:
            async with transaction(self.sessions) as session:
                recorded = await self._record(session, delivery, outcome)
        except Exception:
            log.exception("delivery %s: could not record %s; it will be reclaimed and "
                          "reconciled", delivery.delivery_key, type(outcome).__name__)
            return
        if not recorded:
            self.stats.lost_claims += 1
            log.warning("delivery %s: claim lost before its outcome was recorded",
                        delivery.delivery_key)

    async def _record(self, session: AsyncSession, delivery: Delivery, outcome: Outcome) -> bool:
        now = self._clock()
        if isinstance(outcome, Sent):
            self.stats.sent += 1
            self.stats.reconciled += int(outcome.reconciled)
            return await service.mark_sent(session=session, delivery=delivery,
                                           channel=outcome.channel, ts=outcome.ts, now=now)
        if isinstance(outcome, Deferred):
            self.stats.deferred += 1
            return await service.mark_retry(
                session=session, delivery=delivery, error=outcome.error,
                retry_at=now + timedelta(seconds=outcome.retry_after), count_attempt=False)
        backoff = None if outcome.permanent else self.policy.next_attempt_at(
            attempts=delivery.attempts + 1, now=now, rng=self._rng)
        if backoff is None:
            self.stats.dead += 1
            log.warning("delivery %s is dead: %s", delivery.delivery_key, outcome.error)
            return await service.mark_dead(session=session, delivery=delivery,
                                           error=outcome.error)
        self.stats.retried += 1
        retry_at = max(backoff, now + timedelta(seconds=outcome.settle))
        return await service.mark_retry(session=session, delivery=delivery,
                                        error=outcome.error, retry_at=retry_at,
                                        channel=outcome.channel)


async def run_delivery(
    *,
    sessions: async_sessionmaker[AsyncSession],
    messenger: Messenger,
    stop: asyncio.Event,
    worker_id: str | None = None,
    concurrency: int = 50,
    batch_size: int = 100,
    idle_interval: float = 0.5,
    stale_after: timedelta = timedelta(minutes=5),
    policy: RetryPolicy | None = None,
    shutdown_grace: float = 10.0,
) -> DeliveryStats:
    """Run one delivery worker until `stop` is set; returns what it did."""
    worker = DeliveryWorker(sessions=sessions, messenger=messenger, worker_id=worker_id,
                            concurrency=concurrency, batch_size=batch_size,
                            idle_interval=idle_interval, stale_after=stale_after, policy=policy,
                            shutdown_grace=shutdown_grace)
    await worker.run(stop)
    return worker.stats
