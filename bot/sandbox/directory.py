"""auth.test, users.info and conversations.open in the sandbox."""

from __future__ import annotations

from bot.sandbox.args import Args
from bot.sandbox.workspace import JSON, SandboxWorkspace


def auth_test(workspace: SandboxWorkspace, args: Args) -> JSON:
    """auth.test: who the token belongs to."""
    return {
        "ok": True,
        "url": workspace.url,
        "team": workspace.team_name,
        "user": "coachbot",
        "team_id": workspace.team_id,
        "user_id": workspace.bot_user_id,
        "bot_id": workspace.bot_id,
        "is_enterprise_install": False,
    }


def users_info(workspace: SandboxWorkspace, args: Args) -> JSON:
    """users.info: one person's profile."""
    return {"ok": True, "user": workspace.user(str(args.get("user", "")))}


def conversations_open(workspace: SandboxWorkspace, args: Args) -> JSON:
    """conversations.open: a DM or group DM with these people, or a known channel."""
    if args.get("channel"):
        conversation = workspace.conversation(str(args["channel"]))
    else:
        users = [user.strip() for user in str(args.get("users", "")).split(",") if user.strip()]
        conversation = workspace.open_conversation(users)
    channel: JSON = {
        "id": conversation.id,
        "is_im": conversation.kind == "im",
        "is_mpim": conversation.kind == "mpim",
    }
    if conversation.kind == "im":
        channel["user"] = conversation.members[1]
    return {"ok": True, "channel": channel}
