"""A program owner's check-in schedules in Slack: the Home tab's list (Edit, and Stop or
Restart, on each; New check-in schedule under the heading), and the modals that add a
schedule with the rules the API takes (its defaults for the rest) or edit one. The
builders are pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from bot.blocks import (
    JSON,
    WEEKDAY_NAMES,
    actions,
    button,
    confirm_dialog,
    context,
    input_block,
    option,
    plain_text,
    section,
    static_select,
)
from bot.blocks.text import Markup, markup
from services.checkins.models import CheckinKind, SchedulePublic
from services.metrics.home import LISTED_SCHEDULES, OwnerHome

NEW_SCHEDULE: Final = "checkin_schedule_new"
SCHEDULE_MODAL: Final = "checkin_schedule_create"
STOP_SCHEDULE: Final = "checkin_schedule_stop"
RESTART_SCHEDULE: Final = "checkin_schedule_restart"
EDIT_SCHEDULE: Final = "checkin_schedule_edit"
EDIT_MODAL: Final = "checkin_schedule_edit_modal"
COHORT_BLOCK: Final = "cohort"
NAME_BLOCK: Final = "name"
QUESTIONS_BLOCK: Final = "questions"
WEEKDAYS_BLOCK: Final = "weekdays"
TIME_BLOCK: Final = "local_time"
START_BLOCK: Final = "start_date"
END_BLOCK: Final = "end_date"
REMINDER_BLOCK: Final = "reminder"
# Where each field of a schedule is entered, for errors the service names by field.
FIELD_BLOCKS: Final = {
    "cohort_id": COHORT_BLOCK,
    "name": NAME_BLOCK,
    "template_id": QUESTIONS_BLOCK,
    "kind": QUESTIONS_BLOCK,
    "weekdays": WEEKDAYS_BLOCK,
    "local_time": TIME_BLOCK,
    "start_date": START_BLOCK,
    "end_date": END_BLOCK,
    "reminder_after_minutes": REMINDER_BLOCK,
}
# The questions a schedule asks: the default weekly check-in, one reflection prompt from the
# library per leader, or a template ("template:<id>").
DEFAULT_QUESTIONS: Final = "default"
REFLECTION: Final = CheckinKind.reflection.value
CHECKIN: Final = CheckinKind.checkin.value
BOTH_KINDS: Final = frozenset({CHECKIN, REFLECTION})
TEMPLATE_PREFIX: Final = "template:"
REMINDER_HOURS: Final = (2, 4, 8)
NO_REMINDER: Final = "none"
# What the modal offers first: Fridays at 16:00, a time to look back on the week.
DEFAULT_NAME: Final = "Weekly check-in"
DEFAULT_WEEKDAYS: Final = (4,)
DEFAULT_TIME: Final = "16:00"
ALREADY_SENT: Final = "Check-ins already sent keep their questions and times; the next ones follow."


def reminder_label(minutes: int | None) -> str:
    if minutes is None:
        return "No reminder"
    hours, rest = divmod(minutes, 60)
    return f"After {hours} hours" if not rest else f"After {minutes} minutes"


@dataclass(frozen=True)
class Rules:
    """What the modal's rule inputs show: a new schedule's defaults or a schedule's rules."""

    name: str = DEFAULT_NAME
    questions: str = DEFAULT_QUESTIONS
    weekdays: Sequence[int] = DEFAULT_WEEKDAYS
    local_time: str = DEFAULT_TIME
    end_date: str | None = None
    reminder_minutes: int | None = None

    @classmethod
    def of(cls, schedule: SchedulePublic) -> Rules:
        questions = (REFLECTION if schedule.kind == REFLECTION
                     else f"{TEMPLATE_PREFIX}{schedule.template_id}" if schedule.template_id
                     else DEFAULT_QUESTIONS)
        return cls(name=schedule.name, questions=questions, weekdays=schedule.weekdays,
                   local_time=f"{schedule.local_time:%H:%M}",
                   end_date=schedule.end_date.isoformat() if schedule.end_date else None,
                   reminder_minutes=schedule.reminder_after_minutes)


def _rule_inputs(
    now: Rules, templates: Sequence[tuple[int, str]], *, kinds: frozenset[str] = BOTH_KINDS
) -> list[JSON]:
    """Name, questions, days, time, last day and reminder, filled in from `now`; the
    questions offered are those of `kinds` (a schedule keeps its kind once created)."""
    reflection = option(text="A reflection prompt from the library", value=REFLECTION,
                        description="Each leader gets one matched to their goals.")
    fixed = [
        option(text="Weekly check-in (the default questions)", value=DEFAULT_QUESTIONS),
        *[option(text=f"Template: {name}", value=f"{TEMPLATE_PREFIX}{template_id}")
          for template_id, name in templates[:98]],
    ]
    questions = ([fixed[0]] if CHECKIN in kinds else []) + (
        [reflection] if REFLECTION in kinds else []) + (fixed[1:] if CHECKIN in kinds else [])
    asked = next((o for o in questions if o["value"] == now.questions), questions[0])
    days = [option(text=day, value=str(number)) for number, day in enumerate(WEEKDAY_NAMES)]
    # A reminder set through the API to another delay is offered as it is.
    delays = {hours * 60 for hours in REMINDER_HOURS} | {now.reminder_minutes or 2 * 60}
    reminders = {None: option(text=reminder_label(None), value=NO_REMINDER)} | {
        minutes: option(text=reminder_label(minutes), value=str(minutes))
        for minutes in sorted(delays)}
    until: JSON = {"type": "datepicker", "action_id": "value"}
    if now.end_date:
        until["initial_date"] = now.end_date
    return [
        input_block(NAME_BLOCK, "Name", {"type": "plain_text_input", "action_id": "value",
                                         "max_length": 200, "initial_value": now.name}),
        input_block(QUESTIONS_BLOCK, "Questions", static_select(questions, asked)),
        input_block(WEEKDAYS_BLOCK, "On", {
            "type": "checkboxes", "action_id": "value", "options": days,
            "initial_options": [days[n] for n in now.weekdays if 0 <= n < len(days)]}),
        input_block(TIME_BLOCK, "At", {"type": "timepicker", "action_id": "value",
                                       "initial_time": now.local_time},
                    hint="On each leader's own clock, wherever they are."),
        input_block(END_BLOCK, "Until", until, optional=True,
                    hint="Leave empty to run until you stop it."),
        input_block(REMINDER_BLOCK, "Reminder",
                    static_select(list(reminders.values()), reminders[now.reminder_minutes]),
                    hint="One nudge to leaders who have not answered yet."),
    ]


def schedule_modal(
    cohorts: Sequence[tuple[int, str]], templates: Sequence[tuple[int, str]], *, start: str
) -> JSON:
    """The owner's New check-in schedule modal; `templates` are the (id, name) the owner can
    use and `start` the first date offered (YYYY-MM-DD)."""
    cohort_options = [option(text=name, value=str(cohort_id)) for cohort_id, name in cohorts]
    only = cohort_options[0] if len(cohort_options) == 1 else None
    rules = _rule_inputs(Rules(), templates)
    first_day = input_block(START_BLOCK, "From", {"type": "datepicker", "action_id": "value",
                                                  "initial_date": start})
    return {"type": "modal", "callback_id": SCHEDULE_MODAL,
            "title": plain_text("New check-in schedule", limit=24),
            "submit": plain_text("Add", limit=24), "close": plain_text("Cancel", limit=24),
            "blocks": [input_block(COHORT_BLOCK, "Cohort",
                                   static_select(cohort_options, only, "Choose a cohort")),
                       *rules[:4], first_day, *rules[4:]]}


def edit_schedule_modal(schedule: SchedulePublic, templates: Sequence[tuple[int, str]]) -> JSON:
    """The Edit modal: the schedule's rules as they are; its cohort and first day stay."""
    return {"type": "modal", "callback_id": EDIT_MODAL,
            "title": plain_text("Edit check-in schedule", limit=24),
            "submit": plain_text("Save", limit=24), "close": plain_text("Cancel", limit=24),
            "private_metadata": str(schedule.id),
            "blocks": [*_rule_inputs(Rules.of(schedule), templates,
                                     kinds=frozenset({str(schedule.kind)})),
                       context(texts=[ALREADY_SENT])]}


def _days(weekdays: Sequence[int]) -> str:
    named = {(0, 1, 2, 3, 4, 5, 6): "every day", (0, 1, 2, 3, 4): "weekdays",
             (5, 6): "weekends"}
    if tuple(weekdays) in named:
        return named[tuple(weekdays)]
    names = [f"{WEEKDAY_NAMES[n]}s" for n in weekdays]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def _span(item: SchedulePublic, today: date) -> str:
    if not item.active:
        return "stopped"
    if item.end_date is not None and item.end_date < today:
        return f"ended {item.end_date.day} {item.end_date:%b %Y}"
    start = f"from {item.start_date:%a} {item.start_date.day} {item.start_date:%b}"
    span = start if item.start_date > today else "running"
    return span + (f" until {item.end_date.day} {item.end_date:%b}" if item.end_date else "")


def schedule_line(item: SchedulePublic, *, cohort: str, template: str | None,
                  today: date) -> Markup:
    """One schedule as the owner's Home tab lists it."""
    asks = ("a reflection prompt" if item.kind == REFLECTION
            else f"template {template}" if template else "the weekly questions")
    return markup("• *{name}* · {cohort} · {asks}, {days} at {at} on each leader's clock · "
                  "{span}", name=item.name, cohort=cohort, asks=asks, days=_days(item.weekdays),
                  at=f"{item.local_time:%H:%M}", span=_span(item, today))


def _stop_confirm(name: str) -> JSON:
    return confirm_dialog(title="Stop this schedule?", confirm="Stop",
                          text=f"{name}: no new check-ins are sent. Answers already given "
                          "stay, and check-ins already sent can still be answered.")


def owner_schedule_blocks(home: OwnerHome) -> list[JSON]:
    """The owner's Home tab section: their schedules with Stop or Restart, and New
    check-in schedule."""
    shown = home.checkin_schedules[:LISTED_SCHEDULES]
    text = "*Check-ins*" if shown else "*Check-ins*\nNo check-in schedule yet."
    blocks = [section(text=markup(text), accessory=button(
        text="New check-in schedule", action_id=NEW_SCHEDULE, value="new"))]
    for item in shown:
        line = schedule_line(item, cohort=home.cohort_names.get(item.cohort_id, "a cohort"),
                             template=home.template_names.get(item.template_id or 0),
                             today=home.today or item.start_date)
        edit = button(text="Edit", action_id=EDIT_SCHEDULE, value=str(item.id))
        if item.active:
            switch = button(text="Stop", action_id=STOP_SCHEDULE, value=str(item.id))
            switch["confirm"] = _stop_confirm(item.name)
        else:
            switch = button(text="Restart", action_id=RESTART_SCHEDULE, value=str(item.id))
        blocks += [section(text=line), actions(elements=[edit, switch])]
    if len(home.checkin_schedules) > len(shown):
        more = len(home.checkin_schedules) - len(shown)
        blocks.append(context(texts=[
            f"…and {more} more: `GET /api/v1/cohorts/{{id}}/checkin-schedules` lists all."]))
    return blocks


def added_notice(item: SchedulePublic, *, cohort: str) -> Markup:
    """What the owner is told once the schedule exists."""
    return markup(
        "*{name}* is set up for {cohort}: {days} at {at} on each leader's own clock, from "
        "{start}. Every leader in the cohort gets it unless they pause with `/coach pause`; "
        "their coaches get the answers meant for them in a review thread.",
        name=item.name, cohort=cohort, days=_days(item.weekdays),
        at=f"{item.local_time:%H:%M}",
        start=f"{item.start_date:%A} {item.start_date.day} {item.start_date:%B}")
