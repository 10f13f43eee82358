"""The Bolt app factory: token or OAuth, our middleware, listeners and error handling."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import listeners
from bot.context import InFlight, user_id_of
from bot.deliveries import HandledDeliveries, RepeatedDelivery
from bot.home import HomeTabs
from bot.members import MemberCache
from bot.middleware import admission
from bot.oauth import oauth_settings
from services.config import Settings
from services.errors import DomainError

log = logging.getLogger("coachbot.slack")


def create_slack_app(
    settings: Settings,
    *,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    signing_secret: str,
    bot_token: str | None,
    in_flight: InFlight,
    http: aiohttp.ClientSession | None = None,
) -> AsyncApp:
    """Build the Bolt app: one workspace with a bot token, or many through OAuth.

    Bolt does not check signatures: the HTTP transport does, once, at the door (a
    request it acked may reach Bolt later than Slack's five minutes), and Socket Mode
    needs none.

    `http` is shared by every Web API call the listeners make, so they reuse its
    connections; without it slack_sdk opens a session (and a connection) per call.
    """
    if settings.slack_client_id and settings.slack_client_secret:
        app = AsyncApp(
            signing_secret=signing_secret,
            request_verification_enabled=False,
            oauth_settings=oauth_settings(settings, engine),
            client=_listener_client(settings, token=None, http=http),
        )
    else:
        app = AsyncApp(
            signing_secret=signing_secret,
            request_verification_enabled=False,
            client=_listener_client(settings, token=bot_token, http=http),
        )

    home_tabs = HomeTabs(sessions=sessions, in_flight=in_flight, tell=tell)

    @app.middleware
    async def add_sessions(context: AsyncBoltContext, next: Any) -> None:
        context["sessions"] = sessions
        context["in_flight"] = in_flight
        context["home_tabs"] = home_tabs
        await next()

    app.middleware(admission(members=MemberCache(), handled=HandledDeliveries()))
    app.error(report_error)
    listeners.register(app)
    return app


def _listener_client(
    settings: Settings, *, token: str | None, http: aiohttp.ClientSession | None
) -> AsyncWebClient:
    """The listeners' Web API client: a call Slack answered 429 waits out Retry-After and
    is made again (twice at most), as Slack did nothing with it; a lost connection is
    retried once, as slack_sdk does by default."""
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        session=http,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


async def report_error(
    error: Exception,
    body: dict[str, Any],
    client: AsyncWebClient,
    response: BoltResponse | None,
) -> BoltResponse | None:
    """Tell the person what went wrong in a short ephemeral message; log the unexpected."""
    if isinstance(error, RepeatedDelivery):
        log.info("ignoring repeated Slack delivery %s", error.key)
        # Before the ack (a modal submitted twice), answer as the first attempt did.
        return None if response is None else BoltResponse(status=200, body="")
    await _tell(error, body, client)
    return None


async def tell(error: Exception, user_id: str, client: AsyncWebClient) -> None:
    """Tell a person, in their DM with the bot, that work done for them went wrong."""
    await _tell(error, {"user": {"id": user_id}}, client)


async def _tell(error: Exception, body: dict[str, Any], client: AsyncWebClient) -> None:
    reference = uuid.uuid4().hex[:8]
    if isinstance(error, DomainError):
        text = f"{error.detail} (ref {reference})"
        log.info("domain error %s: %s", reference, error.detail)
    else:
        text = f"Sorry, something went wrong on our side. Reference: {reference}"
        log.error("unexpected error %s", reference, exc_info=error)
    user = user_id_of(body)
    if user is None:
        return
    channel = (
        (body.get("channel") or {}).get("id")
        or body.get("channel_id")
        or (body.get("container") or {}).get("channel_id")
    )
    try:
        if channel is None:
            channel = (await client.conversations_open(users=user))["channel"]["id"]
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError:
        log.warning("could not tell %s about error %s", user, reference)
