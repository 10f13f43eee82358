"""API keys and the actor a request acts as."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import ApiKey, Role
from services.db import utcnow
from services.errors import Invalid, NotAuthenticated, NotFound
from services.people.models import CoachAssignment, Cohort, Enrollment, EnrollmentRole, Member

KEY_PREFIX = "cb"
# Touching last_used_at on every call would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Actor:
    """Who is calling: their workspace, role, and the people and cohorts that role reaches."""

    workspace_id: int
    role: Role
    member_id: int | None = None
    key_id: int | None = None
    cohort_ids: frozenset[int] = field(default_factory=frozenset)
    coachee_ids: frozenset[int] = field(default_factory=frozenset)

    def is_self(self, member_id: int) -> bool:
        return self.member_id is not None and self.member_id == member_id


def _hash(raw_key: str) -> str:
    # Keys carry 192 random bits, so a plain SHA-256 is enough; no slow KDF needed.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def _split(raw_key: str) -> str | None:
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1]


async def create_key(
    *,
    session: AsyncSession,
    workspace_id: int,
    role: Role,
    member_id: int | None = None,
    cohort_id: int | None = None,
    label: str | None = None,
) -> tuple[ApiKey, str]:
    """Create an API key; the raw key is returned once and never stored."""
    if role in (Role.coach, Role.leader) and member_id is None:
        raise Invalid(f"a {role.value} key needs --member", field="member_id")
    if role is Role.owner and member_id is None and cohort_id is None:
        raise Invalid("an owner key needs --member or --cohort", field="member_id")
    if member_id is not None:
        member = await session.get(Member, member_id)
        if member is None or member.workspace_id != workspace_id:
            raise NotFound(f"member {member_id} not found", field="member_id")
    if cohort_id is not None:
        cohort = await session.get(Cohort, cohort_id)
        if cohort is None or cohort.workspace_id != workspace_id:
            raise NotFound(f"cohort {cohort_id} not found", field="cohort_id")
    prefix = secrets.token_hex(6)
    raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(24)}"
    key = ApiKey(
        workspace_id=workspace_id,
        prefix=prefix,
        key_hash=_hash(raw),
        role=role,
        member_id=member_id,
        cohort_id=cohort_id,
        label=label,
    )
    session.add(key)
    await session.flush()
    return key, raw


async def list_keys(*, session: AsyncSession, workspace_id: int | None = None) -> list[ApiKey]:
    """Every key, newest last, optionally for one workspace."""
    statement = select(ApiKey).order_by(ApiKey.id)  # type: ignore[arg-type]
    if workspace_id is not None:
        statement = statement.where(ApiKey.workspace_id == workspace_id)
    return list((await session.exec(statement)).all())


async def revoke_key(*, session: AsyncSession, key_id: int) -> ApiKey:
    """Revoke a key; later requests with it get 401."""
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"key {key_id} not found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
    return key


async def authenticate(*, session: AsyncSession, raw_key: str) -> Actor:
    """Resolve a raw bearer key to the actor it stands for, or raise NotAuthenticated."""
    prefix = _split(raw_key)
    if prefix is None:
        raise NotAuthenticated("malformed API key")
    key = (await session.exec(select(ApiKey).where(ApiKey.prefix == prefix))).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash(raw_key)):
        raise NotAuthenticated("unknown API key")
    if key.revoked_at is not None:
        raise NotAuthenticated("this API key has been revoked")
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now
        session.add(key)
    return await _actor_for(session=session, key=key)


async def _actor_for(*, session: AsyncSession, key: ApiKey) -> Actor:
    return await actor_for(
        session=session,
        workspace_id=key.workspace_id,
        role=Role(key.role),
        member_id=key.member_id,
        cohort_id=key.cohort_id,
        key_id=key.id,
    )


async def actor_for(
    *,
    session: AsyncSession,
    workspace_id: int,
    role: Role,
    member_id: int | None,
    cohort_id: int | None = None,
    key_id: int | None = None,
) -> Actor:
    """The actor for a member acting in a role (from an API key, or from Slack)."""
    cohort_ids: frozenset[int] = frozenset()
    coachee_ids: frozenset[int] = frozenset()
    if role is Role.owner:
        if cohort_id is not None:
            cohort_ids = frozenset({cohort_id})
        else:
            owned = await session.exec(
                select(Enrollment.cohort_id).where(
                    Enrollment.member_id == member_id,
                    Enrollment.role == EnrollmentRole.owner,
                )
            )
            cohort_ids = frozenset(owned.all())
    elif role is Role.coach:
        coached = await session.exec(
            select(CoachAssignment.leader_id).where(CoachAssignment.coach_id == member_id)
        )
        coachee_ids = frozenset(coached.all())
    return Actor(
        workspace_id=workspace_id,
        role=role,
        member_id=member_id,
        key_id=key_id,
        cohort_ids=cohort_ids,
        coachee_ids=coachee_ids,
    )
