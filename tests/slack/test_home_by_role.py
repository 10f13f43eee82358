"""What each role finds on the Home tab beyond the plan, and the buttons and commands that
lead from it: circle preferences for leaders, drafts awaiting review for coaches, program
figures and New broadcast for owners."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks.broadcast import NEW_BROADCAST
from bot.blocks.circle import PREFERENCES, PREFERENCES_MODAL
from bot.sandbox import SlackSandbox
from services.nudges.models import Nudge, NudgeStatus
from services.people.models import Cohort, EnrollmentRole, Member
from services.plans.models import Visibility
from tests.factories.people import assign, enrol, make_cohort, make_workspace
from tests.factories.plans import make_goal
from tests.slack.conftest import COACH, LEADER, TEAM, SlackUser, eventually


@pytest.fixture
async def cohort(session: AsyncSession) -> Cohort:
    workspace = await make_workspace(session, team_id=TEAM)
    cohort = await make_cohort(session, workspace)
    cohort.name = "Spring Leaders"
    session.add(cohort)
    await session.flush()
    return cohort


async def person(
    session: AsyncSession, cohort: Cohort, slack_user_id: str, name: str, role: EnrollmentRole
) -> Member:
    member = Member(workspace_id=cohort.workspace_id, slack_user_id=slack_user_id, name=name,
                    timezone="Europe/Berlin")
    session.add(member)
    await session.flush()
    await enrol(session, cohort, member, role)
    return member


def home(sandbox: SlackSandbox, user_id: str) -> str:
    return json.dumps(sandbox.home_view(user_id) or {})


async def test_a_leader_reaches_circle_preferences_from_home_and_from_coach(
    session: AsyncSession, cohort: Cohort, leader: SlackUser, sandbox: SlackSandbox
) -> None:
    await person(session, cohort, LEADER, "Lee Leader", EnrollmentRole.leader)
    await session.commit()
    await leader.open_home()
    await eventually(lambda: sandbox.home_view(LEADER))
    assert PREFERENCES in home(sandbox, LEADER)

    await leader.click(PREFERENCES, value="")
    opened = await eventually(lambda: sandbox.calls("views.open"))
    assert opened[0].args["view"]["callback_id"] == PREFERENCES_MODAL

    response = await leader.command("circles")
    assert response.status_code == 200
    opened = await eventually(lambda: sandbox.calls("views.open")[1:])
    assert opened[0].args["view"]["callback_id"] == PREFERENCES_MODAL


async def test_a_coach_sees_how_many_drafts_wait_for_review(
    session: AsyncSession, cohort: Cohort, http: object, sandbox: SlackSandbox
) -> None:
    lee = await person(session, cohort, LEADER, "Lee Leader", EnrollmentRole.leader)
    coach = await person(session, cohort, COACH, "Cora Coach", EnrollmentRole.coach)
    await assign(session, cohort, coach, lee)
    goal = await make_goal(session, lee, title="Delegate more", visibility=Visibility.coach)
    for n in range(2):
        session.add(Nudge(workspace_id=cohort.workspace_id, member_id=lee.id or 0,
                          cohort_id=cohort.id, dedupe_key=f"home-test-{n}", goal_id=goal.id,
                          text="Try handing off one report this week.", source="offline",
                          status=NudgeStatus.draft, local_date=date(2026, 1, 5 + n)))
    await session.commit()
    await SlackUser(http, sandbox, COACH).open_home()  # type: ignore[arg-type]
    await eventually(lambda: sandbox.home_view(COACH))
    text = home(sandbox, COACH)
    assert "*Lee Leader*" in text and "1 shared goal " in text and "(s)" not in text
    assert "2 drafted nudges wait for your review" in text


async def test_an_owner_sees_program_figures_and_can_start_a_broadcast(
    session: AsyncSession, cohort: Cohort, http: object, sandbox: SlackSandbox
) -> None:
    await person(session, cohort, COACH, "Olivia Owner", EnrollmentRole.owner)
    await person(session, cohort, LEADER, "Lee Leader", EnrollmentRole.leader)
    await session.commit()
    owner = SlackUser(http, sandbox, COACH)  # type: ignore[arg-type]
    await owner.open_home()
    await eventually(lambda: sandbox.home_view(COACH))
    text = home(sandbox, COACH)
    assert "Program figures" in text and "Spring Leaders" in text
    assert "enough leaders to keep them anonymous" in text  # one leader is below k
    assert NEW_BROADCAST in text

    await owner.click(NEW_BROADCAST, value="new")
    opened = await eventually(lambda: sandbox.calls("views.open"))
    assert "Spring Leaders" in json.dumps(opened[0].args["view"])
