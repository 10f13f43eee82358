"""Check-in templates: the default weekly template, CRUD, and the questions a schedule asks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor
from services.checkins.models import (
    CheckinKind,
    CheckinSchedule,
    CheckinTemplate,
    Question,
    QuestionKind,
    TemplateCreate,
    TemplatePublic,
    TemplateUpdate,
)
from services.errors import NotFound, NotPermitted
from services.pagination import Page, paginate
from services.people.access import cohort_filter, require_manager
from services.people.models import Cohort
from services.prompts import Reflection

DEFAULT_WEEKLY_NAME = "Weekly check-in"
DEFAULT_WEEKLY: tuple[Question, ...] = (
    Question(id="week", kind=QuestionKind.scale, text="How did this week go for you, 1 to 5?"),
    Question(
        id="progress",
        kind=QuestionKind.goal_progress,
        text="Where do your milestones stand?",
        required=False,
    ),
    Question(id="learned", kind=QuestionKind.text, text="What went well, and what got in the way?"),
    Question(
        id="help",
        kind=QuestionKind.choice,
        text="What would help you most next week?",
        choices=["Time with my coach", "Feedback from my team", "Focus time", "I'm on track"],
        required=False,
    ),
)
REFLECTION_QUESTION_ID = "reflection"


def default_weekly_questions() -> list[dict[str, Any]]:
    """The default weekly template's questions, as stored in a check-in's snapshot."""
    return [question.model_dump(mode="json") for question in DEFAULT_WEEKLY]


def reflection_questions(reflection: Reflection) -> list[dict[str, Any]]:
    """A reflection prompt as a one-question check-in."""
    question = Question(id=REFLECTION_QUESTION_ID, kind=QuestionKind.text, text=reflection.text)
    return [{**question.model_dump(mode="json"), "prompt_id": reflection.id,
             "competency": reflection.competency}]


def to_public(template: CheckinTemplate) -> TemplatePublic:
    """The API shape of a template."""
    return TemplatePublic.model_validate(template, from_attributes=True)


async def schedule_questions(
    *, session: AsyncSession, schedule: CheckinSchedule
) -> list[dict[str, Any]]:
    """The questions an occurrence of this schedule asks (reflections get theirs per leader)."""
    if schedule.kind == CheckinKind.reflection:
        return []
    if schedule.template_id is not None:
        template = await session.get(CheckinTemplate, schedule.template_id)
        if template is not None and template.questions:
            return list(template.questions)
    return default_weekly_questions()


def _template_filter(actor: Actor) -> Any:
    visible_cohorts = select(Cohort.id).where(cohort_filter(actor))
    cohort = col(CheckinTemplate.cohort_id)
    return (col(CheckinTemplate.workspace_id) == actor.workspace_id) & or_(
        cohort.is_(None), cohort.in_(visible_cohorts)
    )


def _require_template_manager(actor: Actor, cohort_id: int | None) -> None:
    # A workspace-wide template is shared by every cohort, so only an admin changes it.
    if cohort_id is None and actor.role is not Role.admin:
        raise NotPermitted("only an admin manages workspace-wide templates")
    require_manager(actor, cohort_id)


async def list_templates(
    *, session: AsyncSession, actor: Actor, cursor: str | None, limit: int
) -> Page[TemplatePublic]:
    """Templates the actor can see: workspace-wide ones and those of their cohorts."""
    return await paginate(
        session, select(CheckinTemplate).where(_template_filter(actor)),
        id_column=CheckinTemplate.id, cursor=cursor, limit=limit, to_public=to_public,
    )


async def get_template(*, session: AsyncSession, actor: Actor, template_id: int) -> CheckinTemplate:
    """One template the actor can see."""
    template = (
        await session.exec(
            select(CheckinTemplate).where(
                CheckinTemplate.id == template_id, _template_filter(actor)
            )
        )
    ).first()
    if template is None:
        raise NotFound(f"template {template_id} not found")
    return template


async def create_template(
    *, session: AsyncSession, actor: Actor, data: TemplateCreate
) -> CheckinTemplate:
    """Create a template for a cohort (its owner or an admin) or the workspace (an admin)."""
    if data.cohort_id is not None:
        cohort = (
            await session.exec(select(Cohort).where(Cohort.id == data.cohort_id,
                                                    cohort_filter(actor)))
        ).first()
        if cohort is None:
            raise NotFound(f"cohort {data.cohort_id} not found", field="cohort_id")
    _require_template_manager(actor, data.cohort_id)
    template = CheckinTemplate(
        workspace_id=actor.workspace_id,
        cohort_id=data.cohort_id,
        name=data.name,
        questions=[q.model_dump(mode="json") for q in data.questions],
    )
    session.add(template)
    await session.flush()
    return template


async def update_template(
    *, session: AsyncSession, actor: Actor, template_id: int, data: TemplateUpdate
) -> CheckinTemplate:
    """Rename a template or replace its questions; sent check-ins keep their snapshot."""
    template = await get_template(session=session, actor=actor, template_id=template_id)
    _require_template_manager(actor, template.cohort_id)
    if data.name is not None:
        template.name = data.name
    if data.questions is not None:
        template.questions = [q.model_dump(mode="json") for q in data.questions]
    session.add(template)
    await session.flush()
    return template


async def delete_template(*, session: AsyncSession, actor: Actor, template_id: int) -> None:
    """Delete a template; schedules using it fall back to the default weekly template."""
    template = await get_template(session=session, actor=actor, template_id=template_id)
    _require_template_manager(actor, template.cohort_id)
    await session.delete(template)
    await session.flush()
