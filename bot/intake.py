"""Slack requests whose answer is an empty 200: acked at the door, handed to Bolt in turn.

A click (`block_actions`) or an Events API callback needs nothing in its answer, so the
transport answers it as soon as the signature checks out and queues the request. A few
dispatchers hand queued requests to Bolt, oldest first, each waiting while the work that
earlier requests started fills the gate: under a burst the queue, not the event loop,
holds the requests, and the acks of new ones never wait behind Bolt's dispatch of old ones.

Everything else (slash commands, view submissions, options, URL verification) goes
through Bolt at once, because its answer carries content.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs

from slack_bolt.async_app import AsyncApp, AsyncBoltRequest

from bot.context import InFlight

log = logging.getLogger("coachbot.slack")

# Kinds whose ack is an empty 200, by the `type` of the payload or envelope.
_EMPTY_ACK_INTERACTIONS = frozenset({"block_actions", "view_closed"})
_EMPTY_ACK_ENVELOPES = frozenset({"event_callback"})


def acks_empty(body: bytes) -> bool:
    """True when Slack expects nothing but a 200 for this (verified) request body."""
    try:
        if body.startswith(b"{"):
            return json.loads(body).get("type") in _EMPTY_ACK_ENVELOPES
        if body.startswith(b"payload="):
            payload = parse_qs(body.decode()).get("payload", [""])[0]
            return json.loads(payload).get("type") in _EMPTY_ACK_INTERACTIONS
    except (ValueError, AttributeError):
        return False  # Bolt answers what it cannot read
    return False  # a slash command, or not from Slack at all


@dataclass(frozen=True)
class Queued:
    """One acked request as it came in: Bolt parses it when its turn comes."""

    body: bytes
    headers: dict[str, str | Sequence[str]]
    query: str


class Intake:
    """The queue of acked requests and the dispatchers that hand them to Bolt."""

    def __init__(
        self,
        *,
        app: AsyncApp,
        in_flight: InFlight,
        dispatchers: int = 2,
        capacity: int = 10_000,
    ) -> None:
        self._app = app
        self._in_flight = in_flight
        # A full queue makes new acks wait for room: memory stays bounded under a flood.
        self._queue: asyncio.Queue[Queued] = asyncio.Queue(maxsize=capacity)
        self._tasks = [asyncio.create_task(self._dispatch()) for _ in range(dispatchers)]
        # What Bolt would have answered with an error, by status (404: nobody listens).
        self.refused: Counter[int] = Counter()

    def __len__(self) -> int:
        return self._queue.qsize()

    async def put(self, request: Queued) -> None:
        """Queue an acked request (waits only when the queue is full)."""
        await self._queue.put(request)

    async def settled(self) -> None:
        """Wait until every queued request has been handed to Bolt."""
        await self._queue.join()

    async def close(self, *, within: float) -> bool:
        """Hand every queued request to Bolt (up to `within` seconds), then stop."""
        try:
            await asyncio.wait_for(self._queue.join(), within)
            finished = True
        except TimeoutError:
            log.warning("stopping with %d acked Slack requests not handled", len(self))
            finished = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        return finished

    async def _dispatch(self) -> None:
        while True:
            queued = await self._queue.get()
            try:
                await self._in_flight.room()
                request = AsyncBoltRequest(
                    body=queued.body.decode(), query=queued.query, headers=queued.headers
                )
                response = await self._app.async_dispatch(request)
                if response.status >= 400:
                    self.refused[response.status] += 1
                    log.warning("acked Slack request answered %d by Bolt", response.status)
                # Let the listener Bolt started reach its first unit of work, so the
                # next turn's room() counts it.
                await asyncio.sleep(0)
            except Exception:  # one bad request must not stop the intake
                log.exception("could not dispatch an acked Slack request")
            finally:
                self._queue.task_done()
