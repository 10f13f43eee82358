"""The members the Slack middleware keeps in memory, and the deliveries it remembers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.deliveries import HandledDeliveries
from bot.members import MemberCache
from services.db import utcnow
from services.people.models import Member
from tests.bot.fakes import FakeClock
from tests.factories.people import make_workspace

TEAM = "T0TEST0001"


def member(user_id: str = "U0LEE", *, updated_ago: timedelta = timedelta(0)) -> Member:
    now = utcnow()
    return Member(
        id=7,
        workspace_id=1,
        slack_user_id=user_id,
        name="Lee",
        timezone="America/New_York",
        created_at=now - timedelta(days=30),
        updated_at=now - updated_ago,
    )


def test_a_cached_member_is_a_fresh_detached_copy_each_time() -> None:
    cache, original = MemberCache(clock=FakeClock()), member()
    cache.put(TEAM, "U0LEE", original, now=utcnow())
    first, second = cache.get(TEAM, "U0LEE"), cache.get(TEAM, "U0LEE")
    assert first is not None and second is not None and first is not second
    assert first.model_dump() == original.model_dump()
    assert inspect(first).detached  # added to a session, it updates rather than inserts
    assert cache.get(TEAM, "U0OTHER") is None
    assert cache.get("T0ELSEWHERE", "U0LEE") is None


def test_a_cached_row_is_read_again_after_its_ttl() -> None:
    clock = FakeClock()
    cache = MemberCache(ttl=300, clock=clock)
    cache.put(TEAM, "U0LEE", member(), now=utcnow())
    clock.advance(299)
    assert cache.get(TEAM, "U0LEE") is not None
    clock.advance(1)
    assert cache.get(TEAM, "U0LEE") is None
    assert len(cache) == 0


def test_a_profile_about_to_go_stale_expires_with_it() -> None:
    clock = FakeClock()
    cache = MemberCache(ttl=300, clock=clock)
    cache.put(TEAM, "U0LEE", member(updated_ago=timedelta(hours=23, minutes=59)), now=utcnow())
    clock.advance(61)
    assert cache.get(TEAM, "U0LEE") is None  # so the middleware refreshes it from users.info


def test_a_profile_that_could_not_be_refreshed_is_tried_again_after_the_ttl() -> None:
    clock = FakeClock()
    cache = MemberCache(ttl=300, clock=clock)
    cache.put(TEAM, "U0LEE", member(updated_ago=timedelta(days=3)), now=utcnow())
    clock.advance(299)
    assert cache.get(TEAM, "U0LEE") is not None
    clock.advance(1)
    assert cache.get(TEAM, "U0LEE") is None


def test_the_least_recently_used_member_is_dropped_first() -> None:
    cache = MemberCache(capacity=2, clock=FakeClock())
    for user in ("U0A", "U0B"):
        cache.put(TEAM, user, member(user), now=utcnow())
    assert cache.get(TEAM, "U0A") is not None
    cache.put(TEAM, "U0C", member("U0C"), now=utcnow())
    assert [cache.get(TEAM, u) is not None for u in ("U0A", "U0B", "U0C")] == [True, False, True]


def test_handled_deliveries_keep_the_newest_keys() -> None:
    handled = HandledDeliveries(capacity=2)
    for key in ("event:1", "event:2", "event:3"):
        handled.add(key)
    assert "event:1" not in handled
    assert "event:2" in handled and "event:3" in handled
    assert len(handled) == 2


async def test_a_cached_copy_added_to_a_session_updates_its_row(session: AsyncSession) -> None:
    workspace = await make_workspace(session, team_id=TEAM)
    stored = Member(workspace_id=workspace.id or 0, slack_user_id="U0LEE", name="Lee")
    session.add(stored)
    await session.commit()
    cache = MemberCache(clock=FakeClock())
    cache.put(TEAM, "U0LEE", stored, now=utcnow())
    session.expunge_all()

    copy = cache.get(TEAM, "U0LEE")
    assert copy is not None
    copy.name = "Lee Renamed"
    session.add(copy)
    await session.commit()
    names = (await session.exec(select(Member.name))).all()
    assert names == ["Lee Renamed"]
