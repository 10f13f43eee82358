"""What a person sees after acting: Coachbot's answer and whatever it sent meanwhile."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from bot.sandbox import RecordedCall
from bot.sandbox_client.inputs import JSON
from bot.sandbox_client.render import (
    Numbering,
    Surface,
    render_home,
    render_message,
    render_modal,
    text,
)
from bot.sandbox_client.session import Outcome, SlackUser

SILENT = frozenset(
    {
        "auth.test",
        "users.info",
        "conversations.open",
        "conversations.history",
        "conversations.replies",
        "files.getUploadURLExternal",
        "views.open",
        "views.push",
    }
)


def _first_line(message: Mapping[str, Any]) -> str:
    words = text(message.get("text")).strip().splitlines()
    line = words[0] if words else "(blocks only)"
    return line if len(line) <= 80 else line[:79] + "…"


def when(ts: object) -> str:
    """A Slack timestamp as local date and time."""
    try:
        return datetime.fromtimestamp(float(str(ts))).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(ts)


def _reply_lines(reply: Mapping[str, Any], user: SlackUser, numbering: Numbering) -> list[str]:
    if reply.get("delete_original"):
        return ["(Coachbot deleted the message you acted on)"]
    title = "Reply · only you see it"
    if reply.get("replace_original"):
        title = "Reply · replaces the message you acted on"
    elif reply.get("response_type") == "in_channel":
        title = "Reply · in the conversation"
    surface = Surface(kind="ephemeral", channel_id=user.dm_channel, message=reply)
    return render_message(reply, numbering, title=title, surface=surface)


def _message_lines(call: RecordedCall, user: SlackUser, numbering: Numbering) -> list[str]:
    channel = str(call.response.get("channel"))
    message = call.response.get("message") or {}
    updated = call.method == "chat.update"
    if channel != user.dm_channel:
        where = user.sandbox.workspace.conversations[channel].describe()
        verb = "updated a message in" if updated else "posted in"
        return [f"(Coachbot {verb} {where}: {_first_line(message)})"]
    title = "Message updated" if updated else "Message from Coachbot"
    if message.get("thread_ts") not in (None, message.get("ts")):
        title += " · in a thread"
    surface = Surface(kind="message", channel_id=channel, message=message)
    return render_message(
        message, numbering, title=f"{title} · {when(message.get('ts'))}", surface=surface
    )


def _upload_lines(call: RecordedCall, user: SlackUser, numbering: Numbering) -> list[str]:
    channel = str(call.args.get("channel_id") or "")
    ids = {file["id"] for file in call.response.get("files") or []}
    if channel != user.dm_channel:
        return [f"(Coachbot shared {len(ids)} file(s) elsewhere)"] if ids else []
    for message in user.sandbox.messages(channel):
        if ids & {file["id"] for file in message.get("files") or []}:
            surface = Surface(kind="message", channel_id=channel, message=message)
            title = f"Message from Coachbot · {when(message.get('ts'))}"
            return render_message(message, numbering, title=title, surface=surface)
    return []


def _call_lines(
    call: RecordedCall, user: SlackUser, numbering: Numbering, ephemerals: Iterator[JSON]
) -> list[str]:
    if call.method == "response_url":
        return _reply_lines(call.args, user, numbering)
    if not call.ok:
        return [f"! Coachbot's {call.method} call failed: {call.error or call.status}"]
    if call.method in ("chat.postMessage", "chat.update"):
        return _message_lines(call, user, numbering)
    if call.method == "files.completeUploadExternal":
        return _upload_lines(call, user, numbering)
    if call.method == "chat.postEphemeral":
        sent = next(ephemerals, None)
        if sent is None:
            return []
        if sent["user"] != user.user_id:
            return [
                f"(Coachbot told {user.name(sent['user'])} privately: "
                f"{_first_line(sent['message'])})"
            ]
        surface = Surface(kind="ephemeral", channel_id=sent["channel"], message=sent["message"])
        return render_message(
            sent["message"], numbering, title="Coachbot · only you see this", surface=surface
        )
    if call.method in ("views.publish", "views.update"):
        view = call.response["view"]
        if view.get("type") != "home":
            return []
        owner = str(call.args.get("user_id") or user.user_id)
        if owner != user.user_id:
            return [f"(Coachbot refreshed the Home tab of {user.name(owner)})"]
        return render_home(view, numbering, owner=user.name())
    return [] if call.method in SILENT else [f"(Coachbot called {call.method})"]


def _body_lines(outcome: Outcome, user: SlackUser, numbering: Numbering) -> list[str]:
    body = outcome.body
    if outcome.status != 200:
        detail = f": {str(body)[:200]}" if body else ""
        return [f"! Coachbot answered HTTP {outcome.status}{detail}"]
    if isinstance(body, dict) and (body.get("text") or body.get("blocks")):
        return _reply_lines(body, user, numbering)
    if isinstance(body, str) and body.strip():
        return _reply_lines({"text": body}, user, numbering)
    return []


def _modal_lines(outcome: Outcome, user: SlackUser, numbering: Numbering) -> list[str]:
    form = user.modal
    if outcome.modal_change == "closed":
        return render_modal(form, numbering) if form else []
    if outcome.modal_change is None or form is None:
        return []
    lines = ["Coachbot did not accept the form:"] if outcome.modal_change == "errors" else []
    return lines + render_modal(form, numbering)


def describe(outcome: Outcome, user: SlackUser) -> tuple[list[str], Numbering]:
    """The lines to print after one request, and what they numbered."""
    numbering = Numbering()
    lines = ["(The modal closed.)"] if outcome.modal_change == "closed" else []
    lines += _body_lines(outcome, user, numbering)
    ephemerals = iter(outcome.ephemerals)
    for call in outcome.calls:
        lines += _call_lines(call, user, numbering, ephemerals)
    lines += _modal_lines(outcome, user, numbering)
    if outcome.still_working:
        lines.append(
            "(Coachbot is still working; what it sends next shows after your next command)"
        )
    if not lines:
        lines.append("(Nothing visible happened.)")
    return lines, numbering


def direct_messages(user: SlackUser) -> tuple[list[str], Numbering]:
    """The person's DMs with Coachbot, oldest first."""
    numbering = Numbering()
    messages = user.direct_messages()
    if not messages:
        return ["No direct messages from Coachbot yet."], numbering
    count = "1 direct message" if len(messages) == 1 else f"{len(messages)} direct messages"
    lines = [f"{count} from Coachbot, oldest first:"]
    for message in messages:
        surface = Surface(kind="message", channel_id=user.dm_channel, message=message)
        lines += render_message(
            message, numbering, title=f"DM · {when(message.get('ts'))}", surface=surface
        )
    return lines, numbering
