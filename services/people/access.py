"""Which people and cohorts an actor reaches. Rows outside that reach answer 404, not 403."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_
from sqlmodel import col, select

from services.auth.models import Role
from services.auth.service import Actor
from services.errors import NotPermitted
from services.people.models import Cohort, Enrollment, Member


def cohort_filter(actor: Actor) -> Any:
    """A WHERE clause limiting cohorts to those the actor can see."""
    in_workspace = col(Cohort.workspace_id) == actor.workspace_id
    if actor.role is Role.admin:
        return in_workspace
    reachable = set(actor.cohort_ids)
    own = (
        col(Cohort.id).in_(
            select(Enrollment.cohort_id).where(Enrollment.member_id == actor.member_id)
        )
        if actor.member_id is not None
        else false()
    )
    return in_workspace & or_(col(Cohort.id).in_(reachable), own)


def member_filter(actor: Actor) -> Any:
    """A WHERE clause limiting members to those the actor can see."""
    in_workspace = col(Member.workspace_id) == actor.workspace_id
    if actor.role is Role.admin:
        return in_workspace
    is_self = col(Member.id) == actor.member_id if actor.member_id is not None else false()
    if actor.role is Role.owner:
        enrolled = col(Member.id).in_(
            select(Enrollment.member_id).where(col(Enrollment.cohort_id).in_(actor.cohort_ids))
        )
        return in_workspace & or_(is_self, enrolled)
    if actor.role is Role.coach:
        return in_workspace & or_(is_self, col(Member.id).in_(actor.coachee_ids))
    return in_workspace & is_self


def require_manager(actor: Actor, cohort_id: int | None = None) -> None:
    """Admins manage everything; owners manage their own cohorts; nobody else manages."""
    if actor.role is Role.admin:
        return
    if actor.role is Role.owner and (cohort_id is None or cohort_id in actor.cohort_ids):
        return
    raise NotPermitted("your role cannot make this change")
