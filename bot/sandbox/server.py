"""The sandbox HTTP server: Slack's Web API on 127.0.0.1, recording every call."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, TextIO

from aiohttp import web

from bot.pacing import Clock
from bot.sandbox import directory, files, messages, views
from bot.sandbox.args import Args
from bot.sandbox.console import render_message, render_view
from bot.sandbox.errors import SlackError
from bot.sandbox.faults import Fault, FaultPlan
from bot.sandbox.limits import RateLimiter, RateLimits
from bot.sandbox.workspace import JSON, Conversation, SandboxWorkspace

DEFAULT_TOKEN: Final = "xoxb-sandbox-token"
DEFAULT_RATE_LIMITS: Final = RateLimits()

Handler = Callable[[SandboxWorkspace, Args], JSON]


METHODS: Final[dict[str, Handler]] = {
    "auth.test": directory.auth_test,
    "users.info": directory.users_info,
    "conversations.open": directory.conversations_open,
    "conversations.history": messages.history,
    "conversations.replies": messages.replies,
    "chat.postMessage": messages.post_message,
    "chat.update": messages.update_message,
    "chat.postEphemeral": messages.post_ephemeral,
    "views.open": views.open_view,
    "views.push": views.push_view,
    "views.update": views.update_view,
    "views.publish": views.publish_view,
}


@dataclass(frozen=True)
class RecordedCall:
    """One Web API call as the sandbox saw it (the token is not kept)."""

    method: str
    args: dict[str, Any]
    at: float
    status: int
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        """Whether Slack would have said ok."""
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        """The Slack error, if the call failed with one."""
        error = self.response.get("error")
        return str(error) if error is not None else None


async def _read_args(request: web.Request) -> tuple[Args, str]:
    """Arguments from the query string and a form or JSON body, and the token."""
    args: Args = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except json.JSONDecodeError:
                raise SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            args.update(body)
        else:
            form = await request.post()
            args.update({key: value for key, value in form.items() if isinstance(value, str)})
    token = str(args.pop("token", ""))
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        token = authorization.removeprefix("Bearer ").strip()
    return args, token


class SlackSandbox:
    """A local Slack Web API for one workspace, served over real HTTP.

    Use as `async with SlackSandbox() as sandbox:` and point a client at
    `sandbox.base_url` with `sandbox.token`. People must be added (`add_user`) before
    the bot can look them up or DM them, unless `auto_users` makes unknown user ids up,
    as console mode does. `console` receives a readable copy of everything sent.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: RateLimits | None = DEFAULT_RATE_LIMITS,
        seed: int = 0,
        console: TextIO | None = None,
        clock: Clock = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        workspace: SandboxWorkspace | None = None,
        auto_users: bool = False,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.console = console
        self.workspace = workspace or SandboxWorkspace(wall_clock=wall_clock, auto_users=auto_users)
        self.faults = FaultPlan(seed=seed)
        self.limiter = RateLimiter(rate_limits, clock=clock) if rate_limits else None
        self._wall_clock = wall_clock
        self.files = files.FileStore()
        self._methods: dict[str, Handler] = {
            **METHODS,
            "files.getUploadURLExternal": lambda _, args: files.get_upload_url(self.files, args),
            "files.completeUploadExternal": lambda workspace, args: files.complete_upload(
                workspace, self.files, args
            ),
        }
        self._records: list[RecordedCall] = []
        self._runner: web.AppRunner | None = None

    # Lifecycle

    async def start(self) -> None:
        """Start serving; with port 0 a free port is picked (see `base_url`)."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        # A short shutdown timeout: a call held by a latency fault must not hold up stop().
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self.files.upload_url = f"http://{self.host}:{self.port}/upload/"
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        """Stop serving; recorded calls and workspace state stay readable."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackSandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The Web API base URL, ending in "/" as slack_sdk requires."""
        if self._runner is None:
            raise RuntimeError("the sandbox is not running")
        return f"http://{self.host}:{self.port}/api/"

    # Seeding

    def add_user(
        self,
        *,
        user_id: str,
        name: str,
        real_name: str | None = None,
        display_name: str | None = None,
        title: str = "",
        email: str | None = None,
        tz: str = "UTC",
    ) -> JSON:
        """Register a person users.info will know and the bot can DM."""
        return self.workspace.add_user(
            user_id=user_id,
            name=name,
            real_name=real_name,
            display_name=display_name,
            title=title,
            email=email,
            tz=tz,
        )

    def add_channel(
        self, *, name: str, channel_id: str | None = None, members: Sequence[str] = ()
    ) -> Conversation:
        """Create a channel the bot is a member of."""
        return self.workspace.add_channel(name=name, channel_id=channel_id, members=members)

    # Queries for tests

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        """Every call so far, or those to one method, oldest first."""
        return [call for call in self._records if method is None or call.method == method]

    def clear_calls(self) -> None:
        """Forget the recorded calls (workspace state is kept)."""
        self._records.clear()

    def dm_channel(self, user_id: str) -> str:
        """The id of the bot's DM with this person."""
        return self.workspace.open_conversation([user_id]).id

    def file_content(self, file_id: str) -> bytes | None:
        """The bytes uploaded for a file, or None if none were."""
        file = self.files.files.get(file_id)
        return file.content if file else None

    def messages(self, channel: str) -> list[JSON]:
        """Messages in a channel (a user id means the DM), thread replies included,
        oldest first, as they stand now (after any chat.update)."""
        return list(self.workspace.conversation(channel, users_allowed=True).messages)

    def thread(self, channel: str, ts: str) -> list[JSON]:
        """A thread's parent and replies, oldest first."""
        return [m for m in self.messages(channel) if m["ts"] == ts or m.get("thread_ts") == ts]

    def ephemerals(self, *, channel: str | None = None, user: str | None = None) -> list[JSON]:
        """Ephemeral messages sent, as {"channel", "user", "message"}, filtered."""
        return [
            e
            for e in self.workspace.ephemerals
            if channel in (None, e["channel"]) and user in (None, e["user"])
        ]

    def view(self, view_id: str) -> JSON | None:
        """A view as last opened, pushed, updated or published."""
        return self.workspace.views.get(view_id)

    def home_view(self, user_id: str) -> JSON | None:
        """The Home tab last published for this person."""
        view_id = self.workspace.home_views.get(user_id)
        return self.workspace.views.get(view_id) if view_id else None

    def response_url(self, key: str) -> str:
        """A `response_url` for a slash command or interaction; what is posted is recorded."""
        return f"http://{self.host}:{self.port}/respond/{key}"

    def responses(self, key: str | None = None) -> list[JSON]:
        """What the app posted to response URLs (ephemeral replies to commands)."""
        return [
            call.args
            for call in self._records
            if call.method == "response_url" and (key is None or call.args.get("key") == key)
        ]

    # Serving

    async def _respond(self, request: web.Request) -> web.StreamResponse:
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        args = {"key": request.match_info["key"], **payload}
        self._record("response_url", args, 200, {"ok": True})
        if self.console is not None and payload.get("text"):
            print(f"[reply to you only] {payload['text']}", file=self.console, flush=True)
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        # Slack answers a good upload with 200 and plain text, an unknown one with 404.
        content = await request.read()
        if not self.files.receive(request.match_info["file_id"], content):
            return web.Response(status=404, text="Not Found")
        return web.Response(text=f"OK - {len(content)}")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            args, token = await _read_args(request)
        except SlackError as error:
            return self._answer(method, {}, error.body())
        if method not in self._methods:
            return self._answer(method, args, SlackError("unknown_method").body())
        if not token:
            return self._answer(method, args, SlackError("not_authed").body())
        if token != self.token:
            return self._answer(method, args, SlackError("invalid_auth").body())
        fault = self.faults.next_fault(method)
        if fault is not None:
            await asyncio.sleep(fault.delay)
            if fault.answers:
                return self._fault_answer(method, args, fault)
        retry_after = self._admit(method, args)
        if retry_after:
            return self._answer(
                method,
                args,
                SlackError("ratelimited").body(),
                status=429,
                headers={"Retry-After": str(retry_after)},
            )
        try:
            body = self._methods[method](self.workspace, args)
        except SlackError as error:
            return self._answer(method, args, error.body())
        self._show(method, args, body)
        return self._answer(method, args, body)

    def _admit(self, method: str, args: Args) -> int:
        if self.limiter is None:
            return 0
        try:
            channel: str | None = self.workspace.conversation(
                str(args.get("channel", "")), users_allowed=True
            ).id
        except SlackError:
            channel = None
        return self.limiter.admit(method=method, channel=channel)

    def _fault_answer(self, method: str, args: Args, fault: Fault) -> web.StreamResponse:
        if fault.status >= 500:
            self._record(method, args, fault.status, {})
            return web.Response(
                status=fault.status,
                content_type="text/html",
                text=f"<html><body><h1>{fault.status} Server Error</h1></body></html>",
            )
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
        return self._answer(
            method,
            args,
            SlackError(fault.error or "fatal_error").body(),
            status=fault.status,
            headers=headers,
        )

    def _answer(
        self,
        method: str,
        args: Args,
        body: JSON,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> web.StreamResponse:
        self._record(method, args, status, body)
        return web.json_response(body, status=status, headers=headers)

    def _record(self, method: str, args: Args, status: int, body: JSON) -> None:
        self._records.append(
            RecordedCall(
                method=method, args=args, at=self._wall_clock(), status=status, response=body
            )
        )

    def _show(self, method: str, args: Args, body: JSON) -> None:
        """Print what a person in Slack would now see, in console mode."""
        if self.console is None:
            return
        text = self._console_text(method, args, body)
        if text:
            print(text, file=self.console, flush=True)

    def _console_text(self, method: str, args: Args, body: JSON) -> str | None:
        workspace = self.workspace
        if method in ("chat.postMessage", "chat.update"):
            where = workspace.conversations[body["channel"]].describe()
            what = "message" if method == "chat.postMessage" else "message updated"
            return render_message(message=body["message"], where=where, what=what)
        if method == "files.completeUploadExternal" and args.get("channel_id"):
            conversation = workspace.conversations[str(args["channel_id"])]
            return render_message(
                message=conversation.messages[-1], where=conversation.describe(), what="file"
            )
        if method == "chat.postEphemeral":
            sent = workspace.ephemerals[-1]
            where = (
                f"{workspace.conversations[sent['channel']].describe()}, "
                f"only {workspace.display_name(sent['user'])} sees it"
            )
            return render_message(message=sent["message"], where=where, what="ephemeral")
        if method.startswith("views."):
            view = body["view"]
            if method == "views.publish":
                where = f"Home tab of {workspace.display_name(str(args.get('user_id')))}"
            else:
                where = f"trigger {args.get('trigger_id') or view['root_view_id']}"
            return render_view(view=view, what=method.removeprefix("views."), where=where)
        return None
