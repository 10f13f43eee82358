"""SlackMessenger: turns one claimed outbox row into one Slack message, at most once.

The row's `delivery_key` rides in the message metadata. A row that was tried before
without a definite answer (a timeout, a 5xx, a worker that died mid-send) is looked for
in the channel's history first (in the thread's replies, for a reply) and, when found,
recorded instead of posted again.

A row with a `thread_key` is a reply: it goes into the thread of the message that row
names, in the same conversation. The outbox hands it out only once that message is settled,
so the messenger reads the parent's channel and ts when it renders.

Retries belong to the messenger and the worker, never to slack_sdk: the SDK's own retry
handlers would post a second time without looking first, so the client must have none
(`slack_client()` builds one that way).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Final

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import InvalidBlockKit, validate_message
from bot.pacing import Clock, WorkspacePacer
from bot.render import RenderError, Renderers, RenderRequest, UnknownKind
from services.delivery.models import Delivery
from services.delivery.service import thread_parent

log = logging.getLogger(__name__)

EVENT_TYPE: Final = "coachbot_delivery"

# Slack answers these for this message or this target; sending again cannot help.
PERMANENT_ERRORS: Final = frozenset({
    "account_inactive", "cannot_dm_bot", "channel_not_found", "duplicate_channel_not_found",
    "invalid_arguments", "invalid_attachments", "invalid_blocks", "invalid_blocks_format",
    "invalid_metadata_format", "invalid_metadata_schema", "is_archived",
    "messages_tab_disabled", "metadata_must_be_sent_from_app", "metadata_too_large",
    "method_not_supported_for_channel_type", "missing_scope", "msg_too_long", "no_text",
    "not_in_channel", "restricted_action", "restricted_action_non_threadable_channel",
    "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
    "too_many_attachments", "user_disabled", "user_not_found", "user_not_visible",
})
# These say the app's token is unusable: every row would fail alike, so the whole
# workspace holds (as for a 429) and no row spends an attempt until it is fixed.
WORKSPACE_ERRORS: Final = frozenset({
    "ekm_access_denied", "invalid_auth", "not_authed", "org_login_required",
    "team_access_not_granted", "token_expired", "token_revoked",
})

# How far before the row's creation to look for it in history: clocks differ.
_CLOCK_SKEW = timedelta(minutes=10)
_HISTORY_PAGE = 200


@dataclass(frozen=True)
class Sent:
    """Slack has the message (posted now, or found in history when `reconciled`)."""

    channel: str
    ts: str
    reconciled: bool = False


@dataclass(frozen=True)
class Failed:
    """The send failed; `channel` is where it may nonetheless have landed, and a post
    abandoned mid-flight may still land within `settle` seconds."""

    error: str
    permanent: bool
    channel: str | None = None
    settle: float = 0.0


@dataclass(frozen=True)
class Deferred:
    """Not sent and certainly not posted (rate limited, workspace held, claim ran out)."""

    error: str
    retry_after: float


Outcome = Sent | Failed | Deferred


class _Deferral(Exception):
    def __init__(self, error: str, retry_after: float) -> None:
        super().__init__(error)
        self.error = error
        self.retry_after = retry_after


def slack_client(
    *, token: str, base_url: str, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """slack_sdk's client without retry handlers, optionally on a shared HTTP session."""
    return AsyncWebClient(token=token, base_url=base_url, session=session, retry_handlers=[])


def _slack_error(error: SlackApiError) -> str | None:
    code = error.response.get("error") if isinstance(error.response.data, dict) else None
    return str(code) if code else None


def _retry_after(error: SlackApiError) -> float:
    try:
        return max(1.0, float(error.response.headers.get("Retry-After", 1)))
    except (TypeError, ValueError):
        return 1.0


def describe(error: BaseException) -> str:
    """A short, log-safe account of a failed call (never the token or the payload)."""
    if isinstance(error, SlackApiError):
        code = _slack_error(error)
        status = error.response.status_code
        if code == "missing_scope":
            return f"missing_scope (needs {error.response.get('needed', '?')})"
        return code if code and status == 200 else f"http {status}" + (f" {code}" if code else "")
    if isinstance(error, TimeoutError):
        return "timeout: the post may have landed"
    return f"{type(error).__name__}: {error}"[:300]


def is_permanent(error: SlackApiError) -> bool:
    """Whether Slack said this message can never be delivered as it stands."""
    return error.response.status_code == 200 and _slack_error(error) in PERMANENT_ERRORS


class SlackMessenger:
    """Renders and sends outbox rows for one workspace, paced and with Retry-After honoured."""

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        renderers: Renderers,
        sessions: async_sessionmaker[AsyncSession],
        pacer: WorkspacePacer | None = None,
        call_timeout: float = 10.0,
        max_ratelimited: int = 10,
        workspace_hold: float = 60.0,
        history_pages: int = 10,
        clock: Clock = time.monotonic,
    ) -> None:
        if client.retry_handlers:
            raise ValueError("the Slack client must have no retry handlers: a blind retry "
                             "can post twice (build it with slack_client())")
        self._client = client
        self._renderers = renderers
        self._sessions = sessions
        self.pacer = pacer or WorkspacePacer(clock=clock)
        self._call_timeout = call_timeout
        self._max_ratelimited = max_ratelimited
        self._workspace_hold = workspace_hold
        self._history_pages = history_pages
        self._clock = clock
        # Slack user id → the bot's DM channel with them; ids never change, so no expiry.
        self._dm_channels: dict[str, str] = {}

    async def deliver(
        self, delivery: Delivery, *, user_id: str | None = None, budget: float | None = None
    ) -> Outcome:
        """Send one claimed row (to `user_id`'s DM when it is for a member); never raises
        for Slack or network trouble. Past `budget` seconds nothing more is posted."""
        deadline = None if budget is None else self._clock() + budget
        dm = delivery.member_id is not None
        target = user_id if dm else delivery.channel
        if not target:
            return Failed("no recipient: the member was erased or has no Slack user",
                          permanent=True)
        try:
            payload = await self._payload(delivery, target=target)
        except UnknownKind as error:
            return Failed(str(error), permanent=False)
        except (RenderError, InvalidBlockKit) as error:
            return Failed(f"render_failed: {error}"[:2000], permanent=True)
        thread = (payload["channel"], payload["thread_ts"]) if "thread_ts" in payload else None
        landing = thread[0] if thread else (
            delivery.slack_channel or (self._dm_channels.get(target) if dm else target))
        try:
            if delivery.attempts > 0:
                found = await self._find_posted(delivery, target=target, dm=dm, thread=thread,
                                                deadline=deadline)
                if found is not None:
                    return Sent(channel=found[0], ts=found[1], reconciled=True)
            response = await self._call(lambda: self._client.chat_postMessage(**payload),
                                        pace=target, deadline=deadline)
        except _Deferral as deferral:
            return Deferred(deferral.error, deferral.retry_after)
        except SlackApiError as error:
            return Failed(describe(error), permanent=is_permanent(error), channel=landing)
        except (aiohttp.ClientError, TimeoutError) as error:
            # Looking before an abandoned post has landed would miss it; give it as long
            # again as we waited for it.
            return Failed(describe(error), permanent=False, channel=landing,
                          settle=self._call_timeout)
        channel = str(response["channel"])
        if dm:
            self._dm_channels[target] = channel
        return Sent(channel=channel, ts=str(response["ts"]))

    async def _payload(self, delivery: Delivery, *, target: str) -> dict[str, Any]:
        # A session opens no connection until used, so renderers that need no data cost none.
        async with self._sessions() as session:
            message = await self._renderers.render(RenderRequest(
                kind=delivery.kind, intent=delivery.intent, workspace_id=delivery.workspace_id,
                member_id=delivery.member_id, delivery_key=delivery.delivery_key,
                session=session))
            thread = await thread_parent(session=session, delivery=delivery)
        if delivery.thread_key is not None and thread is None:
            raise RenderError("the message this replies to was never sent")
        payload: dict[str, Any] = {
            "channel": thread.channel if thread else target,
            "text": message.get("text"),
            "metadata": {"event_type": EVENT_TYPE,
                         "event_payload": {"delivery_key": delivery.delivery_key}},
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread is not None:
            payload["thread_ts"] = thread.ts
        if message.get("blocks"):
            payload["blocks"] = message["blocks"]
        validate_message(payload)
        return payload

    async def _call(
        self,
        send: Callable[[], Awaitable[AsyncSlackResponse]],
        *,
        pace: str | None,
        deadline: float | None,
    ) -> AsyncSlackResponse:
        """One Web API call through the pacer; a 429 holds the whole workspace and the
        same call goes again (a 429 is a refusal, so nothing was posted)."""
        wait = 1.0
        for _ in range(self._max_ratelimited):
            self._check(deadline)
            await self.pacer.acquire(channel=pace)
            self._check(deadline)
            try:
                async with asyncio.timeout(self._call_timeout):
                    return await send()
            except SlackApiError as error:
                code = _slack_error(error)
                if error.response.status_code == 429 or code == "ratelimited":
                    wait = _retry_after(error)
                    self.pacer.retry_after(wait)
                    continue
                if code in WORKSPACE_ERRORS:
                    log.error("Slack refused the app's token (%s); holding all sends for %.0f s",
                              code, self._workspace_hold)
                    self.pacer.retry_after(self._workspace_hold)
                    raise _Deferral(str(code), self._workspace_hold) from error
                raise
        raise _Deferral("ratelimited", wait)

    def _check(self, deadline: float | None) -> None:
        if deadline is not None and self._clock() > deadline:
            # Past the claim's lease another worker may take the row: posting now could
            # make two messages, so hand the row back untried.
            raise _Deferral("the claim ran out before the send", 0.0)

    async def _find_posted(
        self, delivery: Delivery, *, target: str, dm: bool, thread: tuple[str, str] | None,
        deadline: float | None,
    ) -> tuple[str, str] | None:
        """(channel, ts) of a message already carrying this delivery's key, if any."""
        method: Callable[..., Awaitable[AsyncSlackResponse]]
        if thread is not None:
            # A reply is not in the channel's history, only in its thread.
            channel, thread_ts = thread
            method = partial(self._client.conversations_replies, ts=thread_ts)
        else:
            channel = delivery.slack_channel or (
                await self.dm_channel(target, deadline=deadline) if dm else target)
            method = self._client.conversations_history
        oldest = (delivery.created_at - _CLOCK_SKEW).timestamp()
        cursor: str | None = None
        for _ in range(self._history_pages):
            args: dict[str, Any] = {"channel": channel, "oldest": f"{oldest:.6f}",
                                    "limit": _HISTORY_PAGE, "include_all_metadata": True}
            if cursor:
                args["cursor"] = cursor
            page = await self._call(partial(method, **args), pace=None, deadline=deadline)
            for message in page.get("messages") or []:
                if _carries_key(message, delivery.delivery_key):
                    return channel, str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return None
        log.warning("delivery %s: not found in %d pages of history; sending",
                    delivery.delivery_key, self._history_pages)
        return None

    async def dm_channel(self, user_id: str, *, deadline: float | None = None) -> str:
        """The bot's DM channel with this person (conversations.open, remembered)."""
        if user_id not in self._dm_channels:
            opened = await self._call(lambda: self._client.conversations_open(users=user_id),
                                      pace=None, deadline=deadline)
            self._dm_channels[user_id] = str(opened["channel"]["id"])
        return self._dm_channels[user_id]


def _carries_key(message: dict[str, Any], delivery_key: str) -> bool:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("delivery_key") == delivery_key
