"""Answering a check-in: the form to show, validation, answers with a snapshot of what was
asked, goal-progress answers becoming progress updates (and milestone changes), and the
answered check-in queued for the leader's coaches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.service import Actor
from services.checkins.models import (
    AnswerIn,
    AnswerPublic,
    AnswersSubmit,
    Checkin,
    CheckinAnswer,
    CheckinSchedule,
    CheckinStatus,
    QuestionKind,
)
from services.checkins.reviews import enqueue_reviews
from services.checkins.service import ANSWERABLE, cancel_messages, readable_checkin
from services.errors import Conflict, Invalid, NotFound, NotPermitted
from services.plans.milestones import update_milestone
from services.plans.models import (
    OPEN_GOAL_STATUSES,
    Goal,
    Milestone,
    MilestoneStatus,
    MilestoneUpdate,
    ProgressSource,
    ProgressUpdateCreate,
    Visibility,
)
from services.plans.progress import log_progress

# One goal-progress item takes three modal inputs; Slack allows 100 blocks per modal.
MAX_MILESTONE_ITEMS = 20
OPEN_MILESTONES = (MilestoneStatus.open, MilestoneStatus.in_progress)


class InvalidAnswers(Invalid):
    """Answers that cannot be stored, by answer key (question id, or `question:milestone`)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()), field=next(iter(errors), None))
        self.errors = errors


@dataclass(frozen=True)
class MilestoneItem:
    milestone_id: int
    title: str
    goal_id: int
    goal_title: str
    status: MilestoneStatus
    visibility: Visibility


@dataclass(frozen=True)
class FormQuestion:
    id: str
    kind: QuestionKind
    text: str
    required: bool
    choices: list[str] = field(default_factory=list)
    items: list[MilestoneItem] = field(default_factory=list)


@dataclass(frozen=True)
class CheckinForm:
    checkin_id: int
    title: str
    late: bool
    questions: list[FormQuestion]


def item_key(question_id: str, milestone_id: int) -> str:
    """The answer key of one milestone in a goal-progress question."""
    return f"{question_id}:m{milestone_id}"


async def open_milestones(
    *, session: AsyncSession, member_id: int, include: set[int] | None = None
) -> list[MilestoneItem]:
    """The leader's open milestones on open goals (plus any in `include`), in plan order."""
    wanted = (col(Milestone.status).in_(OPEN_MILESTONES) & col(Goal.status).in_(
        OPEN_GOAL_STATUSES))
    if include:
        wanted = wanted | col(Milestone.id).in_(include)
    rows = await session.exec(
        select(Milestone, Goal).join(Goal, col(Goal.id) == Milestone.goal_id)
        .where(Goal.member_id == member_id, wanted)
        .order_by(col(Goal.id), col(Milestone.position), col(Milestone.id))
    )
    return [
        MilestoneItem(milestone_id=m.id or 0, title=m.title, goal_id=g.id or 0,
                      goal_title=g.title, status=MilestoneStatus(m.status),
                      visibility=Visibility(g.visibility))
        for m, g in rows.all()
    ]


def _form_questions(questions: list[dict[str, Any]], items: list[MilestoneItem]) -> list[
        FormQuestion]:
    form = []
    for q in questions:
        kind = QuestionKind(q["kind"])
        form.append(FormQuestion(
            id=str(q["id"]), kind=kind, text=str(q["text"]), required=bool(q.get("required")),
            choices=list(q.get("choices") or []),
            items=items[:MAX_MILESTONE_ITEMS] if kind is QuestionKind.goal_progress else []))
    return form


async def checkin_form(
    *, session: AsyncSession, actor: Actor, checkin_id: int, now: datetime
) -> CheckinForm:
    """The questions to show now, goal-progress expanded to the leader's open milestones."""
    checkin = await readable_checkin(session=session, actor=actor, checkin_id=checkin_id)
    if not actor.is_self(checkin.member_id):
        raise NotPermitted("only the leader answers their check-in")
    if checkin.status not in ANSWERABLE:
        raise Conflict(_closed(CheckinStatus(checkin.status)))
    schedule = await session.get(CheckinSchedule, checkin.schedule_id)
    items = await open_milestones(session=session, member_id=checkin.member_id)
    return CheckinForm(
        checkin_id=checkin_id, title=schedule.name if schedule else "Check-in",
        late=checkin.expires_at <= now, questions=_form_questions(checkin.questions, items))


def _closed(status: CheckinStatus) -> str:
    if status is CheckinStatus.answered:
        return "You already answered this check-in."
    if status is CheckinStatus.skipped:
        return "You skipped this check-in."
    return "This check-in was never sent and can't be answered."


async def _claim(session: AsyncSession, actor: Actor, checkin_id: int, now: datetime) -> None:
    """Mark the check-in answered first: of two submissions at once, exactly one wins."""
    statement = (
        update(Checkin)
        .where(col(Checkin.id) == checkin_id, col(Checkin.workspace_id) == actor.workspace_id,
               col(Checkin.member_id) == actor.member_id, col(Checkin.status).in_(ANSWERABLE))
        .values(status=CheckinStatus.answered, answered_at=now, next_reminder_at=None,
                snoozed_until=None,
                late=case((col(Checkin.expires_at) <= now, True), else_=False))
        .execution_options(synchronize_session=False)
    )
    if (await session.exec(statement)).rowcount:
        return
    checkin = await readable_checkin(session=session, actor=actor, checkin_id=checkin_id)
    if not actor.is_self(checkin.member_id):
        raise NotPermitted("only the leader answers their check-in")
    raise Conflict(_closed(CheckinStatus(checkin.status)))


def _check_plain(question: FormQuestion, answer: AnswerIn | None) -> str | None:
    """The problem with one non-goal answer, if any."""
    if question.kind is QuestionKind.text:
        text = (answer.text or "").strip() if answer else ""
        return "Please answer this question." if question.required and not text else None
    if question.kind is QuestionKind.scale:
        number = answer.number if answer else None
        if number is None:
            return "Pick a number from 1 to 5." if question.required else None
        return None if 1 <= number <= 5 else "Pick a number from 1 to 5."
    choice = (answer.text or "").strip() if answer else ""
    if not choice:
        return "Choose one." if question.required else None
    return None if choice in question.choices else "Choose one of the options."


def _check_item(answer: AnswerIn, items: dict[int, MilestoneItem]) -> str | None:
    if answer.milestone_id is None or answer.milestone_id not in items:
        return "That milestone is not in your plan."
    if answer.number is not None and not 1 <= answer.number <= 5:
        return "Confidence is from 1 to 5."
    return None


def _validate(form: list[FormQuestion], answers: list[AnswerIn],
              items: dict[int, MilestoneItem]) -> dict[str, str]:
    by_question: dict[str, list[AnswerIn]] = {}
    for answer in answers:
        by_question.setdefault(answer.question_id, []).append(answer)
    errors: dict[str, str] = {}
    known = {q.id for q in form}
    for unknown in sorted(set(by_question) - known):
        errors[unknown] = f"This check-in has no question {unknown!r}."
    for question in form:
        given = by_question.get(question.id, [])
        if question.kind is not QuestionKind.goal_progress:
            if len(given) > 1:
                errors[question.id] = "Answer each question once."
            elif problem := _check_plain(question, given[0] if given else None):
                errors[question.id] = problem
            continue
        seen: set[int] = set()
        for answer in given:
            key = item_key(question.id, answer.milestone_id or 0)
            if problem := _check_item(answer, items):
                errors[key] = problem
            elif answer.milestone_id in seen:
                errors[key] = "Answer each milestone once."
            seen.add(answer.milestone_id or 0)
        if question.required and not any(_has_content(a) for a in given):
            errors.setdefault(question.id, "Tell us about at least one milestone.")
    return errors


def _has_content(answer: AnswerIn) -> bool:
    return bool((answer.text or "").strip()) or answer.number is not None or (
        answer.status is not None)


def _snapshot(form: list[FormQuestion]) -> list[dict[str, Any]]:
    """The questions as asked, goal-progress with the milestones it listed."""
    snapshot = []
    for q in form:
        entry: dict[str, Any] = {"id": q.id, "kind": q.kind.value, "text": q.text,
                                 "required": q.required}
        if q.choices:
            entry["choices"] = q.choices
        if q.kind is QuestionKind.goal_progress:
            entry["items"] = [
                {"id": item_key(q.id, i.milestone_id), "milestone_id": i.milestone_id,
                 "title": i.title, "goal_id": i.goal_id, "goal_title": i.goal_title,
                 "status_before": i.status.value}
                for i in q.items]
        snapshot.append(entry)
    return snapshot


@dataclass(frozen=True)
class Answered:
    """A stored check-in: the row, how many progress updates it made, and how many coaches
    it was queued for."""

    checkin: Checkin
    progress_updates: int
    coaches: int = 0


async def submit_answers(
    *, session: AsyncSession, actor: Actor, checkin_id: int, data: AnswersSubmit, now: datetime
) -> Answered:
    """Store the leader's answers once (after expiry they are kept and marked late) and
    queue them for the leader's coaches; Slack and the API both answer through here."""
    await _claim(session, actor, checkin_id, now)
    checkin = await session.get(Checkin, checkin_id, populate_existing=True)
    if checkin is None:
        raise NotFound(f"check-in {checkin_id} not found")
    answered_ids = {a.milestone_id for a in data.answers if a.milestone_id is not None}
    mine = await open_milestones(session=session, member_id=checkin.member_id,
                                 include=answered_ids)
    items = {item.milestone_id: item for item in mine}
    shown = [i for i in mine if i.status in OPEN_MILESTONES or i.milestone_id in answered_ids]
    form = _form_questions(checkin.questions, shown)
    answers = [_unless_unchanged(answer, items) for answer in data.answers]
    errors = _validate(form, answers, items)
    if errors:
        raise InvalidAnswers(errors)
    checkin.questions = _snapshot(form)
    session.add(checkin)
    kinds = {q.id: q.kind for q in form}
    for answer in answers:
        session.add_all(_rows(checkin, answer, kinds[answer.question_id], items, data.private))
    updates = 0
    for answer in answers:
        if kinds[answer.question_id] is QuestionKind.goal_progress and _has_content(answer):
            updates += await _record_progress(session, actor, answer, items)
    await cancel_messages(session=session, checkin_id=checkin_id)
    await session.flush()
    coaches = await enqueue_reviews(session=session, checkin=checkin)
    return Answered(checkin=checkin, progress_updates=updates, coaches=coaches)


def _unless_unchanged(answer: AnswerIn, items: dict[int, MilestoneItem]) -> AnswerIn:
    """A milestone status equal to the current one is no answer (the modal preselects it)."""
    item = items.get(answer.milestone_id or 0)
    if answer.status is not None and item is not None and answer.status == item.status:
        return answer.model_copy(update={"status": None})
    return answer


def _visibility(kind: QuestionKind, answer: AnswerIn, items: dict[int, MilestoneItem],
                private: bool) -> str:
    if private:
        return Visibility.private.value
    if kind is QuestionKind.goal_progress and answer.milestone_id in items:
        # A milestone answer is as readable as its goal: a private goal stays private.
        return items[answer.milestone_id].visibility.value
    return Visibility.coach.value


def _rows(checkin: Checkin, answer: AnswerIn, kind: QuestionKind,
          items: dict[int, MilestoneItem], private: bool) -> list[CheckinAnswer]:
    visibility = _visibility(kind, answer, items, private)
    milestone_id = answer.milestone_id if kind is QuestionKind.goal_progress else None

    def row(question_id: str, text: str | None, number: int | None = None) -> CheckinAnswer:
        return CheckinAnswer(workspace_id=checkin.workspace_id, checkin_id=checkin.id or 0,
                             kind=kind, visibility=visibility, question_id=question_id,
                             text=text, number=number, milestone_id=milestone_id)

    text = (answer.text or "").strip() or None
    if kind is not QuestionKind.goal_progress:
        empty = text is None and answer.number is None
        return [] if empty else [row(answer.question_id, text, answer.number)]
    if not _has_content(answer):
        return []
    key = item_key(answer.question_id, answer.milestone_id or 0)
    rows = [row(key, text, answer.number)]
    if answer.status is not None:
        rows.append(row(f"{key}:status", answer.status.value))
    return rows


async def _record_progress(session: AsyncSession, actor: Actor, answer: AnswerIn,
                           items: dict[int, MilestoneItem]) -> int:
    item = items[answer.milestone_id or 0]
    changed = answer.status is not None and answer.status != item.status
    note = (answer.text or "").strip()
    if not note:
        note = (f"Milestone now {answer.status.value.replace('_', ' ')}"
                if changed and answer.status else f"Check-in on “{item.title}”")
    await log_progress(
        session=session, actor=actor, goal_id=item.goal_id, source=ProgressSource.checkin,
        data=ProgressUpdateCreate(note=note[:4000], confidence=answer.number,
                                  milestone_id=item.milestone_id))
    if changed and answer.status is not None:
        await update_milestone(session=session, actor=actor, milestone_id=item.milestone_id,
                               data=MilestoneUpdate(status=answer.status))
    return 1


async def list_answers(
    *, session: AsyncSession, actor: Actor, checkin_id: int
) -> list[AnswerPublic]:
    """A check-in's answers: all of them for its leader, coach-visible ones for a coach."""
    checkin = await readable_checkin(session=session, actor=actor, checkin_id=checkin_id)
    statement = select(CheckinAnswer).where(CheckinAnswer.checkin_id == checkin.id)
    if not actor.is_self(checkin.member_id):
        statement = statement.where(CheckinAnswer.visibility == Visibility.coach.value)
    rows = (await session.exec(statement.order_by(col(CheckinAnswer.id)))).all()
    return [AnswerPublic.model_validate(row, from_attributes=True) for row in rows]
