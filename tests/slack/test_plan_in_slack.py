"""A leader keeps their plan from Slack: Home tab, modals, /coach."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import validate_view
from bot.blocks.plan_modals import goal_modal, milestone_modal, progress_modal
from bot.sandbox import Fault, SlackSandbox
from services.people.models import EnrollmentRole, Member
from services.plans.models import Goal, Milestone, ProgressUpdate, Visibility
from services.platform.models import SlackEvent
from tests.factories.people import enrol, make_cohort, make_workspace
from tests.factories.plans import make_goal, make_milestone
from tests.slack.conftest import (
    LEADER,
    TEAM,
    SlackUser,
    date_input,
    eventually,
    selected,
    text_input,
)


@pytest.fixture
async def enrolled(session: AsyncSession) -> Member:
    """Lee, enrolled as a leader, with one goal and one milestone."""
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
    goal = await make_goal(session, member, title="Delegate <more> & better")
    await make_milestone(
        session, goal, title="Hand off the report", due_date=date.today() - timedelta(days=3)
    )
    await session.commit()
    return member


def home_text(sandbox: SlackSandbox) -> str:
    return json.dumps(sandbox.home_view(LEADER) or {})


async def test_home_shows_the_plan_with_overdue_marks_and_safe_text(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox
) -> None:
    await leader.open_home()
    await eventually(lambda: sandbox.home_view(LEADER))
    # Publishing checks only the limits content decides; the whole view is held here.
    published = sandbox.calls("views.publish")[-1].args["view"]
    validate_view(json.loads(published) if isinstance(published, str) else published)
    text = home_text(sandbox)
    assert "Delegate &lt;more&gt; &amp; better" in text
    assert "*overdue*" in text
    for action in (
        "home_add_goal",
        "home_add_milestone",
        "home_log_progress",
        "home_milestone_done",
        "home_goal_visibility",
    ):
        assert action in text


async def test_add_a_goal_through_the_modal(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    await leader.click("home_add_goal", value="")
    opened = await eventually(lambda: sandbox.calls("views.open"))
    assert opened[0].args["view"]["callback_id"] == "goal_modal"
    response = await leader.submit(
        goal_modal(),
        {
            "title": text_input("Speak up in exec meetings"),
            "why": text_input("Visibility"),
            "competency": selected("stakeholder management"),
            "visibility": selected("private"),
        },
    )
    assert response.status_code == 200 and not response.content
    await eventually(lambda: "Speak up in exec meetings" in home_text(sandbox))
    goal = (await session.exec(select(Goal).where(Goal.title == "Speak up in exec meetings"))).one()
    assert goal.visibility == Visibility.private
    assert goal.competency == "stakeholder management"


async def test_a_rejected_modal_shows_inline_errors_and_saves_nothing(
    enrolled: Member, leader: SlackUser, session: AsyncSession
) -> None:
    response = await leader.submit(
        goal_modal(),
        {
            "title": text_input("x" * 201),
            "visibility": selected("coach"),
        },
    )
    body = response.json()
    assert body["response_action"] == "errors"
    assert "title" in body["errors"]
    assert len((await session.exec(select(Goal))).all()) == 1

    goal = (await session.exec(select(Goal))).one()
    past = (date.today() - timedelta(days=30)).isoformat()
    response = await leader.submit(
        milestone_modal(goal_id=goal.id or 0),
        {
            "title": text_input("Too late"),
            "due_date": date_input(past),
        },
    )
    assert response.json() == {
        "response_action": "errors",
        "errors": {"due_date": "Pick today or a later date."},
    }
    assert len((await session.exec(select(Milestone))).all()) == 1


async def test_log_progress_and_complete_the_milestone(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    goal = (await session.exec(select(Goal))).one()
    milestone_id = (await session.exec(select(Milestone))).one().id
    view = progress_modal(goals=[], milestones=[], goal_id=goal.id)
    response = await leader.submit(
        view,
        {
            "milestone": selected(str(milestone_id)),
            "milestone_done": {"type": "checkboxes", "selected_options": [{"value": "done"}]},
            "note": text_input("Handed it to Priya"),
            "confidence": selected("4"),
        },
    )
    assert response.status_code == 200
    await eventually(lambda: sandbox.home_view(LEADER))
    session.expire_all()
    update = (await session.exec(select(ProgressUpdate))).one()
    assert (update.note, update.confidence, update.source) == ("Handed it to Priya", 4, "slack")
    assert (await session.get(Milestone, milestone_id)).status == "done"  # type: ignore[union-attr]


def milestone_options(view: dict[str, object]) -> list[str]:
    block = next(b for b in view["blocks"] if b["block_id"] == "milestone")  # type: ignore[attr-defined,index]
    return [o["text"]["text"] for o in block["element"]["options"]]


async def test_progress_modals_name_milestones_by_goal_only_when_several_goals_are_listed(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    first = (await session.exec(select(Goal))).one()
    second = await make_goal(
        session, enrolled, title="Communicate clearly in a crisis, even when nobody knows yet"
    )
    await make_milestone(session, second, title="Write the update template")
    await session.commit()

    await leader.click("home_log_progress", value=str(first.id))
    opened = await eventually(lambda: sandbox.calls("views.open"))
    assert milestone_options(opened[0].args["view"]) == ["Hand off the report"]

    await leader.command("progress")
    opened = await eventually(lambda: sandbox.calls("views.open")[1:])
    assert milestone_options(opened[0].args["view"]) == [
        "Delegate <more> & better › Hand off the report",
        "Communicate clearly in a cris… › Write the update template",
    ]


async def test_a_milestone_of_another_goal_is_marked_in_words_and_nothing_is_logged(
    enrolled: Member, leader: SlackUser, session: AsyncSession
) -> None:
    first = (await session.exec(select(Goal))).one()
    second = await make_goal(session, enrolled, title="Speak up")
    other = await make_milestone(session, second, title="Ask one question")
    await session.commit()
    response = await leader.submit(
        progress_modal(goals=[], milestones=[]),
        {
            "goal": selected(str(first.id)),
            "milestone": selected(str(other.id)),
            "note": text_input("Asked two"),
        },
    )
    assert response.json() == {
        "response_action": "errors",
        "errors": {
            "milestone": "That milestone is part of another goal: "
            "choose one of this goal's milestones, or none."
        },
    }
    assert not (await session.exec(select(ProgressUpdate))).all()


async def test_mark_done_and_change_visibility_from_home(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    goal_id = (await session.exec(select(Goal))).one().id
    milestone_id = (await session.exec(select(Milestone))).one().id
    await leader.click("home_milestone_done", value=str(milestone_id))
    await eventually(lambda: sandbox.calls("views.publish"))
    await leader.click("home_goal_visibility", selected=f"{goal_id}:private")
    await eventually(lambda: len(sandbox.calls("views.publish")) == 2)
    session.expire_all()
    assert (await session.get(Milestone, milestone_id)).status == "done"  # type: ignore[union-attr]
    assert (await session.get(Goal, goal_id)).visibility == "private"  # type: ignore[union-attr]


async def test_someone_elses_goal_gets_a_friendly_error_with_a_reference(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    other = Member(workspace_id=enrolled.workspace_id, slack_user_id="U0OTHER001", name="O")
    session.add(other)
    await session.flush()
    foreign = await make_goal(session, other, title="Not Lee's")
    await session.commit()
    await leader.click("home_edit_goal", value=str(foreign.id))
    ephemeral = await eventually(lambda: sandbox.calls("chat.postEphemeral"))
    text = ephemeral[0].args["text"]
    assert f"goal {foreign.id} not found" in text and "(ref " in text
    assert "Traceback" not in text
    assert not sandbox.calls("views.open")


async def test_the_same_submission_twice_is_saved_once(
    enrolled: Member, leader: SlackUser, session: AsyncSession
) -> None:
    values = {"title": text_input("Only once"), "visibility": selected("coach")}
    await leader.submit(goal_modal(), values, trigger="retry.trigger")
    await leader.submit(goal_modal(), values, trigger="retry.trigger")
    titles = [g.title for g in (await session.exec(select(Goal))).all()]
    assert titles.count("Only once") == 1


async def test_a_click_whose_work_failed_is_done_when_it_comes_again(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    goal = (await session.exec(select(Goal))).one()
    owner_id, goal_id = goal.member_id, goal.id
    other = Member(workspace_id=enrolled.workspace_id, slack_user_id="U0OTHER001", name="Ola")
    session.add(other)
    await session.flush()
    goal.member_id = other.id or 0  # not Lee's for now, so Lee's change fails
    session.add(goal)
    await session.commit()

    await leader.click("home_goal_visibility", selected=f"{goal_id}:private", trigger="again.1")
    await eventually(lambda: sandbox.calls("chat.postEphemeral"))

    goal.member_id = owner_id
    session.add(goal)
    await session.commit()
    # The failed attempt recorded nothing, so the same delivery again (as Slack retries
    # an event) does the work.
    await leader.click("home_goal_visibility", selected=f"{goal_id}:private", trigger="again.1")
    await eventually(lambda: sandbox.calls("views.publish"))
    visibility = (await session.exec(select(Goal.visibility).where(Goal.id == goal_id))).one()
    assert visibility == Visibility.private
    keys = (await session.exec(select(SlackEvent.event_id))).all()
    assert keys == ["trigger:again.1"]


async def test_a_home_publish_that_fails_leaves_the_change_made(
    enrolled: Member, leader: SlackUser, sandbox: SlackSandbox, session: AsyncSession
) -> None:
    goal_id = (await session.exec(select(Goal.id))).one()
    sandbox.faults.script("views.publish", Fault.slack_error("internal_error"))
    await leader.click("home_goal_visibility", selected=f"{goal_id}:private")
    ephemeral = await eventually(lambda: sandbox.calls("chat.postEphemeral"))
    assert "Reference:" in ephemeral[0].args["text"]
    visibility = (await session.exec(select(Goal.visibility).where(Goal.id == goal_id))).one()
    assert visibility == Visibility.private
