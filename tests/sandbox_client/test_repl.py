"""`coachbot sandbox`: a person drives Coachbot from the terminal, as a Slack user would."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox_client import run_sandbox_async
from services.config import Settings
from services.demo import DemoSummary
from services.people.models import Member
from services.plans.models import Goal, Milestone, ProgressUpdate
from tests.sandbox_client.conftest import Play

ADA = "UDEMOLEAD01"


async def goals_of(session: AsyncSession, slack_user_id: str) -> list[Goal]:
    session.expire_all()
    member = (await session.exec(select(Member).where(Member.slack_user_id == slack_user_id))).one()
    return list((await session.exec(select(Goal).where(Goal.member_id == member.id))).all())


def after(printed: str, typed: str) -> str:
    """What was printed after the person typed this line."""
    return printed.split(f"{ADA}> {typed}\n", 1)[1]


async def test_home_shows_the_plan_with_numbered_elements(demo: DemoSummary, play: Play) -> None:
    printed = await play("home")
    assert "━━ Home tab · Ada Leader" in printed
    assert "*Communicate clearly in a crisis*" in printed
    assert '[1] button "Add a goal"' in printed
    assert '[2] button "Mark done"' in printed
    assert '[4] button "Add milestone"' in printed
    assert (
        '[7] select "Who can see this" (now: Me and my coach): '
        "1. Only me | 2. Me and my coach | 3. Counts only"
    ) in printed


async def test_an_overlong_title_is_refused_inline_and_nothing_is_saved(
    demo: DemoSummary, play: Play, session: AsyncSession
) -> None:
    before = len(await goals_of(session, ADA))
    printed = await play("home", "click 1", "set 1 " + "x" * 201, "submit", "cancel")
    opened = after(printed, "click 1")
    assert "━━ Modal · New goal" in opened
    assert "[1] Goal — text, required: (empty)" in opened
    assert "[4] Who can read it — select, required: Me and my coach" in opened
    assert "Slack's box stops at 200 characters" in printed
    refused = after(printed, "submit")
    assert "Coachbot did not accept the form:" in refused
    assert '[1] Goal — text, required: "xxxx' in refused
    assert "      ✗ String should have at most 200 characters" in refused
    assert "(Closed “New goal” without submitting.)" in after(printed, "cancel")
    assert len(await goals_of(session, ADA)) == before


async def test_a_valid_goal_is_saved_and_the_home_tab_shows_it(
    demo: DemoSummary, play: Play, session: AsyncSession
) -> None:
    printed = await play(
        "home",
        "click 1",
        "set 1 Speak up in exec meetings",
        "set 2 I want my team's work seen\\nand credited",
        "set 3 stakeholder",
        "set 4 2",
        "submit",
    )
    assert "[3] Competency = Stakeholder management" in printed
    assert "[4] Who can read it = Only me" in printed
    saved = after(printed, "submit")
    assert saved.startswith("(The modal closed.)\n━━ Home tab · Ada Leader")
    assert "*Speak up in exec meetings*" in saved
    goal = next(g for g in await goals_of(session, ADA) if g.title == "Speak up in exec meetings")
    assert (goal.competency, goal.visibility) == ("stakeholder management", "private")
    assert goal.why == "I want my team's work seen\nand credited"


async def test_slack_will_not_submit_with_a_required_input_empty(
    demo: DemoSummary, play: Play, session: AsyncSession
) -> None:
    before = len(await goals_of(session, ADA))
    printed = await play("home", "click 1", "submit")
    refused = after(printed, "submit")
    assert "Slack does not send a form with a required input empty:" in refused
    assert "[1] Goal — text, required: (empty)\n      ✗ Please complete this required field." in (
        refused
    )
    assert len(await goals_of(session, ADA)) == before


async def test_a_past_due_date_is_shown_next_to_the_date_field(
    demo: DemoSummary, play: Play, session: AsyncSession
) -> None:
    past = (date.today() - timedelta(days=30)).isoformat()
    later = (date.today() + timedelta(days=30)).isoformat()
    printed = await play(
        "home",
        "click 4",
        "set 1 Rehearse the update",
        f"set 2 {past}",
        "submit",
        "set 2 31/12/2030",
        f"set 2 {later}",
        "submit",
    )
    assert "[2] Due — date, optional: (empty)  ·  YYYY-MM-DD" in after(printed, "click 4")
    refused = after(printed, f"set 2 {past}")
    assert f"[2] Due — date, optional: {past}  ·  YYYY-MM-DD\n" in refused
    assert "      ✗ Pick today or a later date." in refused
    assert "'31/12/2030' is not a date; write it as YYYY-MM-DD" in printed
    assert "Rehearse the update" in after(printed, f"set 2 {later}")
    session.expire_all()
    milestone = (
        await session.exec(select(Milestone).where(Milestone.title == "Rehearse the update"))
    ).one()
    assert milestone.due_date == date.fromisoformat(later)


async def test_log_progress_with_the_checkbox_and_change_visibility(
    demo: DemoSummary, play: Play, session: AsyncSession
) -> None:
    printed = await play(
        "home",
        "choose 7 only me",
        "click 5",
        "set 1 1",
        "set 2 1",
        "set 3 Drafted it",
        "set 4 quite",
        "submit",
    )
    assert '[7] select "Who can see this" (now: Only me)' in after(printed, "choose 7 only me")
    assert "[2] Milestone — checkboxes, optional: (none)  ·  1. Mark this milestone done" in (
        after(printed, "click 5")
    )
    assert "[4] How confident are you now? = 4 — quite" in printed
    session.expire_all()
    goal = (await goals_of(session, ADA))[0]
    assert goal.visibility == "private"
    update = (await session.exec(select(ProgressUpdate))).one()
    assert (update.note, update.confidence, update.source) == ("Drafted it", 4, "slack")
    milestone = await session.get(Milestone, update.milestone_id)
    assert milestone is not None and milestone.status == "done"


async def test_slash_commands_replies_and_direct_messages(demo: DemoSummary, play: Play) -> None:
    printed = await play("/coach help", "/coach privacy", "/coach export", "messages", "/giphy")
    assert "━━ Reply · only you see it" in after(printed, "/coach help")
    assert "*Coachbot commands*" in after(printed, "/coach help")
    assert "*Who can see what*" in after(printed, "/coach privacy")
    exported = after(printed, "/coach export")
    assert "━━ Message from Coachbot" in exported
    assert "Your Coachbot data: your profile, enrollments (1), coach assignments (1)," in exported
    assert re.search(r"📎 Your Coachbot data \(coachbot-export-[-\d]+\.json, [\d.]+ KB\)", exported)
    assert "I sent your data to you in a direct message, as a JSON file." in exported
    assert "1 direct message from Coachbot, oldest first:" in after(printed, "messages")
    assert "/giphy is not a command of this workspace; Coachbot's is /coach" in printed


async def test_acting_as_someone_else_forgets_the_numbers(demo: DemoSummary, play: Play) -> None:
    printed = await play("home", "as UDEMOLEAD02", "click 6", "home")
    assert "You are now Bilal Leader (UDEMOLEAD02)." in printed
    # The numbers were for Ada's Home tab; Bilal's client never showed them.
    assert "nothing is numbered yet" in printed
    assert "━━ Home tab · Bilal Leader" in printed


async def test_a_command_error_arrives_as_a_friendly_reply(
    demo: DemoSummary, play: Play
) -> None:
    printed = await play("/coach pause until someday")
    assert "━━ Reply · only you see it" in printed
    assert "'someday' is not a date; write it as YYYY-MM-DD" in printed
    assert "Traceback" not in printed


async def test_an_interactive_terminal_gets_prompts(
    demo: DemoSummary, settings: Settings, sessions: object
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = io.StringIO()
    code = await run_sandbox_async(
        settings=settings, user_id="udemocoach1", stdin=Terminal("help\n"), stdout=out
    )
    assert code == 0
    printed = out.getvalue()
    assert "you are Carmen Coach (UDEMOCOACH1)" in printed
    assert "UDEMOCOACH1> What you can type" in printed
    assert printed.endswith("UDEMOCOACH1> \n")


async def test_unknown_and_malformed_commands_explain_themselves(
    demo: DemoSummary, play: Play
) -> None:
    printed = await play(
        "dance",
        "click 1",
        "home",
        "click two",
        "click 99",
        "choose 1 x",
        "click 7",
        "choose 7 nobody",
        "set 1 x",
        "submit",
        "cancel",
        "as someone",
        "help",
        "quit",
        "home",
    )
    assert "Can't do that: unknown command 'dance'; type `help` for what you can do." in printed
    assert "Can't do that: nothing is numbered yet; type `home` to see your Home tab." in printed
    assert "click takes a number from the last printout, e.g. `click 3`" in printed
    assert "there is no [99]; the last printout numbered 1–14" in printed
    assert "[1] is a button; use `click 1`" in printed
    assert "[7] is a select; use `choose 7 <option>`" in printed
    assert "'nobody' is not an option; choose one of: Only me | Me and my coach | Counts only" in (
        printed
    )
    assert "[1] is not a modal input" in printed
    assert printed.count("Can't do that: no modal is open.") == 2
    assert "`as` takes a Slack user id" in printed
    assert "choose N <option>" in printed
    assert printed.rstrip().endswith(f"{ADA}> quit")


async def test_a_bad_user_id_or_an_unmigrated_database_is_explained(
    tmp_path: Path,
) -> None:
    out = io.StringIO()
    code = await run_sandbox_async(
        settings=Settings(COACHBOT_ENV="test"),
        user_id="ada",
        stdin=io.StringIO(""),
        stdout=out,
    )
    assert code == 2 and "'ADA' is not a Slack user id" in out.getvalue()
    empty = Settings(
        COACHBOT_ENV="test", COACHBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    )
    out = io.StringIO()
    code = await run_sandbox_async(settings=empty, stdin=io.StringIO("home\n"), stdout=out)
    assert code == 2
    assert "run `coachbot migrate` and `coachbot demo` first" in out.getvalue()
