"""Prompt injection written into a leader's own goals, milestones, notes and answers, end to
end: it never changes whose data reaches the model, and a model that obeys it never gets
anything into Slack — not a mention, a link, another leader's name or another leader's goal."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.checkins.models import CheckinAnswer
from services.llm import DATA_FENCE
from services.plans.models import Goal, Milestone, ProgressUpdate
from tests.llm.conftest import MakeDrafter
from tests.llm.openai_stand_in import OpenAIStandIn, Responder, draft_answer
from tests.llm.test_injection import CORPUS
from tests.nudges.conftest import Tick, nudges_of
from tests.nudges.e2e import as_text, maya_alone, omar_strings, outbox, rendered
from tests.nudges.factories import Program

Sessions = async_sessionmaker[AsyncSession]
PLACES = ("goal_title", "goal_why", "milestone_title", "progress_note", "answer")
HI = "Hi Maya, about the hand-over notes for the weekly report: "
FENCE = re.compile(rf"<{DATA_FENCE}>\n(.*)\n</{DATA_FENCE}>", re.DOTALL)


def obedient_answers(p: Program) -> list[Callable[[], Responder]]:
    """What a model that followed the injection might say, by Maya's and Omar's real ids."""
    goal, milestone = p.goal.id or 0, p.milestone.id
    return [
        lambda: draft_answer(goal_id=p.other_goal.id or 0, text=HI + "compare with Omar."),
        lambda: draft_answer(goal_id=goal, milestone_id=milestone, text="@channel " + HI + "go!"),
        lambda: draft_answer(goal_id=goal, text=HI + "<@U024BE7LH> will check on it."),
        lambda: draft_answer(goal_id=goal, text=HI + "log in at http://evil.example/login now."),
        lambda: draft_answer(goal_id=goal, text=HI + f"Omar Haddad plans: {p.other_goal.title}."),
        lambda: draft_answer(goal_id=goal, milestone_id=p.other_milestone.id, text=HI + "go."),
        lambda: draft_answer(goal_id=goal, text="<!subteam^S0123|leads> " + HI + "see this."),
    ]


async def plant(sessions: Sessions, program: Program, place: str, text: str) -> None:
    """Write the injection into one of Maya's own fields."""
    async with sessions() as session:
        if place in ("goal_title", "goal_why"):
            goal = await session.get(Goal, program.goal.id)
            assert goal is not None
            setattr(goal, "title" if place == "goal_title" else "why", text[:200])
            session.add(goal)
        elif place == "milestone_title":
            milestone = await session.get(Milestone, program.milestone.id)
            assert milestone is not None
            milestone.title = text[:200]
            session.add(milestone)
        elif place == "progress_note":
            note = (await session.exec(
                select(ProgressUpdate).where(ProgressUpdate.goal_id == program.goal.id)
            )).one()
            note.note = text
            session.add(note)
        else:
            answers = (await session.exec(select(CheckinAnswer))).all()
            mine = next(a for a in answers if a.text == "Too many meetings this week")
            mine.text = text
            session.add(mine)
        await session.commit()


CASES = [
    pytest.param(injection.text, PLACES[i % len(PLACES)], i, id=f"{i:02d}-{PLACES[i % 5]}")
    for i, injection in enumerate(CORPUS)
]


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize(("text", "place", "index"), CASES)
async def test_injection_changes_neither_whose_data_is_sent_nor_what_reaches_slack(
    text: str, place: str, index: int, session: AsyncSession, sessions: Sessions, tick: Tick,
    stand_in: OpenAIStandIn, make_drafter: MakeDrafter,
) -> None:
    program = await maya_alone(session)
    await plant(sessions, program, place, text)
    answers = obedient_answers(program)
    stand_in.script(answers[index % len(answers)](), answers[(index + 1) % len(answers)]())

    assert await tick(drafter=make_drafter()) == 1

    # Whose data was sent: Maya's own goals only, Omar's nothing, the injection only as data.
    assert len(stand_in.chat_requests) == 2
    for request in stand_in.chat_requests:
        raw = json.dumps(request, ensure_ascii=False)
        for omar in omar_strings(program):
            assert omar not in raw
        system, user = (m["content"] for m in request["messages"])
        match = FENCE.search(user)
        assert match is not None and user.count(f"</{DATA_FENCE}>") == 1
        data = json.loads(match.group(1))
        assert {g["id"] for g in data["goals"]} == {program.goal.id, program.private_goal.id}
        assert " ".join(text.split())[:40] not in system

    # What reaches Slack: the offline draft about Maya's own goal, with nothing dangerous.
    [nudge] = await nudges_of(sessions, program.leader.id or 0)
    assert nudge.source == "offline" and nudge.goal_id == program.goal.id
    [delivery] = await outbox(sessions)
    assert delivery.member_id == program.leader.id
    message = as_text(await rendered(sessions, delivery))
    for forbidden in ("<!", "<@", "<#", "http", "evil", "Omar", "Lisbon", "@channel", "@here",
                      "@everyone", "sam.lee"):
        assert forbidden not in message
