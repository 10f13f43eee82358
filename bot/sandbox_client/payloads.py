"""The requests Slack sends an app when a person acts, shaped as Slack shapes them. Pure."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.sandbox_client.inputs import (
    JSON,
    MULTI_CHOICE,
    SINGLE_CHOICE,
    option_shape,
)

APP_ID = "A0COACHBOT"


@dataclass(frozen=True)
class Person:
    """Who is acting, in which workspace."""

    user_id: str
    user_name: str
    team_id: str
    team_domain: str


def fresh_id(prefix: str) -> str:
    """An id Slack would never repeat; Coachbot de-duplicates on event and trigger ids,
    across restarts too, so a counter alone would not do."""
    return f"{prefix}{int(time.time())}{secrets.token_hex(5)}"


def trigger_id() -> str:
    """A trigger id as Slack makes them: digits, dots and a hex tail."""
    return f"{int(time.time())}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"


def app_home_opened(person: Person, *, channel_id: str) -> JSON:
    """The Events API envelope for opening the app's Home tab."""
    now = time.time()
    return {
        "token": "sandbox",
        "team_id": person.team_id,
        "api_app_id": APP_ID,
        "type": "event_callback",
        "event_id": fresh_id("Ev"),
        "event_time": int(now),
        "authorizations": [
            {
                "team_id": person.team_id,
                "user_id": "U0COACHBOT",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event": {
            "type": "app_home_opened",
            "user": person.user_id,
            "channel": channel_id,
            "tab": "home",
            "event_ts": f"{now:.6f}",
        },
    }


def slash_command(
    person: Person, *, command: str, text: str, channel_id: str, response_url: str, trigger: str
) -> dict[str, str]:
    """The form fields of a slash command typed in the DM with the app."""
    return {
        "token": "sandbox",
        "team_id": person.team_id,
        "team_domain": person.team_domain,
        "channel_id": channel_id,
        "channel_name": "directmessage",
        "user_id": person.user_id,
        "user_name": person.user_name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger,
    }


def _interaction(person: Person, kind: str, *, trigger: str | None) -> JSON:
    payload: JSON = {
        "type": kind,
        "user": {
            "id": person.user_id,
            "username": person.user_name,
            "name": person.user_name,
            "team_id": person.team_id,
        },
        "api_app_id": APP_ID,
        "token": "sandbox",
        "team": {"id": person.team_id, "domain": person.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if trigger is not None:
        payload["trigger_id"] = trigger
    return payload


def action(element: Mapping[str, Any], *, block_id: str, chosen: Any = None) -> JSON:
    """One entry of `actions`: what was pressed or chosen, as Slack reports it.

    `chosen` is an option (single choice), a list of options (multiple choice), or a
    date or time string, by the element's type.
    """
    kind = str(element.get("type"))
    reported: JSON = {
        "type": kind,
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
    }
    if kind == "button":
        reported["text"] = copy.deepcopy(element.get("text"))
        for key in ("value", "style", "url"):
            if key in element:
                reported[key] = element[key]
    elif kind in SINGLE_CHOICE:
        reported["selected_option"] = option_shape(chosen)
    elif kind in MULTI_CHOICE:
        reported["selected_options"] = [option_shape(o) for o in chosen]
    elif kind == "datepicker":
        reported["selected_date"] = chosen
    elif kind == "timepicker":
        reported["selected_time"] = chosen
    if "placeholder" in element:
        reported["placeholder"] = copy.deepcopy(element["placeholder"])
    return reported


def view_action(person: Person, *, view: JSON, reported: JSON, trigger: str) -> JSON:
    """block_actions from a Home tab or a modal: the whole view rides along, with its state."""
    payload = _interaction(person, "block_actions", trigger=trigger)
    payload |= {
        "container": {"type": "view", "view_id": view.get("id")},
        "view": copy.deepcopy(view),
        "actions": [reported],
        "state": copy.deepcopy(view.get("state") or {"values": {}}),
    }
    return payload


def message_action(
    person: Person,
    *,
    channel_id: str,
    message: JSON,
    reported: JSON,
    response_url: str,
    trigger: str,
    ephemeral: bool = False,
) -> JSON:
    """block_actions from a message in a conversation (an ephemeral one carries no copy)."""
    payload = _interaction(person, "block_actions", trigger=trigger)
    payload |= {
        "container": {
            "type": "message",
            "message_ts": message.get("ts"),
            "channel_id": channel_id,
            "is_ephemeral": ephemeral,
        },
        "channel": {"id": channel_id, "name": "directmessage"},
        "actions": [reported],
        "state": {"values": {}},
        "response_url": response_url,
    }
    if not ephemeral:
        payload["message"] = copy.deepcopy(message)
    return payload


def view_submission(person: Person, *, view: JSON, trigger: str) -> JSON:
    """view_submission: the modal with everything typed into it in `view.state`."""
    payload = _interaction(person, "view_submission", trigger=trigger)
    payload |= {"view": copy.deepcopy(view), "response_urls": []}
    return payload


def view_closed(person: Person, *, view: JSON) -> JSON:
    """view_closed: sent only for modals opened with notify_on_close."""
    payload = _interaction(person, "view_closed", trigger=None)
    payload |= {"view": copy.deepcopy(view), "is_cleared": False}
    return payload
