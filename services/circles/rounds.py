"""Forming a round: who takes part, what the matcher is told, and what comes out of it.

Candidates are the series' active participants whose cohort enrolment is active, with
their timezone's UTC offset on the round's date, team, level and (with affinity on) the
competencies of goals they share with their coach. Private and counts-only goals never
feed the matcher, because an intro may name a focus two members share. History is the
series' earlier rounds inside its window. Each circle gets one outbox intent for its
group DM; each person no circle could take gets a short, reason-free note.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.circles.candidates import Candidate, MatchSettings, Weights
from services.circles.matcher import MatchResult, form_circles
from services.circles.models import (
    Circle,
    CircleBlock,
    CircleMember,
    CircleParticipant,
    CircleRound,
    CircleSeries,
    ParticipantStatus,
    RoundStatus,
)
from services.circles.schedule import round_at, round_date, rounds_left
from services.circles.series_pairs import MAX_ROUNDS_PLANNED
from services.circles.timezones import utc_offset_minutes
from services.delivery.service import NewDelivery, enqueue_many
from services.errors import Conflict, Invalid, NotFound
from services.people.models import Cohort, Enrollment, EnrollmentRole, EnrollmentStatus, Member
from services.plans.models import OPEN_GOAL_STATUSES, Goal, Visibility
from services.prompts import ReflectionLibrary, load_reflection_library, pick_reflection

INTRO_KIND = "circle_intro"
UNMATCHED_KIND = "circle_unmatched"
CIRCLE_CHANNEL_PREFIX = "circle:"


def circle_channel(circle_id: int) -> str:
    """The outbox target for a circle's group DM, opened when the intro is sent."""
    return f"{CIRCLE_CHANNEL_PREFIX}{circle_id}"


def circle_id_of_channel(channel: str | None) -> int | None:
    """The circle a `circle:N` outbox target stands for, else None."""
    if not channel or not channel.startswith(CIRCLE_CHANNEL_PREFIX):
        return None
    rest = channel.removeprefix(CIRCLE_CHANNEL_PREFIX)
    return int(rest) if rest.isdigit() else None


@dataclass(frozen=True)
class FormedRound:
    """What forming a round did: circles stored, people placed and not placed."""

    round_id: int
    circles: int
    placed: int
    unmatched: int
    excluded: int


async def start_round(
    *, session: AsyncSession, series: CircleSeries, zone: ZoneInfo, number: int, now: datetime
) -> CircleRound | None:
    """Add round `number` of a series as pending; None when it already exists."""
    existing = (
        await session.exec(
            select(CircleRound.id).where(
                CircleRound.series_id == series.id, CircleRound.number == number
            )
        )
    ).first()
    if existing is not None:
        return None
    scheduled = round_at(series=series, zone=zone, number=number)
    circle_round = CircleRound(
        series_id=series.id or 0,
        number=number,
        scheduled_for=scheduled,
        followup_at=scheduled + timedelta(days=series.followup_after_days),
    )
    session.add(circle_round)
    await session.flush()
    return circle_round


async def form_round(
    *,
    session: AsyncSession,
    round_id: int,
    now: datetime,
    library: ReflectionLibrary | None = None,
) -> FormedRound:
    """Form a pending round's circles, store them and enqueue each circle's intro."""
    circle_round = await session.get(CircleRound, round_id)
    if circle_round is None:
        raise NotFound(f"circle round {round_id} not found")
    if circle_round.status != RoundStatus.pending:
        raise Conflict(f"round {round_id} is already formed")
    series = await session.get(CircleSeries, circle_round.series_id)
    cohort = await session.get(Cohort, series.cohort_id) if series else None
    if series is None or cohort is None:
        raise NotFound(f"circle round {round_id} not found")
    on = round_date(series=series, number=circle_round.number)
    people = await _roster(session, series, on=on)
    competencies = await _competencies(session, [p.id or 0 for p in people]) if people else {}
    candidates = [_candidate(p, on=on, competencies=competencies) for p in people]
    left = rounds_left(series=series, number=circle_round.number, end_date=cohort.end_date)
    blocks = await _blocks(session, {p.id or 0 for p in people})
    history = await _history(session, series, before=circle_round.number)
    plan = await _plan_ahead(session, series, before=circle_round.number)
    # Planning a series whole can take seconds of CPU: off the event loop.
    result = await asyncio.to_thread(
        partial(
            form_circles,
            candidates=candidates,
            blocks=blocks,
            history=history,
            settings=match_settings(
                series, rounds_so_far=circle_round.number - 1, rounds_left=left
            ),
            seed=series.seed + circle_round.number,
            rounds_left=left,
            later_clocks=_later_clocks(series, people, after=circle_round.number, rounds_left=left),
            plan=plan,
        )
    )
    circle_round.plan_ahead = [[list(group) for group in groups] for groups in result.plan] or None
    await _store(session, series, circle_round, result, competencies,
                 library=library or load_reflection_library())
    circle_round.status = RoundStatus.formed
    circle_round.formed_at = now
    session.add(circle_round)
    await session.flush()
    return FormedRound(
        round_id=round_id,
        circles=len(result.circles),
        placed=result.figures.placed,
        unmatched=len(result.unmatched),
        excluded=len(result.excluded),
    )


def match_settings(
    series: CircleSeries, *, rounds_so_far: int, rounds_left: int | None = None
) -> MatchSettings:
    """The matcher's settings for a series; "no window" remembers every earlier round."""
    # A known end lets "every earlier round" reach from the last round back to the first,
    # so the matcher's plan for the rounds left counts every repeat in the program.
    window = series.history_window_rounds or max(rounds_so_far + (rounds_left or 1) - 1, 1)
    defaults = Weights()
    return MatchSettings(
        size=series.group_size,
        max_spread_minutes=series.max_utc_spread_minutes,
        history_window=window,
        affinity=series.affinity,
        weights=Weights(
            same_team=defaults.same_team if series.mix_team else 0.0,
            same_level=defaults.same_level if series.mix_level else 0.0,
        ),
    )


async def _roster(session: AsyncSession, series: CircleSeries, *, on: date) -> list[Member]:
    """Active leaders of the cohort who have not opted out or paused (pauses past their
    date end here), each given a participation row on first sight."""
    enrolled = (
        await session.exec(
            select(Member)
            .join(Enrollment, col(Enrollment.member_id) == Member.id)
            .where(
                Enrollment.cohort_id == series.cohort_id,
                Enrollment.role == EnrollmentRole.leader,
                Enrollment.status == EnrollmentStatus.active,
                col(Member.erased_at).is_(None),
            )
            .order_by(col(Member.id))
        )
    ).all()
    rows = (
        await session.exec(
            select(CircleParticipant).where(CircleParticipant.series_id == series.id)
        )
    ).all()
    participants = {row.member_id: row for row in rows}
    people: list[Member] = []
    for member in enrolled:
        participant = participants.get(member.id or 0)
        if participant is None:
            participant = CircleParticipant(series_id=series.id or 0, member_id=member.id or 0)
        elif participant.status == ParticipantStatus.paused and _pause_over(participant, on):
            participant.status = ParticipantStatus.active
            participant.paused_until = None
            participant.consecutive_misses = 0
        session.add(participant)
        if participant.status == ParticipantStatus.active:
            people.append(member)
    await session.flush()
    return people


def _pause_over(participant: CircleParticipant, on: date) -> bool:
    return participant.paused_until is not None and participant.paused_until <= on


async def _competencies(session: AsyncSession, member_ids: list[int]) -> dict[int, set[str]]:
    goals = await session.exec(
        select(Goal.member_id, Goal.competency).where(
            col(Goal.member_id).in_(member_ids),
            col(Goal.status).in_(OPEN_GOAL_STATUSES),
            Goal.visibility == Visibility.coach,
            col(Goal.competency).is_not(None),
        )
    )
    found: dict[int, set[str]] = defaultdict(set)
    for member_id, competency in goals.all():
        if competency and competency.strip():
            found[member_id].add(competency.strip().casefold())
    return found


def _later_clocks(
    series: CircleSeries, people: list[Member], *, after: int, rounds_left: int | None
) -> list[dict[str, int]]:
    """Everyone's UTC offset on each later round's date, as far ahead as the matcher plans."""
    ahead = min(rounds_left or 1, MAX_ROUNDS_PLANNED)
    return [
        {
            str(member.id): _offset(member, on=round_date(series=series, number=number))
            for member in people
        }
        for number in range(after + 1, after + ahead)
    ]


def _offset(member: Member, *, on: date) -> int:
    try:
        return utc_offset_minutes(timezone=member.timezone, on=on)
    except Invalid:
        return 0  # an unknown zone is read as UTC, the member table's default


def _candidate(member: Member, *, on: date, competencies: dict[int, set[str]]) -> Candidate:
    offset = _offset(member, on=on)
    return Candidate(
        key=str(member.id),
        team=member.team,
        level=member.level,
        region=member.region,
        utc_offset_minutes=offset,
        competencies=frozenset(competencies.get(member.id or 0, ())),
    )


async def _blocks(session: AsyncSession, member_ids: set[int]) -> list[tuple[str, str]]:
    if not member_ids:
        return []
    rows = await session.exec(
        select(CircleBlock.blocker_id, CircleBlock.blocked_id).where(
            col(CircleBlock.blocker_id).in_(member_ids),
            col(CircleBlock.blocked_id).in_(member_ids),
        )
    )
    return [(str(blocker), str(blocked)) for blocker, blocked in rows.all()]


async def _plan_ahead(
    session: AsyncSession, series: CircleSeries, *, before: int
) -> list[list[list[str]]]:
    """The plan the round just before this one left for the rounds after it, if any."""
    statement = select(CircleRound.plan_ahead).where(
        CircleRound.series_id == series.id,
        CircleRound.number == before - 1,
        CircleRound.status != RoundStatus.pending,
    )
    plan = (await session.exec(statement)).first()
    return [[list(group) for group in groups] for groups in plan or []]


async def _history(
    session: AsyncSession, series: CircleSeries, *, before: int
) -> list[list[list[str]]]:
    """Earlier rounds' circles, oldest first, as lists of member keys."""
    statement = (
        select(CircleRound.number, CircleMember.circle_id, CircleMember.member_id)
        .join(Circle, col(Circle.round_id) == CircleRound.id)
        .join(CircleMember, col(CircleMember.circle_id) == Circle.id)
        .where(
            CircleRound.series_id == series.id,
            CircleRound.number < before,
            CircleRound.status != RoundStatus.pending,
        )
    )
    if series.history_window_rounds:
        statement = statement.where(CircleRound.number >= before - series.history_window_rounds)
    rounds: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for number, circle_id, member_id in (await session.exec(statement)).all():
        rounds[number][circle_id].append(str(member_id))
    return [list(rounds[number].values()) for number in sorted(rounds)]


async def _store(
    session: AsyncSession,
    series: CircleSeries,
    circle_round: CircleRound,
    result: MatchResult,
    competencies: dict[int, set[str]],
    *,
    library: ReflectionLibrary,
) -> None:
    used = await _used_prompts(session, series)
    circles: list[tuple[Circle, list[int]]] = []
    for index, formed in enumerate(result.circles):
        members = [int(key) for key in formed.members]
        reflection = pick_reflection(
            library=library,
            used_ids=set().union(*(used.get(m, set()) for m in members)),
            preferred_competencies=sorted(set().union(*(competencies.get(m, set())
                                                        for m in members))),
            seed=f"circle:{series.id}:{circle_round.number}:{index}",
        )
        circle = Circle(
            workspace_id=series.workspace_id,
            round_id=circle_round.id or 0,
            explanation=formed.explanation,
            prompt_id=reflection.id if reflection else None,
        )
        circles.append((circle, members))
    session.add_all(circle for circle, _ in circles)
    await session.flush()
    # Members need no ids back, so they go in as one executemany: the ORM would insert them
    # one by one on SQLite (which cannot return ids of a multi-row INSERT in order), and a
    # multi-row VALUES costs more to compile than to run.
    rows = [{"circle_id": circle.id, "member_id": member}
            for circle, members in circles for member in members]
    if rows:
        await session.exec(insert(CircleMember), params=rows)
    deliveries = [
        NewDelivery(
            workspace_id=series.workspace_id,
            delivery_key=f"{INTRO_KIND}:{circle.id}",
            kind=INTRO_KIND,
            intent={"kind": INTRO_KIND, "circle_id": circle.id},
            channel=circle_channel(circle.id or 0),
        )
        for circle, _ in circles
    ]
    deliveries += [
        NewDelivery(
            workspace_id=series.workspace_id,
            delivery_key=f"{UNMATCHED_KIND}:{circle_round.id}:{unmatched.key}",
            kind=UNMATCHED_KIND,
            intent={"kind": UNMATCHED_KIND, "round_id": circle_round.id},
            member_id=int(unmatched.key),
        )
        for unmatched in result.unmatched
    ]
    await session.flush()
    await enqueue_many(session=session, deliveries=deliveries)


async def _used_prompts(session: AsyncSession, series: CircleSeries) -> dict[int, set[str]]:
    """Reflection prompts each member has already had in this series' circles."""
    rows = await session.exec(
        select(CircleMember.member_id, Circle.prompt_id)
        .join(Circle, col(Circle.id) == CircleMember.circle_id)
        .join(CircleRound, col(CircleRound.id) == Circle.round_id)
        .where(CircleRound.series_id == series.id, col(Circle.prompt_id).is_not(None))
    )
    used: dict[int, set[str]] = defaultdict(set)
    for member_id, prompt_id in rows.all():
        used[member_id].add(prompt_id or "")
    return used

