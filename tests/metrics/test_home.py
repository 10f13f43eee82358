"""The owner's Home tab additions: each cohort's headline figures under k-anonymity, and
the latest broadcasts with their live status."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import validate_view
from bot.blocks.broadcast import NEW_BROADCAST, owner_home_blocks
from services.auth.models import Role
from services.auth.service import actor_for
from services.broadcasts import service
from services.broadcasts.models import Audience, BroadcastCreate
from services.metrics.home import owner_home_extras
from services.people.models import EnrollmentRole
from tests.factories.people import enrol
from tests.metrics.world import NOW, WEEKS, build_cohort


async def test_owner_home_shows_headlines_and_latest_broadcasts(session: AsyncSession) -> None:
    world = await build_cohort(session, leaders=6)
    small = await build_cohort(session, leaders=4)
    # The same owner also runs a cohort too small to show figures for.
    await enrol(session, small.cohort, world.owner, EnrollmentRole.owner)
    small.cohort.workspace_id = world.workspace.id or 0
    actor = await actor_for(session=session, workspace_id=world.workspace.id or 0,
                            role=Role.owner, member_id=world.owner.id)
    for n in range(7):
        await service.create_broadcast(session=session, actor=actor, now=NOW, data=(
            BroadcastCreate(cohort_id=world.cohort.id or 0, audience=Audience.leaders,
                            text=f"Note <{n}>", send_at=NOW + timedelta(days=n))))
    await session.commit()

    home = await owner_home_extras(session=session, member_id=world.owner.id or 0, now=NOW)
    big = home.headlines[0]
    assert (big.name, big.suppressed, big.last_week) == (world.cohort.name, False, WEEKS[-1])
    assert big.response_rate == round(5 / 6, 4)
    assert big.helpful_rate == 0.5
    assert big.completion_rate == 0.5
    assert home.headlines[1].suppressed and home.headlines[1].response_rate is None
    # Newest first, five of them; the first was due at once and is on its way.
    assert [b.text for b in home.broadcasts] == [f"Note <{n}>" for n in (6, 5, 4, 3, 2)]

    blocks = owner_home_blocks(home)
    validate_view({"type": "home", "blocks": blocks})
    text = json.dumps(blocks)
    assert "83%" in text and "Scheduled" in text and "Note &lt;6&gt;" in text
    assert "enough leaders to keep them anonymous" in text
    assert NEW_BROADCAST in text


async def test_a_member_who_owns_nothing_gets_an_empty_home(session: AsyncSession) -> None:
    world = await build_cohort(session, leaders=5)
    home = await owner_home_extras(session=session, member_id=world.leaders[0].id or 0, now=NOW)
    assert home.headlines == [] and home.broadcasts == []
