"""Record validated drafts as nudges and hand them on: to the outbox, or to the coach.

A cohort's nudge mode decides what happens to a draft: `auto` sends it to the leader,
`coach_review` sends it to the leader's first-assigned coach for Approve / Edit / Reject.
A review cohort whose leader has no coach holds the draft (status `draft`, no reviewer):
nothing unreviewed goes out of a review cohort, and a coach assigned later finds the held
draft in the API and can decide on it there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor
from services.delivery.service import NewDelivery, enqueue_many
from services.nudges.context import Audience
from services.nudges.drafting import DraftedNudge
from services.nudges.models import Nudge, NudgeStatus
from services.nudges.timing import DueLeader
from services.people.models import NudgeMode
from services.privacy.service import record_read

logger = logging.getLogger(__name__)

NUDGE_KIND = "nudge"
REVIEW_KIND = "nudge_review"


@dataclass(frozen=True, slots=True)
class NewNudge:
    """A validated draft for one due leader, and the key that makes it happen once."""

    target: DueLeader
    drafted: DraftedNudge
    dedupe_key: str


def audience_for(target: DueLeader) -> Audience:
    """A draft the coach reads first may only use what the coach may read."""
    return Audience.coach_review if target.mode is NudgeMode.coach_review else Audience.leader


def scheduled_key(*, member_id: int, local_date: date) -> str:
    """The dedupe key of the scheduled nudge for one leader on one local date."""
    return f"nudge:{member_id}:{local_date.isoformat()}"


def _sum(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _row(new: NewNudge, now: datetime) -> dict[str, Any]:
    draft, drafted, target = new.drafted.draft, new.drafted, new.target
    sending = target.mode is NudgeMode.auto
    return {
        "workspace_id": target.workspace_id,
        "member_id": target.member_id,
        "cohort_id": target.cohort_id,
        "dedupe_key": new.dedupe_key,
        "goal_id": draft.cited_goal_id,
        "milestone_id": draft.cited_milestone_id,
        "text": draft.text.strip(),
        "rationale": draft.rationale.strip() or None,
        "suggested_action": draft.suggested_action.strip() or None,
        "source": drafted.source.value,
        "model": drafted.model,
        "prompt_version": drafted.prompt_version,
        "outcome": drafted.outcome.value,
        "llm_model": drafted.llm_model,
        # What the nudge cost: every attempt, the failed LLM tries before a fallback included.
        "tokens_in": _sum([a.tokens_in for a in drafted.attempts]),
        "tokens_out": _sum([a.tokens_out for a in drafted.attempts]),
        "latency_ms": sum(a.latency_ms for a in drafted.attempts),
        "attempts": max(len(drafted.attempts), 1),
        "attempt_log": drafted.attempt_log(),
        "status": (NudgeStatus.sent if sending else NudgeStatus.draft).value,
        "sent_at": now if sending else None,
        "local_date": target.local_date,
        "created_at": now,
    }


async def record_nudges(
    *, session: AsyncSession, nudges: Sequence[NewNudge], now: datetime
) -> list[Nudge]:
    """Store validated drafts with their records and send or queue each; returns the new
    ones (a key already used is skipped: a second sweep, a retried command)."""
    if not nudges:
        return []
    rows = [_row(new, now) for new in nudges]
    # One INSERT for the lot; duplicates insert nothing and need no savepoint or ORM flush.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Nudge).values(rows)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(col(Nudge.id), col(Nudge.dedupe_key))
    )
    ids = {key: nudge_id for nudge_id, key in (await session.exec(statement)).all()}
    made: list[Nudge] = []
    deliveries: list[NewDelivery] = []
    for new, row in zip(nudges, rows, strict=True):
        if row["dedupe_key"] not in ids:
            continue
        nudge = Nudge(id=ids[row["dedupe_key"]], **row)
        made.append(nudge)
        coach_id = new.target.coach_id
        if new.target.mode is NudgeMode.auto:
            deliveries.append(nudge_delivery(nudge))
        elif coach_id is not None:
            deliveries.append(review_delivery(nudge, coach_id=coach_id))
            # The draft reaches the coach's DM: that is a read of the leader's content.
            coach = Actor(workspace_id=nudge.workspace_id, role=Role.coach, member_id=coach_id)
            record_read(session=session, actor=coach, subject_member_id=nudge.member_id,
                        object_type="nudge", object_id=nudge.id)
        else:
            logger.info("nudge %s held: leader %s has no coach to review it", nudge.id,
                        nudge.member_id)
    await enqueue_many(session=session, deliveries=deliveries)
    return made


async def record_nudge(
    *,
    session: AsyncSession,
    target: DueLeader,
    drafted: DraftedNudge,
    dedupe_key: str,
    now: datetime,
) -> Nudge | None:
    """Store one validated draft and send or queue it; None if its key was already used."""
    made = await record_nudges(
        session=session, nudges=[NewNudge(target, drafted, dedupe_key)], now=now
    )
    return made[0] if made else None


def nudge_delivery(nudge: Nudge, *, snoozed_until: datetime | None = None) -> NewDelivery:
    """The outbox row that sends a nudge to its leader (again, after a snooze)."""
    intent: dict[str, Any] = {"kind": NUDGE_KIND, "nudge_id": nudge.id}
    if snoozed_until is not None:
        intent["snoozed"] = True
    return NewDelivery(
        workspace_id=nudge.workspace_id,
        delivery_key=f"nudge:{nudge.id}" + (":snoozed" if snoozed_until else ""),
        kind=NUDGE_KIND,
        intent=intent,
        member_id=nudge.member_id,
        not_before=snoozed_until,
    )


def review_delivery(nudge: Nudge, *, coach_id: int) -> NewDelivery:
    """The outbox row that asks the coach to review a draft."""
    return NewDelivery(
        workspace_id=nudge.workspace_id,
        delivery_key=f"nudge_review:{nudge.id}",
        kind=REVIEW_KIND,
        intent={"kind": REVIEW_KIND, "nudge_id": nudge.id},
        member_id=coach_id,
    )
