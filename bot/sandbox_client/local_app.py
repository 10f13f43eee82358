"""Coachbot's whole web app running in this process, with the local Slack sandbox.

The app is served over real HTTP on a free port of 127.0.0.1, as `coachbot serve` would
serve it, so what the sandbox client sends goes through the same stack Slack's would.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.main import create_app
from bot.sandbox import SlackSandbox
from services.config import Settings
from services.people.models import Member, Workspace

log = logging.getLogger("coachbot.sandbox_client")


class SandboxUnavailable(Exception):
    """Coachbot could not be started for the sandbox; the message says what to do."""


@dataclass(frozen=True)
class RunningCoachbot:
    """The app, reachable over HTTP, and the sandbox that stands in for Slack."""

    http: httpx.AsyncClient
    sandbox: SlackSandbox
    signing_secret: str


class _Server(uvicorn.Server):
    # Ctrl+C belongs to the terminal loop; uvicorn would otherwise take it to stop serving.
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def local_settings(settings: Settings) -> Settings:
    """The settings without Slack credentials, so the local sandbox stands in for Slack."""
    return settings.model_copy(
        update={
            "slack_bot_token": None,
            "slack_client_id": None,
            "slack_client_secret": None,
            "slack_app_token": None,
        }
    )


async def _check_database(sessions: async_sessionmaker[AsyncSession], url: str) -> None:
    try:
        async with sessions() as session:
            await session.exec(select(Workspace.id).limit(1))
    except SQLAlchemyError as exc:
        where = make_url(url).render_as_string(hide_password=True)
        raise SandboxUnavailable(
            f"the database at {where} is not ready ({type(exc).__name__}); "
            "run `coachbot migrate` and `coachbot demo` first"
        ) from exc


async def _introduce_people(
    sessions: async_sessionmaker[AsyncSession], sandbox: SlackSandbox
) -> None:
    """Tell the sandbox who the workspace's members are, so users.info answers with their
    real names and timezones rather than made-up ones."""
    query = (
        select(Member)
        .join(Workspace, col(Member.workspace_id) == col(Workspace.id))
        .where(
            Workspace.slack_team_id == sandbox.workspace.team_id, col(Member.erased_at).is_(None)
        )
    )
    async with sessions() as session:
        members = (await session.exec(query)).all()
    for member in members:
        try:
            sandbox.add_user(
                user_id=member.slack_user_id,
                name=(member.name.split() or [member.slack_user_id])[0].lower(),
                real_name=member.name,
                title=member.title or "",
                email=member.email,
                tz=member.timezone,
            )
        except (ValueError, KeyError):
            log.warning("could not introduce %s to the sandbox", member.slack_user_id)


@asynccontextmanager
async def running_coachbot(settings: Settings) -> AsyncIterator[RunningCoachbot]:
    """Coachbot's web app with the local Slack sandbox, served on a free local port."""
    app = create_app(local_settings(settings), console=None)
    async with app.router.lifespan_context(app):
        sandbox: SlackSandbox | None = app.state.slack.sandbox
        if sandbox is None:
            raise SandboxUnavailable("the local Slack sandbox did not start")
        await _check_database(app.state.sessions, settings.database_url)
        await _introduce_people(app.state.sessions, sandbox)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False)
        server = _Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            while not server.started:
                if serving.done():
                    raise SandboxUnavailable("the local web server did not start")
                await asyncio.sleep(0.01)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30.0) as http:
                yield RunningCoachbot(
                    http=http, sandbox=sandbox, signing_secret=app.state.slack.signing_secret
                )
        finally:
            server.should_exit = True
            await serving
            sock.close()
