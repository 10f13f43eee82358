"""Background work: the delivery worker (and the scheduler), in `worker` or inside `serve`."""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import broadcast as broadcast_blocks
from bot.blocks import checkin as checkin_blocks
from bot.blocks import circle as circle_blocks
from bot.blocks import nudge as nudge_blocks
from bot.circle_dm import CircleGroupDMs
from bot.messenger import SlackMessenger, slack_client
from bot.pacing import WorkspacePacer
from bot.render import Renderers, default_renderers
from bot.worker import DeliveryWorker
from services.broadcasts.jobs import broadcast_tick
from services.checkins.jobs import checkin_ticks
from services.circles.jobs import circles_tick
from services.clock import SystemClock
from services.config import Settings
from services.llm import NudgeDrafter, OpenAIDrafter, create_llm_drafter
from services.nudges.jobs import leaders_at_once, nudge_tick
from services.scheduler import CoachbotScheduler, Tick, create_scheduler

log = logging.getLogger("coachbot.worker")


@contextmanager
def startup_objects_frozen() -> Iterator[None]:
    """Keep what starting allocated (modules, models, compiled statements: about 240,000
    objects) out of the garbage collector's full collections while running.

    A full collection over them stops the event loop for about 200 ms on the development
    machine, the longest pause an ack would otherwise see. They are handed back on stop
    (with whatever garbage starting left, which the next collection then frees).
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def all_renderers() -> Renderers:
    """Every intent kind the bot can send, rendered at send time."""
    renderers = default_renderers()
    for surface in (checkin_blocks, circle_blocks, nudge_blocks, broadcast_blocks):
        surface.register(renderers)
    return renderers


def all_ticks(settings: Settings, *, drafter: NudgeDrafter | None) -> list[Tick]:
    """Every domain's periodic work, run by the one-minute sweep."""
    return [
        *checkin_ticks(),  # the sweep remembers settled zones between ticks
        circles_tick,
        broadcast_tick,
        functools.partial(nudge_tick, drafter=drafter,
                          parallel=leaders_at_once(settings.llm_concurrency)),
    ]


class BackgroundWork:
    """Runs delivery (and the scheduler) for one Slack workspace token."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        token: str,
        api_url: str,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions = sessions
        self.token = token
        self.api_url = api_url
        self.delivery: DeliveryWorker | None = None
        self.scheduler: CoachbotScheduler | None = None
        self.drafter: OpenAIDrafter | None = None
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Start sending what the outbox holds."""
        settings = self.settings
        self._http = aiohttp.ClientSession()
        client = slack_client(token=self.token, base_url=self.api_url, session=self._http)
        messenger = SlackMessenger(
            client=client,
            renderers=all_renderers(),
            sessions=self.sessions,
            pacer=WorkspacePacer(
                rate=settings.slack_rate_per_second,
                burst=settings.slack_burst,
                channel_interval=settings.slack_channel_interval,
            ),
            call_timeout=settings.slack_timeout_seconds,
        )
        # Circle intros go to group DMs that Slack opens first; everything else passes through.
        group_dms = CircleGroupDMs(
            inner=messenger,
            client=client,
            sessions=self.sessions,
            call_timeout=settings.slack_timeout_seconds,
        )
        self.delivery = DeliveryWorker(
            sessions=self.sessions, messenger=group_dms, concurrency=settings.delivery_concurrency
        )
        await self.delivery.start()
        log.info("delivery worker %s started", self.delivery.worker_id)
        # None without a configured model: nudges then come from the offline drafter.
        self.drafter = create_llm_drafter(settings=settings, concurrency=settings.llm_concurrency)
        self.scheduler = create_scheduler(
            sessions=self.sessions,
            engine=self.engine,
            ticks=all_ticks(settings, drafter=self.drafter),
            clock=SystemClock(),
        )
        await self.scheduler.start()

    async def stop(self) -> None:
        """Let sends and sweeps under way finish, then stop and close the connections."""
        try:
            if self.scheduler is not None:
                await self.scheduler.stop()
            if self.delivery is not None:
                await self.delivery.stop()
        finally:
            # The scheduler has stopped (or failed to): no sweep is drafting any more.
            drafter, self.drafter = self.drafter, None
            http, self._http = self._http, None
            if drafter is not None:
                await drafter.aclose()
            if http is not None:
                await http.close()
