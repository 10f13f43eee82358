"""The App Home view, built from a HomeSummary. Pure: no I/O."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.blocks import (
    JSON,
    Markup,
    actions,
    button,
    context,
    divider,
    header,
    markup,
    option,
    plain_text,
    section,
)
from bot.blocks.broadcast import owner_home_blocks
from bot.blocks.checkin import START as CHECKIN_START
from bot.blocks.checkin_schedules import owner_schedule_blocks
from bot.blocks.circle import PREFERENCES as CIRCLE_PREFERENCES
from bot.blocks.circle_series import owner_series_blocks
from services.checkins.schedule import zone_or_none
from services.home import CoacheeSummary, CohortSummary, HomeSummary
from services.people.models import EnrollmentRole
from services.plans.models import GoalInPlan, MilestonePublic, MilestoneStatus, Visibility

MAX_VIEW_BLOCKS = 100
STATUS_LABEL = {
    "on_track": ":large_green_circle: on track",
    "at_risk": ":large_yellow_circle: at risk",
    "off_track": ":red_circle: off track",
    "done": ":white_check_mark: done",
    "dropped": ":heavy_minus_sign: dropped",
}
VISIBILITY_LABEL = {
    Visibility.private.value: "Only me",
    Visibility.coach.value: "Me and my coach",
    Visibility.aggregate.value: "Counts only",
}


def home_view(summary: HomeSummary) -> JSON:
    """The Home tab for one member, by the roles they hold."""
    blocks: list[JSON] = [header(text=f"Coachbot · {summary.member.name}")]
    if not summary.roles:
        blocks += _welcome()
    if summary.paused_until:
        blocks.append(
            context(
                texts=[
                    markup(
                        ":double_vertical_bar: You have paused Coachbot until {until}. "
                        "`/coach resume` starts it again.",
                        until=summary.paused_until,
                    )
                ]
            )
        )
    if EnrollmentRole.leader in summary.roles:
        blocks += _leader(summary)
    if EnrollmentRole.coach in summary.roles:
        blocks += _coach(summary.coachees, drafts_awaiting=summary.drafts_awaiting)
    if EnrollmentRole.owner in summary.roles:
        blocks += _owner(summary.cohorts)
        if summary.owner is not None:
            blocks += owner_home_blocks(summary.owner)
            blocks += owner_schedule_blocks(summary.owner)
            blocks += owner_series_blocks(summary.owner)
    return {"type": "home", "blocks": _fit(blocks)}


def _welcome() -> list[JSON]:
    return [
        section(
            text=markup(
                "Hi! Coachbot helps leadership programs run in Slack: reflection check-ins, a "
                "development plan, peer circles and nudges toward your own goals."
            )
        ),
        section(
            text=markup(
                "*You are not enrolled in a program yet.* Ask your program owner to add you to "
                "a cohort; once they have, this tab shows your plan. `/coach help` lists what "
                "you can do."
            )
        ),
    ]


def _leader(summary: HomeSummary) -> list[JSON]:
    blocks: list[JSON] = [
        section(
            text=markup("*Your development plan*"),
            accessory=button(text="Add a goal", action_id="home_add_goal", style="primary"),
        ),
    ]
    goals = summary.plan.goals if summary.plan else []
    if not goals:
        blocks.append(
            section(
                text=markup("No goals yet. Add one, or type `/coach goal add <title>` anywhere.")
            )
        )
    for goal in goals:
        blocks += _goal(goal)
    blocks.append(divider())
    blocks.append(
        context(
            texts=[
                _checkin_line(summary),
                markup(
                    ":busts_in_silhouette: Circle: {what}",
                    what=summary.current_circle or "none yet",
                ),
                markup(":bulb: Latest nudge: {what}", what=summary.latest_nudge or "none yet"),
            ]
        )
    )
    buttons = [button(text="Circle preferences", action_id=CIRCLE_PREFERENCES)]
    upcoming = summary.next_checkin
    if upcoming is not None and upcoming.open_now and upcoming.checkin_id is not None:
        buttons.insert(0, button(text="Answer check-in", action_id=CHECKIN_START,
                                 value=str(upcoming.checkin_id), style="primary"))
    blocks.append(actions(elements=buttons))
    return blocks


def _checkin_line(summary: HomeSummary) -> Markup:
    """The leader's check-in waiting for answers, else their next one, on their clock."""
    upcoming = summary.next_checkin
    if upcoming is None:
        return markup(":calendar: Next check-in: none scheduled")
    local = upcoming.at.astimezone(zone_or_none(summary.member.timezone) or ZoneInfo("UTC"))
    when = f"{local:%a} {local.day} {local:%b} at {local:%H:%M}"
    if upcoming.open_now:
        return markup(":calendar: *{title}* is waiting for your answers, open until {when}",
                      title=upcoming.title, when=when)
    return markup(":calendar: Next check-in: *{title}*, {when}", title=upcoming.title, when=when)


def _goal(goal: GoalInPlan) -> list[JSON]:
    goal_id = str(goal.id)
    blocks = [
        divider(),
        section(
            text=markup(
                "*{title}*\n{status} · {competency}",
                title=goal.title,
                status=STATUS_LABEL.get(goal.status, goal.status),
                competency=goal.competency or "no competency",
            )
        ),
        context(
            texts=[
                markup(
                    ":lock: Visible to: {who}",
                    who=VISIBILITY_LABEL.get(goal.visibility, goal.visibility),
                )
            ]
        ),
    ]
    for milestone in goal.milestones:
        blocks.append(_milestone(milestone))
    blocks.append(
        actions(
            block_id=f"goal_{goal_id}",
            elements=[
                button(text="Add milestone", action_id="home_add_milestone", value=goal_id),
                button(text="Log progress", action_id="home_log_progress", value=goal_id),
                button(text="Edit goal", action_id="home_edit_goal", value=goal_id),
                _visibility_select(goal),
            ],
        )
    )
    return blocks


def _milestone(milestone: MilestonePublic) -> JSON:
    done = milestone.status == MilestoneStatus.done
    due = f"due {milestone.due_date.isoformat()}" if milestone.due_date else "no due date"
    mark = (
        ":white_check_mark:" if done else (":warning:" if milestone.overdue else ":white_circle:")
    )
    overdue = Markup(" · *overdue*" if milestone.overdue else "")
    text = markup(
        "{mark} {title} _({due})_{overdue}",
        mark=mark,
        title=milestone.title,
        due=due,
        overdue=overdue,
    )
    accessory = (
        None
        if done
        else button(text="Mark done", action_id="home_milestone_done", value=str(milestone.id))
    )
    return section(text=text, accessory=accessory)


def _visibility_select(goal: GoalInPlan) -> JSON:
    options = [
        option(text=label, value=f"{goal.id}:{value}") for value, label in VISIBILITY_LABEL.items()
    ]
    current = next(o for o in options if o["value"] == f"{goal.id}:{goal.visibility}")
    return {
        "type": "static_select",
        "action_id": "home_goal_visibility",
        "placeholder": plain_text("Who can see this", limit=150),
        "options": options,
        "initial_option": current,
    }


def _coach(coachees: list[CoacheeSummary], *, drafts_awaiting: int) -> list[JSON]:
    blocks: list[JSON] = [divider(), section(text=markup("*Your coachees*"))]
    if drafts_awaiting:
        blocks.append(
            context(
                texts=[
                    markup(
                        ":memo: {drafts} for your review in your messages from Coachbot.",
                        drafts="1 drafted nudge waits"
                        if drafts_awaiting == 1
                        else f"{drafts_awaiting} drafted nudges wait",
                    )
                ]
            )
        )
    if not coachees:
        blocks.append(section(text=markup("Nobody is assigned to you yet.")))
    for coachee in coachees:
        last = (
            coachee.last_progress_at.date().isoformat()
            if coachee.last_progress_at
            else "nothing shared yet"
        )
        blocks.append(
            section(
                text=markup(
                    "*{name}* · {goals} · last update: {last}",
                    name=coachee.name,
                    goals="1 shared goal"
                    if coachee.shared_goals == 1
                    else f"{coachee.shared_goals} shared goals",
                    last=last,
                )
            )
        )
    return blocks


def _owner(cohorts: list[CohortSummary]) -> list[JSON]:
    blocks: list[JSON] = [divider(), section(text=markup("*Your cohorts*"))]
    for cohort in cohorts:
        if cohort.goals_by_status is None:
            goals = "goal figures appear once the cohort has enough leaders to keep them anonymous"
        else:
            goals = ", ".join(
                f"{n} {s.replace('_', ' ')}" for s, n in cohort.goals_by_status.items()
            )
        blocks.append(
            section(
                text=markup(
                    "*{name}* · {leaders} leaders · {coaches} coaches · {paused} paused\n{goals}",
                    name=cohort.name,
                    leaders=cohort.leaders,
                    coaches=cohort.coaches,
                    paused=cohort.paused,
                    goals=goals,
                )
            )
        )
    return blocks


def _fit(blocks: list[JSON]) -> list[JSON]:
    if len(blocks) <= MAX_VIEW_BLOCKS:
        return blocks
    note = context(
        texts=[markup("Your plan is longer than this tab can show; `/coach plan` lists all of it.")]
    )
    return [*blocks[: MAX_VIEW_BLOCKS - 1], note]
