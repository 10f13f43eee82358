"""Audit trail writes: every read of someone else's content is recorded."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.service import Actor
from services.privacy.models import AuditEvent


def record_read(
    *,
    session: AsyncSession,
    actor: Actor,
    subject_member_id: int,
    object_type: str,
    object_id: int | None = None,
) -> None:
    """Record that the actor read content belonging to another member (no-op for oneself)."""
    if actor.is_self(subject_member_id):
        return
    session.add(
        AuditEvent(
            workspace_id=actor.workspace_id,
            actor_key_id=actor.key_id,
            actor_member_id=actor.member_id,
            action="read",
            subject_member_id=subject_member_id,
            object_type=object_type,
            object_id=object_id,
        )
    )


def record_action(
    *,
    session: AsyncSession,
    actor: Actor,
    action: str,
    subject_member_id: int,
    object_type: str,
    object_id: int | None = None,
) -> None:
    """Record a privacy-relevant action such as an export or an erasure."""
    session.add(
        AuditEvent(
            workspace_id=actor.workspace_id,
            actor_key_id=actor.key_id,
            actor_member_id=actor.member_id,
            action=action,
            subject_member_id=subject_member_id,
            object_type=object_type,
            object_id=object_id,
        )
    )
