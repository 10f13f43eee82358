"""Events API listeners. Every event the manifest subscribes to has one (else Slack retries)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import unit_of_work
from bot.home import publish_home

log = logging.getLogger("coachbot.slack")


async def app_home_opened(
    event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Publish the Home tab whenever it is opened (the Messages tab needs nothing)."""
    if event.get("tab", "home") != "home":
        return
    async with unit_of_work(context) as session:
        await publish_home(context=context, client=client, session=session)


async def app_uninstalled(context: AsyncBoltContext) -> None:
    """Note the uninstall; the installation store forgets the tokens itself."""
    log.info("Coachbot was uninstalled from %s", context.team_id)


async def tokens_revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
    """Note revoked tokens; the installation store forgets them itself."""
    log.info("tokens revoked in %s: %s", context.team_id, event.get("tokens"))


def register(app: AsyncApp) -> None:
    """Register the event listeners."""
    app.event("app_home_opened")(app_home_opened)
    if app.installation_store is not None:
        # With OAuth, Bolt's own listeners delete the installation's tokens.
        app.enable_token_revocation_listeners()
    else:
        app.event("app_uninstalled")(app_uninstalled)
        app.event("tokens_revoked")(tokens_revoked)
