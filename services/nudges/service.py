"""Nudges once recorded: who may read them, the coach's Approve / Edit / Reject, the
leader's feedback, and what a Slack message about one shows. Recording is in `recording`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor
from services.delivery.service import enqueue_many
from services.errors import Conflict, Invalid, NotFound, NotPermitted
from services.nudges.models import Nudge, NudgeFeedback, NudgeStatus
from services.nudges.recording import nudge_delivery
from services.nudges.schema import NudgeContext
from services.nudges.timing import is_paused, leader_zone
from services.nudges.validation import MAX_TEXT_CHARS, MIN_TEXT_CHARS, content_problems
from services.people.models import Cohort, Enrollment, EnrollmentRole, Member, NudgeMode
from services.plans.access import require_content_role
from services.plans.models import Goal, Milestone, Visibility
from services.privacy.service import record_read

SNOOZE = timedelta(hours=24)
# For checks that look for mentions, links and control characters but not for names.
_NO_NAMES = NudgeContext(leader_first_name="", local_date=date.min)


async def _send(*, session: AsyncSession, nudge: Nudge, now: datetime) -> None:
    await enqueue_many(session=session, deliveries=[nudge_delivery(nudge)])
    nudge.status = NudgeStatus.sent
    nudge.sent_at = now
    session.add(nudge)


# --- who may read and act on a nudge -----------------------------------------------------


def readable_nudges(actor: Actor) -> Any:
    """A WHERE clause: the leader's own sent nudges; a coach's reviewable coachee nudges."""
    require_content_role(actor)
    in_workspace = col(Nudge.workspace_id) == actor.workspace_id
    if actor.role is Role.coach:
        # Only drafts made for review (built from coach-visible goals), and only while the
        # cited goal is still shared with coaches; never what auto mode sent from private ones.
        shared = select(Goal.id).where(Goal.visibility == Visibility.coach)
        return (
            in_workspace
            & col(Nudge.member_id).in_(actor.coachee_ids)
            & or_(col(Nudge.status) == NudgeStatus.draft, col(Nudge.reviewer_id).is_not(None))
            & col(Nudge.goal_id).in_(shared)
        )
    return (
        in_workspace
        & (col(Nudge.member_id) == actor.member_id)
        & (col(Nudge.status) == NudgeStatus.sent)
    )


async def get_nudge(*, session: AsyncSession, actor: Actor, nudge_id: int) -> Nudge:
    """A nudge the actor may read (audited when it is someone else's), else NotFound."""
    nudge = (
        await session.exec(select(Nudge).where(Nudge.id == nudge_id, readable_nudges(actor)))
    ).first()
    if nudge is None:
        raise NotFound(f"nudge {nudge_id} not found")
    record_read(session=session, actor=actor, subject_member_id=nudge.member_id,
                object_type="nudge", object_id=nudge.id)
    return nudge


async def _for_review(*, session: AsyncSession, actor: Actor, nudge_id: int) -> Nudge:
    nudge = await get_nudge(session=session, actor=actor, nudge_id=nudge_id)
    if actor.role is not Role.coach:
        raise NotPermitted("only the leader's coach reviews a drafted nudge")
    if nudge.status != NudgeStatus.draft:
        raise Conflict(f"this nudge was already {NudgeStatus(nudge.status).value}")
    return nudge


async def _require_deliverable(*, session: AsyncSession, nudge: Nudge, now: datetime) -> None:
    """A leader who paused, left or switched nudges off gets nothing, approved or not."""
    member = await session.get(Member, nudge.member_id)
    rows = await session.exec(
        select(Enrollment, Cohort)
        .join(Cohort, col(Cohort.id) == Enrollment.cohort_id)
        .where(Enrollment.member_id == nudge.member_id,
               Enrollment.cohort_id == nudge.cohort_id,
               Enrollment.role == EnrollmentRole.leader)
    )
    found = rows.first()
    if member is None or member.erased_at is not None or found is None:
        raise Conflict("this leader is no longer in the cohort")
    enrollment, cohort = found
    today = now.astimezone(leader_zone(member)).date()
    if enrollment.status == "left":
        raise Conflict("this leader left the cohort")
    if is_paused(enrollment, today=today):
        raise Conflict("this leader has paused nudges; reject the draft or try after the pause")
    if cohort.nudge_mode == NudgeMode.off:
        raise Conflict("nudges are switched off for this cohort")


def _decided(nudge: Nudge, actor: Actor, now: datetime) -> None:
    nudge.reviewer_id = actor.member_id
    nudge.decided_at = now


async def approve_nudge(
    *, session: AsyncSession, actor: Actor, nudge_id: int, now: datetime
) -> Nudge:
    """The coach approves a draft as it is; it goes to the leader."""
    nudge = await _for_review(session=session, actor=actor, nudge_id=nudge_id)
    await _require_deliverable(session=session, nudge=nudge, now=now)
    _decided(nudge, actor, now)
    await _send(session=session, nudge=nudge, now=now)
    return nudge


def edit_problems(text: str) -> list[str]:
    """What in a coach's rewrite may not go out: length, mentions, links, addresses."""
    problems = []
    if len(text) < MIN_TEXT_CHARS:
        problems.append(f"Write at least {MIN_TEXT_CHARS} characters.")
    if len(text) > MAX_TEXT_CHARS:
        problems.append(f"Keep it under {MAX_TEXT_CHARS} characters.")
    # A coach may name people; mentions, links and control characters never go out.
    problems.extend(f"The text {p}." for p in content_problems(text=text, context=_NO_NAMES))
    return problems


async def edit_nudge(
    *, session: AsyncSession, actor: Actor, nudge_id: int, text: str, now: datetime
) -> Nudge:
    """The coach rewrites a draft and sends it; the drafted text is kept as `original_text`."""
    text = text.strip()
    problems = edit_problems(text)
    if problems:
        raise Invalid(" ".join(problems), field="text")
    nudge = await _for_review(session=session, actor=actor, nudge_id=nudge_id)
    await _require_deliverable(session=session, nudge=nudge, now=now)
    if text != nudge.text:
        nudge.original_text = nudge.original_text or nudge.text
        nudge.text = text
    _decided(nudge, actor, now)
    await _send(session=session, nudge=nudge, now=now)
    return nudge


async def reject_nudge(
    *, session: AsyncSession, actor: Actor, nudge_id: int, now: datetime
) -> Nudge:
    """The coach rejects a draft; the leader never sees it, and it still counts for the week."""
    nudge = await _for_review(session=session, actor=actor, nudge_id=nudge_id)
    nudge.status = NudgeStatus.rejected
    _decided(nudge, actor, now)
    session.add(nudge)
    return nudge


async def record_feedback(
    *,
    session: AsyncSession,
    actor: Actor,
    nudge_id: int,
    feedback: NudgeFeedback,
    now: datetime,
) -> Nudge:
    """The leader's Helpful / Not helpful / Snooze; a snooze brings the nudge back tomorrow."""
    nudge = await get_nudge(session=session, actor=actor, nudge_id=nudge_id)
    if not actor.is_self(nudge.member_id):
        raise NotPermitted("only the leader gives feedback on their nudge")
    if feedback is NudgeFeedback.snoozed and nudge.feedback is None:
        # Once per nudge: the copy that comes back has no Snooze button.
        await enqueue_many(session=session,
                           deliveries=[nudge_delivery(nudge, snoozed_until=now + SNOOZE)])
    nudge.feedback = feedback
    nudge.feedback_at = now
    session.add(nudge)
    return nudge


# --- what a message shows ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NudgeMessage:
    """What the Slack renderers need for one nudge or one review request."""

    nudge_id: int
    text: str
    suggested_action: str | None
    rationale: str | None
    goal_title: str | None
    milestone_title: str | None
    leader_name: str
    status: NudgeStatus
    feedback: NudgeFeedback | None
    edited: bool


async def nudge_message(
    *, session: AsyncSession, nudge_id: int, for_review: bool = False
) -> NudgeMessage:
    """The message facts for a nudge; for a review, only while its goal is shared with coaches."""
    nudge = await session.get(Nudge, nudge_id)
    if nudge is None:
        raise NotFound(f"nudge {nudge_id} not found")
    goal = await session.get(Goal, nudge.goal_id) if nudge.goal_id is not None else None
    if for_review and (goal is None or goal.visibility != Visibility.coach):
        raise NotPermitted("the goal this draft cites is no longer shared with coaches")
    milestone = (
        await session.get(Milestone, nudge.milestone_id) if nudge.milestone_id is not None
        else None
    )
    leader = await session.get(Member, nudge.member_id)
    return NudgeMessage(
        nudge_id=nudge.id or 0,
        text=nudge.text,
        suggested_action=nudge.suggested_action,
        rationale=nudge.rationale,
        goal_title=_quotable(goal.title) if goal is not None else None,
        milestone_title=_quotable(milestone.title) if milestone is not None else None,
        leader_name=leader.name if leader is not None else "a leader",
        status=NudgeStatus(nudge.status),
        feedback=NudgeFeedback(nudge.feedback) if nudge.feedback else None,
        edited=nudge.original_text is not None,
    )


def _quotable(title: str) -> str | None:
    """A title to quote in "why you're getting this", unless it holds a mention or a link."""
    return None if content_problems(text=title, context=_NO_NAMES) else title


async def review_message(*, session: AsyncSession, actor: Actor, nudge_id: int) -> NudgeMessage:
    """The draft as its coach may see it (for the Edit modal)."""
    await _for_review(session=session, actor=actor, nudge_id=nudge_id)
    return await nudge_message(session=session, nudge_id=nudge_id, for_review=True)
