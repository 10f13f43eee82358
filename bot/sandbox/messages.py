"""chat.* and conversations.history/replies in the sandbox."""

from __future__ import annotations

import base64
import copy

from bot.blocks.text import MESSAGE_TEXT
from bot.blocks.validate import MESSAGE_BLOCKS, block_problems, metadata_problems
from bot.sandbox.args import Args, flag_arg, int_arg, json_arg, problem_messages, text_arg
from bot.sandbox.errors import SlackError
from bot.sandbox.workspace import JSON, Conversation, SandboxWorkspace, ts_micros


def _content(args: Args, *, required: bool = True) -> JSON:
    """The text, blocks and metadata of a message, checked as Slack checks them."""
    text = args.get("text")
    blocks = json_arg(args, "blocks", error="invalid_blocks_format")
    attachments = json_arg(args, "attachments", error="invalid_attachments")
    metadata = json_arg(args, "metadata", error="invalid_metadata_format")
    if required and not text and not blocks and not attachments:
        raise SlackError("no_text")
    if text is not None and len(str(text)) > MESSAGE_TEXT:
        raise SlackError("msg_too_long")
    if blocks is not None and (problems := block_problems(blocks, limit=MESSAGE_BLOCKS)):
        raise SlackError("invalid_blocks", messages=problem_messages(problems))
    if metadata is not None and (problems := metadata_problems(metadata)):
        raise SlackError("invalid_metadata_format", messages=problem_messages(problems))
    content: JSON = {}
    if text is not None:
        content["text"] = str(text)
    for name, value in (("blocks", blocks), ("attachments", attachments),
                        ("metadata", metadata)):
        if value is not None:
            content[name] = value
    return content


def _posting_target(workspace: SandboxWorkspace, args: Args) -> Conversation:
    channel = text_arg(args, "channel", required=True, error="channel_not_found")
    return workspace.conversation(channel, users_allowed=True)


def post_message(workspace: SandboxWorkspace, args: Args) -> JSON:
    """chat.postMessage: post to a channel, DM (by user id) or thread."""
    conversation = _posting_target(workspace, args)
    content = _content(args)
    thread_ts = text_arg(args, "thread_ts")
    if thread_ts:
        parent = workspace.find_message(conversation, thread_ts)
        if parent is None:
            raise SlackError("thread_not_found")
        thread_ts = str(parent.get("thread_ts", parent["ts"]))
    message: JSON = {
        "type": "message", "user": workspace.bot_user_id, "bot_id": workspace.bot_id,
        "app_id": workspace.app_id, "team": workspace.team_id, "text": "",
        **content, "ts": workspace.next_ts(),
    }
    if thread_ts:
        message["thread_ts"] = thread_ts
        message["parent_user_id"] = workspace.bot_user_id
        if flag_arg(args, "reply_broadcast"):
            message["subtype"] = "thread_broadcast"
    workspace.add_message(conversation, message)
    return {"ok": True, "channel": conversation.id, "ts": message["ts"],
            "message": copy.deepcopy(message)}


def update_message(workspace: SandboxWorkspace, args: Args) -> JSON:
    """chat.update: replace a message's text, blocks or metadata."""
    conversation = _posting_target(workspace, args)
    ts = text_arg(args, "ts", required=True, error="message_not_found")
    message = workspace.find_message(conversation, ts)
    if message is None:
        raise SlackError("message_not_found")
    if message.get("user") != workspace.bot_user_id:
        raise SlackError("cant_update_message")
    message.update(_content(args, required=False))
    message["edited"] = {"user": workspace.bot_user_id, "ts": workspace.next_ts()}
    return {"ok": True, "channel": conversation.id, "ts": ts, "text": message.get("text", ""),
            "message": copy.deepcopy(message)}


def post_ephemeral(workspace: SandboxWorkspace, args: Args) -> JSON:
    """chat.postEphemeral: a message only `user` sees, kept apart from the channel history."""
    conversation = _posting_target(workspace, args)
    user = text_arg(args, "user", required=True, error="user_not_found")
    workspace.user(user)
    if user not in conversation.members:
        raise SlackError("user_not_in_channel")
    content = _content(args)
    ts = workspace.next_ts()
    message = {"type": "message", "user": workspace.bot_user_id, **content, "ts": ts}
    workspace.ephemerals.append({"channel": conversation.id, "user": user, "message": message})
    return {"ok": True, "message_ts": ts}


def _shown(message: JSON, *, with_metadata: bool) -> JSON:
    shown = copy.deepcopy(message)
    if not with_metadata:
        shown.pop("metadata", None)
    return shown


def _bound(args: Args, name: str) -> int | None:
    value = text_arg(args, name)
    if not value:
        return None
    try:
        return ts_micros(value)
    except ValueError:
        raise SlackError(f"invalid_ts_{name}") from None


def _cursor(ts: str) -> str:
    return base64.urlsafe_b64encode(f"before:{ts}".encode()).decode()


def _cursor_ts(args: Args) -> int | None:
    cursor = text_arg(args, "cursor")
    if not cursor:
        return None
    try:
        return ts_micros(base64.urlsafe_b64decode(cursor).decode().removeprefix("before:"))
    except ValueError:
        raise SlackError("invalid_cursor") from None


def history(workspace: SandboxWorkspace, args: Args) -> JSON:
    """conversations.history: top-level messages, newest first, paged by `limit` and `cursor`."""
    conversation = workspace.conversation(text_arg(args, "channel", required=True,
                                                   error="channel_not_found"))
    oldest, latest = _bound(args, "oldest"), _bound(args, "latest")
    inclusive = flag_arg(args, "inclusive")
    before = _cursor_ts(args)
    limit = int_arg(args, "limit", default=100, low=1, high=999)

    def wanted(message: JSON) -> bool:
        ts = ts_micros(message["ts"])
        in_thread = message.get("thread_ts") not in (None, message["ts"])
        if in_thread and message.get("subtype") != "thread_broadcast":
            return False
        if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
            return False
        if latest is not None and (ts > latest or (ts == latest and not inclusive)):
            return False
        return before is None or ts < before

    matching = [m for m in reversed(conversation.messages) if wanted(m)]
    page = matching[:limit]
    with_metadata = flag_arg(args, "include_all_metadata")
    response: JSON = {"ok": True, "messages": [_shown(m, with_metadata=with_metadata)
                                               for m in page],
                      "has_more": len(matching) > limit, "pin_count": 0}
    if response["has_more"]:
        response["response_metadata"] = {"next_cursor": _cursor(page[-1]["ts"])}
    return response


def replies(workspace: SandboxWorkspace, args: Args) -> JSON:
    """conversations.replies: a thread's parent and replies, oldest first."""
    conversation = workspace.conversation(text_arg(args, "channel", required=True,
                                                   error="channel_not_found"))
    ts = text_arg(args, "ts", required=True, error="thread_not_found")
    message = workspace.find_message(conversation, ts)
    if message is None:
        raise SlackError("thread_not_found")
    thread_ts = message.get("thread_ts", message["ts"])
    thread = [m for m in conversation.messages
              if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts]
    limit = int_arg(args, "limit", default=1000, low=1, high=1000)
    with_metadata = flag_arg(args, "include_all_metadata")
    return {"ok": True, "messages": [_shown(m, with_metadata=with_metadata)
                                     for m in thread[:limit]],
            "has_more": len(thread) > limit}
