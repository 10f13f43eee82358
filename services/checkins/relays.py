"""Replies relayed between a coach's review thread and the leader's DM, each saying who
wrote it, through the delivery outbox.

A coach's first reply starts the thread on the leader's side: it is sent as a message of
its own, under a fixed delivery key, and every later relay to the leader replies in its
thread. The leader's replies go into the coach's thread about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import ReviewThread
from services.checkins.reviews import Side, thread_key, thread_people
from services.delivery.models import Delivery, DeliveryState
from services.delivery.service import NewDelivery, enqueue_many
from services.people.models import Member

RELAY_KIND: Final = "review_relay"


def relay_key(thread_id: int, author_side: Side, ts: str) -> str:
    """The delivery key of one relayed reply: a Slack message is relayed once."""
    return f"review:{thread_id}:from-{author_side}:{ts}"


@dataclass(frozen=True)
class Relay:
    """A reply in a review thread, for the other person: who wrote it, and whether it is
    the message that starts the thread on the leader's side."""

    thread_id: int
    author_name: str
    author_side: Side
    opens_thread: bool = False


async def _thread_of_message(
    session: AsyncSession, author: Member, channel: str, thread_ts: str
) -> tuple[int, Side] | None:
    """The review thread (and the author's side of it) whose parent message in the
    author's DM is `channel`/`thread_ts`."""
    threads = (await session.exec(
        select(ReviewThread).where(
            ReviewThread.workspace_id == author.workspace_id,
            (ReviewThread.coach_id == author.id) | (ReviewThread.leader_id == author.id)))).all()
    sides: dict[str, tuple[int, Side]] = {}
    for thread in threads:
        thread_id = thread.id or 0
        if thread.coach_id == author.id:
            sides[thread_key(thread_id, "coach")] = (thread_id, "coach")
        if thread.leader_id == author.id:
            sides[thread_key(thread_id, "leader")] = (thread_id, "leader")
    if not sides:
        return None
    key = (await session.exec(
        select(Delivery.delivery_key).where(
            col(Delivery.delivery_key).in_(sides), Delivery.slack_channel == channel,
            Delivery.slack_ts == thread_ts, Delivery.state == DeliveryState.sent))).first()
    return sides[key] if key is not None else None


async def relay_reply(
    *, session: AsyncSession, author: Member, channel: str, thread_ts: str, ts: str, text: str
) -> bool:
    """Queue a reply written in a review thread for the other person; False when the
    message is in no review thread of its author's, or the coaching has ended."""
    found = await _thread_of_message(session, author, channel, thread_ts)
    people = await thread_people(session=session, thread_id=found[0]) if found else None
    if found is None or people is None:
        return False
    thread_id, side = found
    to = other_side(side)
    intent = {"kind": RELAY_KIND, "thread_id": thread_id, "from": side, "text": text}
    recipient = people.member(to).id
    workspace_id = people.thread.workspace_id
    parent = thread_key(thread_id, to)
    if to == "leader":
        opener = NewDelivery(workspace_id=workspace_id, delivery_key=parent, kind=RELAY_KIND,
                             intent={**intent, "opens_thread": True, "source_ts": ts},
                             member_id=recipient)
        if await enqueue_many(session=session, deliveries=[opener]):
            return True
        started = (await session.exec(
            select(Delivery.intent).where(Delivery.delivery_key == parent))).first()
        if started is not None and started.get("source_ts") == ts:
            return True  # this very message started the thread (Slack sent it again)
    await enqueue_many(session=session, deliveries=[NewDelivery(
        workspace_id=workspace_id, delivery_key=relay_key(thread_id, side, ts),
        kind=RELAY_KIND, intent=intent, member_id=recipient, thread_key=parent)])
    return True


def other_side(side: Side) -> Side:
    """The other person's side of a thread."""
    return "leader" if side == "coach" else "coach"


async def relay_view(
    *, session: AsyncSession, thread_id: int, author_side: Side, recipient_id: int | None,
    opens_thread: bool,
) -> Relay | None:
    """Who wrote a relayed reply for `recipient_id`, the other person of the thread, while
    the coaching goes on; None once it has ended or for anyone else."""
    people = await thread_people(session=session, thread_id=thread_id)
    if people is None or people.member(other_side(author_side)).id != recipient_id:
        return None
    return Relay(thread_id=thread_id, author_name=people.member(author_side).name,
                 author_side=author_side, opens_thread=opens_thread)
