"""Progress updates on a goal (optionally about one of its milestones)."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.service import Actor
from services.errors import Invalid, NotFound
from services.pagination import Page, paginate
from services.plans.access import readable_goal, require_content_role, writable_goal
from services.plans.models import (
    Milestone,
    ProgressSource,
    ProgressUpdate,
    ProgressUpdateCreate,
    ProgressUpdatePublic,
    ProgressUpdateUpdate,
)


async def _update(
    session: AsyncSession, actor: Actor, update_id: int, *, write: bool
) -> ProgressUpdate:
    require_content_role(actor)
    update = await session.get(ProgressUpdate, update_id)
    if update is None or update.workspace_id != actor.workspace_id:
        raise NotFound(f"progress update {update_id} not found")
    try:
        if write:
            await writable_goal(session=session, actor=actor, goal_id=update.goal_id)
        else:
            await readable_goal(
                session=session, actor=actor, goal_id=update.goal_id, object_type="progress"
            )
    except NotFound as exc:
        raise NotFound(f"progress update {update_id} not found") from exc
    return update


async def list_progress(
    *, session: AsyncSession, actor: Actor, goal_id: int, cursor: str | None, limit: int
) -> Page[ProgressUpdatePublic]:
    """A goal's progress updates, oldest first."""
    await readable_goal(session=session, actor=actor, goal_id=goal_id, object_type="progress")
    return await paginate(
        session,
        select(ProgressUpdate).where(ProgressUpdate.goal_id == goal_id),
        id_column=ProgressUpdate.id,
        cursor=cursor,
        limit=limit,
        to_public=ProgressUpdatePublic.model_validate,
    )


async def get_progress(*, session: AsyncSession, actor: Actor, update_id: int) -> ProgressUpdate:
    """One progress update the actor may read."""
    return await _update(session, actor, update_id, write=False)


async def log_progress(
    *,
    session: AsyncSession,
    actor: Actor,
    goal_id: int,
    data: ProgressUpdateCreate,
    source: ProgressSource = ProgressSource.api,
) -> ProgressUpdate:
    """Log progress on a goal of the actor's own plan."""
    goal = await writable_goal(session=session, actor=actor, goal_id=goal_id)
    if data.milestone_id is not None:
        milestone = await session.get(Milestone, data.milestone_id)
        if milestone is None or milestone.goal_id != goal_id:
            raise Invalid(
                f"milestone {data.milestone_id} is not part of goal {goal_id}",
                field="milestone_id",
            )
    update = ProgressUpdate.model_validate(
        data,
        update={
            "workspace_id": goal.workspace_id,
            "goal_id": goal_id,
            "member_id": goal.member_id,
            "source": source,
        },
    )
    session.add(update)
    await session.flush()
    return update


async def edit_progress(
    *, session: AsyncSession, actor: Actor, update_id: int, data: ProgressUpdateUpdate
) -> ProgressUpdate:
    """Correct the note or confidence of a progress update."""
    update = await _update(session, actor, update_id, write=True)
    changes = data.model_dump(exclude_unset=True)
    if "note" in changes and changes["note"] is None:
        raise Invalid("note cannot be null", field="note")
    update.sqlmodel_update(changes)
    session.add(update)
    await session.flush()
    return update


async def delete_progress(*, session: AsyncSession, actor: Actor, update_id: int) -> None:
    """Delete a progress update."""
    update = await _update(session, actor, update_id, write=True)
    await session.delete(update)
    await session.flush()
