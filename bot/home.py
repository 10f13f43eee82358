"""Publishing a member's Home tab."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks.home import home_view
from bot.blocks.validate import check_view
from services.home import home_for
from services.people.models import Member


async def publish_home(*, client: AsyncWebClient, session: AsyncSession, member: Member) -> None:
    """Render the member's Home tab from the database and publish it."""
    view = home_view(await home_for(session=session, member=member))
    # The limits this member's content decides; the Home builders' structure is held to
    # the full validate_view in their tests, which costs milliseconds a view.
    check_view(view)
    await client.views_publish(user_id=member.slack_user_id, view=view)
