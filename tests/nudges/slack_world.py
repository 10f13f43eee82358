"""Helpers for the nudge Slack tests: deliver the outbox to the sandbox, click on messages."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import nudge as nudge_blocks
from bot.render import default_renderers
from bot.sandbox import SlackSandbox
from tests.delivery.world import make_messenger, run_until_quiet, worker
from tests.slack.conftest import SlackUser


async def deliver_outbox(
    sessions: async_sessionmaker[AsyncSession], sandbox: SlackSandbox
) -> None:
    """Send every due outbox row to the sandbox with the real messenger and worker."""
    renderers = default_renderers()
    nudge_blocks.register(renderers)
    async with aiohttp.ClientSession() as http:
        messenger = make_messenger(sandbox, http, sessions, renderers=renderers)
        await run_until_quiet(sessions, worker(sessions, messenger))


def dm_messages(sandbox: SlackSandbox, user_id: str) -> list[dict[str, Any]]:
    return sandbox.messages(sandbox.dm_channel(user_id))


def action_ids(message: dict[str, Any]) -> list[str]:
    return [
        element["action_id"]
        for block in message.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def button_value(message: dict[str, Any], action_id: str) -> str:
    for block in message.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no button {action_id}")


async def click_message(
    user: SlackUser, sandbox: SlackSandbox, message: dict[str, Any], action_id: str,
    *, trigger: str | None = None,
) -> httpx.Response:
    """Click a button on a message in the user's DM with the bot, as Slack sends it."""
    channel = sandbox.dm_channel(user.user_id)
    action = {
        "action_id": action_id, "block_id": "b", "type": "button",
        "value": button_value(message, action_id), "action_ts": f"{time.time():.6f}",
    }
    return await user.interact(
        {
            "type": "block_actions",
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel,
                          "is_ephemeral": False},
            "channel": {"id": channel, "name": "directmessage"},
            "message": message,
            "response_url": sandbox.response_url(f"click-{action_id}"),
            "actions": [action],
        },
        trigger=trigger,
    )


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)
