"""How Slack reaches Coachbot: HTTP (signed requests), Socket Mode, or the local sandbox."""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import Sequence
from typing import TextIO

import aiohttp
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import create_slack_app
from bot.context import InFlight
from bot.intake import Intake, Queued, acks_empty
from bot.sandbox import SandboxWorkspace, SlackSandbox
from services.config import Settings
from services.demo import DEMO_TEAM_ID

log = logging.getLogger("coachbot.slack")
SHUTDOWN_GRACE_SECONDS = 10.0
WORK_AT_ONCE = 2


class SlackTransport:
    """Starts what the settings ask for and hands signed HTTP requests to Bolt."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        console: TextIO | None = sys.stdout,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions = sessions
        self.console = console
        self.sandbox: SlackSandbox | None = None
        self.app: AsyncApp | None = None
        self.signing_secret = ""
        self._handler: AsyncSlackRequestHandler | None = None
        self._verifier: SignatureVerifier | None = None
        self._intake: Intake | None = None
        self._http: aiohttp.ClientSession | None = None
        self._socket: AsyncSocketModeHandler | None = None
        # Work after the ack computes on the event loop that answers the acks (its Slack
        # calls wait outside the gate): two at a time keeps one computing while the other
        # waits on the database; more only lengthen the queue each ack waits in.
        self.in_flight = InFlight(limit=max(1, min(WORK_AT_ONCE, settings.database_pool_size - 2)))
        # The token and Web API URL proactive sends use (the sandbox's when it stands in).
        self.bot_token: str | None = None
        self.api_url = settings.slack_api_url

    @property
    def intake(self) -> Intake:
        """The queue of acked requests waiting for Bolt (once started)."""
        if self._intake is None:
            raise RuntimeError("the Slack transport has not started")
        return self._intake

    @property
    def uses_sandbox(self) -> bool:
        return not (self.settings.slack_bot_token or self.settings.slack_client_id)

    async def start(self) -> None:
        """Start the sandbox when no Slack is configured, build the Bolt app, connect."""
        settings = self.settings
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        secret = settings.slack_signing_secret
        self.signing_secret = secret.get_secret_value() if secret else secrets.token_hex(16)
        if self.uses_sandbox:
            self.sandbox = SlackSandbox(
                console=self.console,
                auto_users=True,
                workspace=SandboxWorkspace(team_id=DEMO_TEAM_ID, auto_users=True),
            )
            await self.sandbox.start()
            settings = settings.model_copy(update={"slack_api_url": self.sandbox.base_url})
            token = self.sandbox.token
            log.warning(
                "no SLACK_BOT_TOKEN: using the local Slack sandbox at %s", self.sandbox.base_url
            )
        self.bot_token, self.api_url = token, settings.slack_api_url
        self._http = aiohttp.ClientSession()
        self.app = create_slack_app(
            settings,
            engine=self.engine,
            sessions=self.sessions,
            signing_secret=self.signing_secret,
            bot_token=token,
            in_flight=self.in_flight,
            http=self._http,
        )
        self._handler = AsyncSlackRequestHandler(self.app)
        self._verifier = SignatureVerifier(self.signing_secret)
        self._intake = Intake(app=self.app, in_flight=self.in_flight)
        if settings.slack_app_token is not None:
            self._socket = AsyncSocketModeHandler(
                self.app, settings.slack_app_token.get_secret_value()
            )
            await self._socket.connect_async()

    async def stop(self) -> None:
        """Disconnect and stop whatever start() started."""
        if self._socket is not None:
            await self._socket.close_async()
        if self._intake is not None:
            await self._intake.close(within=SHUTDOWN_GRACE_SECONDS)
        if not await self.in_flight.drain(within=SHUTDOWN_GRACE_SECONDS):
            log.warning("stopping with Slack work still under way")
        if self._http is not None:
            await self._http.close()
        if self.sandbox is not None:
            await self.sandbox.stop()

    async def handle(self, request: Request) -> Response:
        """Check a request's signature, then ack it at once or hand it to Bolt.

        A request whose answer is an empty 200 is acked here and queued for Bolt (see
        bot.intake); the rest are answered by Bolt's listeners.
        """
        if self._handler is None or self._verifier is None or self._intake is None:
            return Response(status_code=503, content="Slack transport is starting")
        if request.method != "POST":
            return await self._handler.handle(request)
        body = await request.body()
        if not _signed(self._verifier, body, request):
            log.info("refused a Slack request with a bad or stale signature")
            return JSONResponse({"error": "invalid request"}, status_code=401)
        if acks_empty(body):
            headers: dict[str, str | Sequence[str]] = {
                name: request.headers.getlist(name) for name in request.headers
            }
            await self._intake.put(Queued(body=body, headers=headers, query=request.url.query))
            return Response(status_code=200)
        return await self._handler.handle(request)


def _signed(verifier: SignatureVerifier, body: bytes, request: Request) -> bool:
    """A valid Slack signature no more than five minutes old."""
    try:
        return verifier.is_valid_request(body, dict(request.headers))
    except ValueError:  # a timestamp that is not a number
        return False


def mount_slack(api: FastAPI, transport: SlackTransport) -> None:
    """Expose Slack's endpoints on the web app."""

    async def slack_endpoint(request: Request) -> Response:
        return await transport.handle(request)

    routes = api.router.routes
    before = len(routes)
    api.add_api_route("/slack/events", slack_endpoint, methods=["POST"], include_in_schema=False)
    for path in ("/slack/install", "/slack/oauth_redirect"):
        api.add_api_route(path, slack_endpoint, methods=["GET"], include_in_schema=False)
    # Slack's requests have a deadline: match them first, not after every REST route
    # (which cost a click's ack more than its signature check did).
    slack_routes = routes[before:]
    del routes[before:]
    routes[:0] = slack_routes
