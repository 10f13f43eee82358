"""One person's side of Slack against a Coachbot running in this process.

`SlackUser` sends what the Slack client would send when this person acts, signed like
Slack signs it, waits for the work Bolt finishes after acking, and keeps what the client
holds between requests: open modals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from bot.sandbox import RecordedCall
from bot.sandbox_client import payloads
from bot.sandbox_client.inputs import JSON, BadInput, ModalForm
from bot.sandbox_client.local_app import RunningCoachbot
from bot.sandbox_client.render import Control, Surface
from bot.slack_signing import FORM, JSON_BODY, event_body, form_body, interaction_body, sign_request

QUIET_SECONDS = 0.1
MAX_WAIT_SECONDS = 5.0
ModalChange = Literal["opened", "updated", "errors", "closed"]


@dataclass
class Outcome:
    """What followed one request: Coachbot's answer and everything it sent meanwhile."""

    status: int
    body: Any
    calls: list[RecordedCall] = field(default_factory=list)
    ephemerals: list[JSON] = field(default_factory=list)
    modal_change: ModalChange | None = None
    still_working: bool = False


def _parsed(response: httpx.Response) -> Any:
    if not response.content:
        return None
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            return response.json()
        except ValueError:
            pass
    return response.text


class SlackUser:
    """A person in the sandbox workspace, acting through what Slack would send."""

    def __init__(
        self,
        coachbot: RunningCoachbot,
        user_id: str,
        *,
        quiet: float = QUIET_SECONDS,
        max_wait: float = MAX_WAIT_SECONDS,
    ) -> None:
        self.coachbot = coachbot
        self.sandbox = coachbot.sandbox
        self.quiet = quiet
        self.max_wait = max_wait
        self.user_id = user_id
        self.modals: list[ModalForm] = []
        self._seen_calls = len(self.sandbox.calls())
        self._seen_ephemerals = len(self.sandbox.workspace.ephemerals)

    # Who and where

    def switch(self, user_id: str) -> None:
        """Become someone else; their Slack client has no modal open."""
        self.user_id = user_id
        self.modals.clear()

    def name(self, user_id: str | None = None) -> str:
        """A person's name as Slack shows it."""
        return self.sandbox.workspace.display_name(user_id or self.user_id)

    @property
    def person(self) -> payloads.Person:
        """The acting person as payloads name them."""
        workspace = self.sandbox.workspace
        user = workspace.user(self.user_id)
        return payloads.Person(
            user_id=self.user_id,
            user_name=str(user["name"]),
            team_id=workspace.team_id,
            team_domain=workspace.team_id.lower(),
        )

    @property
    def dm_channel(self) -> str:
        """The person's DM with Coachbot, where slash commands are typed."""
        return self.sandbox.dm_channel(self.user_id)

    @property
    def modal(self) -> ModalForm | None:
        """The modal on top, if one is open."""
        return self.modals[-1] if self.modals else None

    def direct_messages(self) -> list[JSON]:
        """Coachbot's messages in the person's DM, oldest first."""
        return self.sandbox.messages(self.dm_channel)

    # What the person does

    async def open_home(self) -> Outcome:
        """Open the app's Home tab."""
        event = payloads.app_home_opened(self.person, channel_id=self.dm_channel)
        return await self._exchange(event_body(event), JSON_BODY)

    async def command(self, text: str, *, name: str = "/coach") -> Outcome:
        """Type a slash command in the DM with Coachbot."""
        trigger = payloads.trigger_id()
        fields = payloads.slash_command(
            self.person,
            command=name,
            text=text,
            channel_id=self.dm_channel,
            response_url=self.sandbox.response_url(trigger),
            trigger=trigger,
        )
        return await self._exchange(form_body(fields), FORM)

    async def press(self, control: Control, *, chosen: Any = None) -> Outcome:
        """Press a button or choose in a select, on a Home tab, modal or message."""
        surface = control.surface
        reported = payloads.action(control.element, block_id=control.block_id, chosen=chosen)
        trigger = payloads.trigger_id()
        if surface.kind in ("home", "modal"):
            view = self._current_view(surface)
            payload = payloads.view_action(
                self.person, view=view, reported=reported, trigger=trigger
            )
        else:
            payload = payloads.message_action(
                self.person,
                channel_id=surface.channel_id or self.dm_channel,
                message=dict(surface.message or {}),
                reported=reported,
                response_url=self.sandbox.response_url(trigger),
                trigger=trigger,
                ephemeral=surface.kind == "ephemeral",
            )
        return await self._exchange(interaction_body(payload), FORM)

    async def submit(self) -> Outcome:
        """Submit the modal on top with what has been typed into it."""
        form = self.modal
        if form is None:
            raise BadInput("no modal is open")
        payload = payloads.view_submission(
            self.person, view=form.submitted_view(), trigger=payloads.trigger_id()
        )
        return await self._exchange(
            interaction_body(payload),
            FORM,
            answered=lambda status, body: self._answered(form, status, body),
        )

    async def cancel(self) -> Outcome | None:
        """Close the modal on top; Coachbot hears of it only if it asked to."""
        form = self.modal
        if form is None:
            raise BadInput("no modal is open")
        self.modals.pop()
        if not form.view.get("notify_on_close"):
            return None
        payload = payloads.view_closed(self.person, view=form.submitted_view())
        return await self._exchange(interaction_body(payload), FORM)

    # Requests and their aftermath

    def _current_view(self, surface: Surface) -> JSON:
        if surface.kind == "modal":
            form = next((f for f in self.modals if f.view_id == surface.view_id), None)
            if form is None:
                raise BadInput("that modal is closed")
            return form.submitted_view()
        home = self.sandbox.home_view(self.user_id)
        if home is None or home.get("id") != surface.view_id:
            raise BadInput("that Home tab is no longer shown; type `home`")
        return home

    async def _exchange(
        self,
        body: str,
        content_type: str,
        *,
        answered: Callable[[int, Any], ModalChange | None] | None = None,
    ) -> Outcome:
        tasks_before = asyncio.all_tasks()
        signed = sign_request(
            signing_secret=self.coachbot.signing_secret, body=body, content_type=content_type
        )
        try:
            response = await self.coachbot.http.post(
                "/slack/events", content=signed.body, headers=signed.headers
            )
        except httpx.HTTPError as exc:
            raise BadInput(f"Coachbot did not answer ({type(exc).__name__})") from None
        parsed = _parsed(response)
        change = answered(response.status_code, parsed) if answered else None
        settled = await self._settle(tasks_before)
        calls = self.sandbox.calls()[self._seen_calls :]
        ephemerals = self.sandbox.workspace.ephemerals[self._seen_ephemerals :]
        self._seen_calls += len(calls)
        self._seen_ephemerals += len(ephemerals)
        change = self._follow_views(calls) or change
        return Outcome(
            status=response.status_code,
            body=parsed,
            calls=calls,
            ephemerals=list(ephemerals),
            modal_change=change,
            still_working=not settled,
        )

    async def _settle(self, tasks_before: set[asyncio.Task[Any]]) -> bool:
        """Wait for the work Bolt goes on with after acking: the tasks this request started,
        then until the sandbox has heard nothing new for a quiet moment. False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        me = asyncio.current_task()
        while busy := [
            t for t in asyncio.all_tasks() if t is not me and t not in tasks_before and not t.done()
        ]:
            if loop.time() >= deadline:
                return False
            await asyncio.wait(busy, timeout=min(self.quiet, deadline - loop.time()))
        seen, quiet_since = len(self.sandbox.calls()), loop.time()
        while loop.time() - quiet_since < self.quiet:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.02)
            if (count := len(self.sandbox.calls())) != seen:
                seen, quiet_since = count, loop.time()
        return True

    def _follow_views(self, calls: list[RecordedCall]) -> ModalChange | None:
        """Keep the modal stack as the Slack client would after the app's views.* calls."""
        change: ModalChange | None = None
        for call in calls:
            if not call.ok or call.method not in ("views.open", "views.push", "views.update"):
                continue
            view = call.response["view"]
            if view.get("type") != "modal":
                continue
            if call.method == "views.open":
                self.modals = [ModalForm(view=view)]
                change = "opened"
            elif call.method == "views.push":
                self.modals.append(ModalForm(view=view))
                change = "opened"
            else:
                for index, form in enumerate(self.modals):
                    if form.view_id == view.get("id"):
                        self.modals[index] = form.replaced_by(view)
                        change = change or "updated"
        return change

    def _answered(self, form: ModalForm, status: int, body: Any) -> ModalChange | None:
        """Apply a view_submission's answer: inline errors, a new view, or closing."""
        if status != 200 or form not in self.modals:
            return None
        action = body.get("response_action") if isinstance(body, dict) else None
        if action == "errors":
            form.errors = {str(k): str(v) for k, v in (body.get("errors") or {}).items()}
            return "errors"
        if action in ("update", "push") and isinstance(body.get("view"), dict):
            shown = self._slack_view(body["view"], previous=form, same_id=action == "update")
            if action == "update":
                self.modals[self.modals.index(form)] = form.replaced_by(shown)
                return "updated"
            self.modals.append(ModalForm(view=shown))
            return "opened"
        if action == "clear":
            self.modals.clear()
        else:
            self.modals.remove(form)
        return "closed"

    def _slack_view(self, view: JSON, *, previous: ModalForm, same_id: bool) -> JSON:
        # A view given in a response_action is stored by Slack like any other, with an id.
        workspace = self.sandbox.workspace
        view_id = previous.view_id if same_id else workspace.new_view_id()
        stored = {
            "team_id": workspace.team_id,
            "app_id": workspace.app_id,
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            **view,
            "id": view_id,
            "hash": workspace.view_hash(),
            "root_view_id": previous.view.get("root_view_id") or previous.view_id,
            "previous_view_id": (
                previous.view.get("previous_view_id") if same_id else previous.view_id
            ),
        }
        workspace.views[view_id] = stored
        return stored
