"""Forming rounds from the tick: timing, who takes part, blocks, history and the intents."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import combinations
from typing import Any

from pytest import MonkeyPatch
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.circles import rounds as rounds_module
from services.circles.matcher import MatchResult, form_circles
from services.circles.models import Circle, ParticipantStatus, RoundStatus
from services.circles.rounds import INTRO_KIND, UNMATCHED_KIND, circle_channel
from services.plans.models import Visibility
from tests.circles_flow.conftest import Sessions, Tick, circles_in, deliveries, rounds
from tests.circles_flow.factories import FIRST_ROUND, block, make_program, set_status
from tests.factories.plans import make_goal

WEEK = timedelta(weeks=1)


async def test_a_due_round_forms_circles_and_one_group_dm_intent_each(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session)
    assert await tick(FIRST_ROUND - timedelta(minutes=1)) == 0
    assert await rounds(sessions) == []

    assert await tick(FIRST_ROUND) == 1
    [formed] = await rounds(sessions)
    assert (formed.number, formed.status) == (1, RoundStatus.formed)
    assert formed.scheduled_for == FIRST_ROUND
    assert formed.followup_at == FIRST_ROUND + timedelta(days=3)
    circles = await circles_in(sessions, 1)
    assert [len(c) for c in circles] == [3, 3]
    assert set().union(*circles) == {leader.id for leader in program.leaders}
    intros = await deliveries(sessions, INTRO_KIND)
    async with sessions() as check:
        circle_ids = sorted(c.id or 0 for c in (await check.exec(select(Circle))).all())
    assert [d.intent for d in intros] == [
        {"kind": INTRO_KIND, "circle_id": circle_id} for circle_id in circle_ids
    ]
    assert [d.channel for d in intros] == [circle_channel(c) for c in circle_ids]
    assert all(d.member_id is None for d in intros)

    # The next minute, and a second worker at the same minute, change nothing.
    assert await tick(FIRST_ROUND) == 0
    assert await tick(FIRST_ROUND + timedelta(minutes=1)) == 0
    assert len(await deliveries(sessions, INTRO_KIND)) == 2


async def test_each_circle_gets_an_explanation_and_a_reflection_prompt(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    await make_program(session)
    await tick(FIRST_ROUND)
    async with sessions() as check:
        circles = (await check.exec(select(Circle))).all()
    assert all(c.explanation and "different teams" in c.explanation for c in circles)
    assert all(c.prompt_id for c in circles)


async def test_rounds_follow_the_cadence_and_a_late_round_is_skipped(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    await make_program(session, cadence_weeks=2, followup_after_days=7)
    await tick(FIRST_ROUND)
    await tick(FIRST_ROUND + WEEK)  # only every other week
    assert [r.number for r in await rounds(sessions)] == [1]
    # Down for three days over round 2's time: round 2 is skipped, round 3 keeps its number.
    await tick(FIRST_ROUND + 2 * WEEK + timedelta(days=3))
    assert [r.number for r in await rounds(sessions)] == [1]
    await tick(FIRST_ROUND + 4 * WEEK)
    assert [r.number for r in await rounds(sessions)] == [1, 3]


async def test_no_rounds_after_the_cohort_ends_or_while_inactive(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session)
    program.cohort.end_date = date(2025, 3, 10)
    session.add(program.cohort)
    await session.commit()
    await tick(FIRST_ROUND)
    await tick(FIRST_ROUND + WEEK)
    assert [r.number for r in await rounds(sessions)] == [1]
    program.cohort.end_date = None
    program.series.active = False
    session.add_all([program.cohort, program.series])
    await session.commit()
    await tick(FIRST_ROUND + WEEK)
    assert [r.number for r in await rounds(sessions)] == [1]


async def test_opted_out_and_paused_leaders_are_left_out_until_their_pause_ends(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session)
    out, paused = program.leaders[0], program.leaders[1]
    await set_status(session, program, out, ParticipantStatus.opted_out)
    await set_status(session, program, paused, ParticipantStatus.paused,
                     paused_until=date(2025, 3, 11))
    await tick(FIRST_ROUND)
    first = set().union(*await circles_in(sessions, 1))
    assert out.id not in first and paused.id not in first
    assert len(first) == 4
    await tick(FIRST_ROUND + WEEK)
    second = set().union(*await circles_in(sessions, 2))
    assert paused.id in second and out.id not in second


async def test_a_blocked_pair_never_meets_and_nothing_says_why(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    program = await make_program(session, group_size=2, miss_limit=10)
    a, b = program.leaders[0], program.leaders[1]
    await block(session, a, b)
    for week in range(5):
        await tick(FIRST_ROUND + week * WEEK)
        for circle in await circles_in(sessions, week + 1):
            assert not {a.id, b.id} <= circle
    async with sessions() as check:
        explanations = [c.explanation for c in (await check.exec(select(Circle)))]
    assert not any("block" in text.lower() for text in explanations)


async def test_no_pair_meets_twice_while_fresh_pairings_remain(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    # Nobody answers the follow-ups here; a high miss limit keeps everyone in.
    program = await make_program(session, group_size=2, miss_limit=10)
    seen: set[frozenset[int]] = set()
    for week in range(5):  # six people in pairs: exactly five rounds of fresh pairs
        await tick(FIRST_ROUND + week * WEEK)
        for circle in await circles_in(sessions, week + 1):
            pairs = {frozenset(p) for p in combinations(sorted(circle), 2)}
            assert not pairs & seen
            seen |= pairs
    assert len(seen) == 15 == len(list(combinations(program.leaders, 2)))


async def test_someone_no_circle_can_take_is_told_without_a_reason(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    roster = (("Europe/London", "A", None), ("Europe/Paris", "B", None),
              ("Pacific/Auckland", "C", None))
    program = await make_program(session, roster=roster, group_size=2)
    await tick(FIRST_ROUND)
    assert await circles_in(sessions, 1) == [frozenset({program.leaders[0].id,
                                                        program.leaders[1].id})]
    [note] = await deliveries(sessions, UNMATCHED_KIND)
    assert note.member_id == program.leaders[2].id
    assert set(note.intent) == {"kind", "round_id"}


async def test_affinity_groups_by_shared_competencies_of_shared_goals_only(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    roster = tuple(("Europe/London", None, None) for _ in range(4))
    program = await make_program(session, roster=roster, group_size=2, affinity=True)
    first, second, third, fourth = program.leaders
    for leader in (first, second):
        await make_goal(session, leader, competency="Delegation")
    for leader in (third, fourth):
        await make_goal(session, leader, competency="resilience", visibility=Visibility.private)
    await session.commit()
    await tick(FIRST_ROUND)
    circles = await circles_in(sessions, 1)
    assert frozenset({first.id, second.id}) in circles
    async with sessions() as check:
        explanations = sorted(c.explanation for c in (await check.exec(select(Circle))))
    assert any("shared focus on delegation" in text for text in explanations)
    assert not any("resilience" in text for text in explanations)


# Chicago and Berlin are six hours apart between the US and EU clock changes and seven
# after them; New York and London stay within reach of everyone.
# Planned with the first round's clocks only, this roster's plan left them for the last.
DAYLIGHT_SAVING_ROSTER = (
    ("Europe/Berlin", "Sales", "L1"),
    ("America/Chicago", "Engineering", "L1"),
    ("America/New_York", "Finance", "L2"),
    ("Europe/London", "People", "L2"),
)


async def test_a_series_with_an_end_date_plans_pairs_with_later_rounds_clocks(
    session: AsyncSession, sessions: Sessions, tick: Tick
) -> None:
    # Three rounds (18 March to 1 April 2025) for four people in pairs: everyone meets
    # everyone once only if Chicago and Berlin meet before the EU clocks change.
    program = await make_program(session, roster=DAYLIGHT_SAVING_ROSTER, group_size=2,
                                 miss_limit=10, start_date=date(2025, 3, 17))
    program.cohort.end_date = date(2025, 4, 1)
    session.add(program.cohort)
    await session.commit()
    first = FIRST_ROUND + 2 * WEEK
    seen: list[frozenset[int]] = []
    for week in range(3):
        await tick(first + week * WEEK)
        seen += await circles_in(sessions, week + 1)
    assert [(r.number, r.scheduled_for.date()) for r in await rounds(sessions)] == [
        (1, date(2025, 3, 18)), (2, date(2025, 3, 25)), (3, date(2025, 4, 1))
    ]
    assert len(seen) == len(set(seen)) == 6


async def test_a_series_in_groups_planned_whole_hands_its_plan_to_the_next_round(
    session: AsyncSession, sessions: Sessions, tick: Tick, monkeypatch: MonkeyPatch
) -> None:
    # 36 people in London and 8 in Tokyo in fours over three rounds: the Tokyo eight can
    # meet only each other, so repeats are forced and the series is planned whole.
    teams = ("Sales", "Ops", "Engineering", "Finance", "People")
    roster = tuple(
        ("Europe/London" if n < 36 else "Asia/Tokyo", teams[n % 5], None) for n in range(44)
    )
    program = await make_program(session, roster=roster, group_size=4, miss_limit=10)
    program.cohort.end_date = date(2025, 3, 18)
    session.add(program.cohort)
    await session.commit()
    plans_given: list[list[list[list[str]]]] = []

    def spy(**arguments: Any) -> MatchResult:
        plans_given.append([[list(g) for g in groups] for groups in arguments["plan"]])
        return form_circles(**arguments)

    monkeypatch.setattr(rounds_module, "form_circles", spy)
    for week in range(3):
        await tick(FIRST_ROUND + week * WEEK)
    formed = await rounds(sessions)
    assert [r.number for r in formed] == [1, 2, 3]
    everyone = sorted(str(leader.id) for leader in program.leaders)
    ahead = formed[0].plan_ahead or []
    assert len(ahead) == 2  # rounds 2 and 3
    for groups in ahead:
        assert sorted(key for group in groups for key in group) == everyone
    # Round 2 started from round 1's plan, round 3 from round 2's; the last plans nothing.
    assert plans_given == [[], ahead, formed[1].plan_ahead]
    assert formed[1].plan_ahead is not None and len(formed[1].plan_ahead) == 1
    assert formed[2].plan_ahead is None
    for number in (1, 2, 3):
        circles = await circles_in(sessions, number)
        assert sorted(len(c) for c in circles) == [4] * 11
