"""Publishing a member's Home tab."""

from __future__ import annotations

from functools import partial

from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks.home import home_view
from bot.blocks.validate import check_view
from bot.context import after_commit
from services.home import home_for
from services.people.models import Member


async def publish_home(*, client: AsyncWebClient, session: AsyncSession, member: Member) -> None:
    """Render the member's Home tab from the database; publish it once the work commits.

    Rendered in the unit of work, so the tab shows what it wrote; published after the
    commit, so it never shows a change that was rolled back.
    """
    view = home_view(await home_for(session=session, member=member))
    # The limits this member's content decides; the Home builders' structure is held to
    # the full validate_view in their tests, which costs milliseconds a view.
    check_view(view)
    await after_commit(
        session, partial(client.views_publish, user_id=member.slack_user_id, view=view)
    )
