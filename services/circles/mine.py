"""Circles as their members see them: the current one, the history, the App Home line,
and what the Slack messages show. Nothing here names a block, a miss count or another
member's answers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.service import Actor
from services.circles.models import (
    Circle,
    CircleMember,
    CirclePeer,
    CircleRound,
    CircleSeries,
    MetAnswer,
    MyCirclePublic,
    RoundStatus,
)
from services.circles.service import require_leader
from services.errors import NotFound
from services.pagination import Page, decode_cursor, encode_cursor
from services.people.models import Member
from services.plans.models import OPEN_GOAL_STATUSES, Goal
from services.prompts import load_reflection_library

OPEN_ROUNDS = (RoundStatus.formed, RoundStatus.followed_up)


def reflection_text(prompt_id: str | None) -> str | None:
    """The text of a reflection prompt from the library, by id."""
    if prompt_id is None:
        return None
    found = next((r for r in load_reflection_library().reflections if r.id == prompt_id), None)
    return found.text if found else None


async def _peers(session: AsyncSession, circle_ids: set[int]) -> dict[int, list[CirclePeer]]:
    if not circle_ids:
        return {}
    rows = await session.exec(
        select(CircleMember.circle_id, Member)
        .join(Member, col(Member.id) == CircleMember.member_id)
        .where(col(CircleMember.circle_id).in_(circle_ids), col(Member.erased_at).is_(None))
        .order_by(col(Member.name), col(Member.id))
    )
    peers: dict[int, list[CirclePeer]] = defaultdict(list)
    for circle_id, member in rows.all():
        peers[circle_id].append(
            CirclePeer(member_id=member.id or 0, name=member.name,
                       slack_user_id=member.slack_user_id)
        )
    return peers


async def _views(session: AsyncSession, rows: Sequence[CircleMember]) -> list[MyCirclePublic]:
    circle_ids = {row.circle_id for row in rows}
    if not circle_ids:
        return []
    found = await session.exec(
        select(Circle, CircleRound, CircleSeries)
        .join(CircleRound, col(CircleRound.id) == Circle.round_id)
        .join(CircleSeries, col(CircleSeries.id) == CircleRound.series_id)
        .where(col(Circle.id).in_(circle_ids))
    )
    context = {circle.id: (circle, circle_round, series) for circle, circle_round, series in found}
    peers = await _peers(session, circle_ids)
    views = []
    for row in rows:
        circle, circle_round, series = context[row.circle_id]
        views.append(MyCirclePublic(
            circle_id=circle.id or 0,
            series_id=series.id or 0,
            series_name=series.name,
            round_number=circle_round.number,
            scheduled_for=circle_round.scheduled_for,
            followup_at=circle_round.followup_at,
            explanation=circle.explanation,
            reflection=reflection_text(circle.prompt_id),
            members=peers.get(row.circle_id, []),
            met=row.met,
            commitment=row.commitment,
            progress_update_id=row.progress_update_id,
        ))
    return views


async def _current_row(session: AsyncSession, member_id: int) -> CircleMember | None:
    return (
        await session.exec(
            select(CircleMember)
            .join(Circle, col(Circle.id) == CircleMember.circle_id)
            .join(CircleRound, col(CircleRound.id) == Circle.round_id)
            .where(CircleMember.member_id == member_id, col(CircleRound.status).in_(OPEN_ROUNDS))
            .order_by(col(CircleRound.scheduled_for).desc(), col(CircleMember.id).desc())
        )
    ).first()


async def my_current_circle(*, session: AsyncSession, actor: Actor) -> MyCirclePublic:
    """The leader's circle in the latest round still open."""
    row = await _current_row(session, require_leader(actor))
    if row is None:
        raise NotFound("you are not in a circle right now")
    [view] = await _views(session, [row])
    return view


async def get_my_circle(*, session: AsyncSession, actor: Actor, circle_id: int) -> MyCirclePublic:
    """One of the leader's own circles; anyone else's is not found."""
    member_id = require_leader(actor)
    row = (
        await session.exec(
            select(CircleMember).where(
                CircleMember.circle_id == circle_id, CircleMember.member_id == member_id
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"circle {circle_id} not found")
    [view] = await _views(session, [row])
    return view


async def my_circles(
    *, session: AsyncSession, actor: Actor, cursor: str | None, limit: int
) -> Page[MyCirclePublic]:
    """Every circle the leader has been in, newest first."""
    member_id = require_leader(actor)
    statement = select(CircleMember).where(CircleMember.member_id == member_id)
    if cursor:
        statement = statement.where(col(CircleMember.id) < decode_cursor(cursor))
    rows = (
        await session.exec(statement.order_by(col(CircleMember.id).desc()).limit(limit + 1))
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page[MyCirclePublic](
        items=await _views(session, rows),
        next_cursor=encode_cursor(rows[-1].id or 0) if more and rows else None,
    )


async def current_circle_for(*, session: AsyncSession, member_id: int) -> str | None:
    """The App Home line for a member's current circle (plain text), or None."""
    row = await _current_row(session, member_id)
    if row is None:
        return None
    [view] = await _views(session, [row])
    others = [peer.name for peer in view.members if peer.member_id != member_id]
    return f"{_names(others)} ({view.series_name}, round {view.round_number})"


def _names(names: list[str]) -> str:
    if not names:
        return "just you"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + f" and {names[-1]}"


# --- what the Slack messages show --------------------------------------------------------


@dataclass(frozen=True)
class IntroMessage:
    """A circle's group-DM introduction."""

    circle_id: int
    series_name: str
    round_number: int
    members: list[CirclePeer]
    explanation: str
    reflection: str | None
    followup_days: int


@dataclass(frozen=True)
class FollowupMessage:
    """One member's follow-up: their circle, their answers, and their open goals to pick."""

    circle_id: int
    series_name: str
    round_number: int
    others: list[str]
    met: MetAnswer | None
    commitment: str | None
    goals: list[tuple[int, str]]


async def intro_message(*, session: AsyncSession, circle_id: int) -> IntroMessage:
    """What a circle's intro shows (for the renderer; reads only)."""
    circle = await session.get(Circle, circle_id)
    circle_round = await session.get(CircleRound, circle.round_id) if circle else None
    series = await session.get(CircleSeries, circle_round.series_id) if circle_round else None
    if circle is None or circle_round is None or series is None:
        raise NotFound(f"circle {circle_id} not found")
    return IntroMessage(
        circle_id=circle_id,
        series_name=series.name,
        round_number=circle_round.number,
        members=(await _peers(session, {circle_id})).get(circle_id, []),
        explanation=circle.explanation,
        reflection=reflection_text(circle.prompt_id),
        followup_days=series.followup_after_days,
    )


async def circle_group_dm(*, session: AsyncSession, circle_id: int) -> tuple[str | None, list[str]]:
    """A circle's group DM if already opened, and its members' Slack user ids to open it."""
    circle = await session.get(Circle, circle_id)
    if circle is None:
        raise NotFound(f"circle {circle_id} not found")
    peers = (await _peers(session, {circle_id})).get(circle_id, [])
    return circle.slack_channel, [peer.slack_user_id for peer in peers]


async def set_circle_channel(*, session: AsyncSession, circle_id: int, channel: str) -> None:
    """Remember the group DM Slack opened for a circle."""
    circle = await session.get(Circle, circle_id)
    if circle is None:
        raise NotFound(f"circle {circle_id} not found")
    circle.slack_channel = channel
    session.add(circle)
    await session.flush()


async def followup_message(
    *, session: AsyncSession, circle_id: int, member_id: int
) -> FollowupMessage:
    """What one member's follow-up shows (for the renderer and the listeners; reads only)."""
    row = (
        await session.exec(
            select(CircleMember).where(
                CircleMember.circle_id == circle_id, CircleMember.member_id == member_id
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"circle {circle_id} not found")
    [view] = await _views(session, [row])
    goals = await session.exec(
        select(Goal.id, Goal.title)
        .where(Goal.member_id == member_id, col(Goal.status).in_(OPEN_GOAL_STATUSES))
        .order_by(col(Goal.id))
    )
    return FollowupMessage(
        circle_id=circle_id,
        series_name=view.series_name,
        round_number=view.round_number,
        others=[peer.name for peer in view.members if peer.member_id != member_id],
        met=row.met,
        commitment=row.commitment,
        goals=[(goal_id or 0, title) for goal_id, title in goals.all()],
    )


async def followup_target(*, session: AsyncSession, circle_member_id: int) -> tuple[int, int]:
    """(circle_id, member_id) of a follow-up intent's circle_member row."""
    row = await session.get(CircleMember, circle_member_id)
    if row is None:
        raise NotFound(f"circle member {circle_member_id} not found")
    return row.circle_id, row.member_id


async def series_name(*, session: AsyncSession, series_id: int) -> str:
    """A series' name, for the paused and not-placed notes."""
    series = await session.get(CircleSeries, series_id)
    if series is None:
        raise NotFound(f"circle series {series_id} not found")
    return series.name


async def round_series(*, session: AsyncSession, round_id: int) -> tuple[int, str]:
    """(round number, series name) of a round."""
    circle_round = await session.get(CircleRound, round_id)
    if circle_round is None:
        raise NotFound(f"circle round {round_id} not found")
    return circle_round.number, await series_name(session=session, series_id=circle_round.series_id)
