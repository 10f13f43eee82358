"""`/coach` and its subcommands: each acked at once, unknown ones get the help."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox import Fault, SlackSandbox
from services.people.models import Enrollment, EnrollmentRole, Member
from services.plans.models import Goal, Milestone
from tests.factories.people import enrol, make_cohort, make_workspace
from tests.slack.conftest import LEADER, TEAM, SlackUser, eventually


@pytest.fixture
async def enrolled(session: AsyncSession) -> Member:
    workspace = await make_workspace(session, team_id=TEAM)
    cohort = await make_cohort(session, workspace)
    member = Member(
        workspace_id=workspace.id or 0,
        slack_user_id=LEADER,
        name="Lee Leader",
        timezone="America/New_York",
    )
    session.add(member)
    await session.flush()
    await enrol(session, cohort, member, EnrollmentRole.leader)
    await session.commit()
    return member


def replies(sandbox: SlackSandbox) -> list[str]:
    return [str(reply.get("text")) for reply in sandbox.responses()]


@pytest.mark.parametrize("text", ["", "help", "dance", "GOAL", "goal remove 3"])
async def test_help_and_unknown_subcommands(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox, text: str
) -> None:
    response = await leader.command(text)
    assert response.status_code == 200
    body = response.text
    if text.split()[:1] == ["goal"] or text == "GOAL":
        await eventually(lambda: replies(sandbox))
        body = replies(sandbox)[0]
    assert "/coach" in body


async def test_goal_add_then_plan(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    await leader.command("goal add Run <!channel> better 1:1s")
    await eventually(lambda: replies(sandbox))
    assert "Added" in replies(sandbox)[0]
    goal = (await session.exec(select(Goal))).one()
    assert goal.title == "Run <!channel> better 1:1s"
    await leader.command("plan")
    await eventually(lambda: len(replies(sandbox)) == 2)
    assert "&lt;!channel&gt;" in replies(sandbox)[1]
    assert "<!channel>" not in replies(sandbox)[1]


async def test_pause_until_and_resume(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    until = (date.today() + timedelta(days=10)).isoformat()
    await leader.command(f"pause until {until}")
    await eventually(lambda: replies(sandbox))
    enrollment = (await session.exec(select(Enrollment))).one()
    assert (enrollment.status, str(enrollment.paused_until)) == ("paused", until)
    await eventually(lambda: "resume" in json.dumps(sandbox.home_view(LEADER)))
    await leader.command("resume")
    await eventually(lambda: len(replies(sandbox)) == 2)
    session.expire_all()
    assert (await session.exec(select(Enrollment))).one().status == "active"


async def test_pause_with_a_bad_date_explains(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox
) -> None:
    response = await leader.command("pause until someday")
    assert response.status_code == 200
    await eventually(lambda: replies(sandbox))
    assert "YYYY-MM-DD" in replies(sandbox)[0]


async def test_progress_opens_the_modal_and_privacy_explains(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox
) -> None:
    await leader.command("goal add Listen first")
    await eventually(lambda: replies(sandbox))
    await leader.command("progress")
    opened = await eventually(lambda: sandbox.calls("views.open"))
    assert opened[0].args["view"]["callback_id"] == "progress_modal"
    await leader.command("privacy")
    await eventually(lambda: len(replies(sandbox)) == 2)
    assert "Only me" in replies(sandbox)[1]


async def test_export_sends_all_the_data_by_dm_as_a_json_file(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    await leader.command("goal add Coach my successor")
    await eventually(lambda: replies(sandbox))
    goal = (await session.exec(select(Goal))).one()
    for n in range(40):  # more than one Slack message could ever hold
        session.add(Milestone(workspace_id=goal.workspace_id, goal_id=goal.id or 0,
                              title=f"Step {n:02d} of handing over the weekly report"))
    await session.commit()
    await leader.command("export")
    await eventually(lambda: len(replies(sandbox)) == 2)
    assert replies(sandbox)[1] == "I sent your data to you in a direct message, as a JSON file."
    [message] = sandbox.messages(LEADER)
    assert message["text"] == (
        "Your Coachbot data: your profile, enrollments (1), goals (1), milestones (40). "
        "The file holds all of it, including the log of who else read your content."
    )
    [file] = message["files"]
    assert file["name"].startswith("coachbot-export-") and file["name"].endswith(".json")
    exported = json.loads(sandbox.file_content(file["id"]) or b"")
    assert file["size"] > 3000
    assert exported["member"]["slack_user_id"] == LEADER
    assert [g["title"] for g in exported["goals"]] == ["Coach my successor"]
    assert len(exported["milestones"]) == 40


async def test_without_the_files_permission_export_says_how_to_get_the_data(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox
) -> None:
    sandbox.faults.script("files.getUploadURLExternal", Fault.slack_error("missing_scope"))
    await leader.command("export")
    [reply] = await eventually(lambda: replies(sandbox))
    assert "`files:write`" in reply
    assert f"/api/v1/members/{enrolled.id}/export" in reply
    assert not sandbox.messages(LEADER)


async def test_a_coach_sees_their_coachees_on_home(
    session: AsyncSession, http: object, sandbox: SlackSandbox
) -> None:
    from tests.factories.people import assign
    from tests.slack.conftest import COACH, SlackUser

    workspace = await make_workspace(session, team_id=TEAM)
    cohort = await make_cohort(session, workspace)
    coach = Member(workspace_id=workspace.id or 0, slack_user_id=COACH, name="Cam Coach")
    leaders = [
        Member(workspace_id=workspace.id or 0, slack_user_id=f"U0LEAD000{n}", name=f"Leader {n}")
        for n in range(2)
    ]
    session.add_all([coach, *leaders])
    await session.flush()
    await enrol(session, cohort, coach, EnrollmentRole.coach)
    for leader_member in leaders:
        await enrol(session, cohort, leader_member, EnrollmentRole.leader)
        await assign(session, cohort, coach, leader_member)
    await session.commit()
    await SlackUser(http, sandbox, COACH).open_home()  # type: ignore[arg-type]
    view = await eventually(lambda: sandbox.home_view(COACH))
    text = json.dumps(view)
    assert "Your coachees" in text and "Leader 0" in text and "Leader 1" in text
