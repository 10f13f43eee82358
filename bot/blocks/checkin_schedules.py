"""A program owner's check-in schedules in Slack: the Home tab's list (Stop or Restart on
each, New check-in schedule under the heading), and the modal that adds a schedule with the
rules the API takes (its defaults for the rest). The builders are pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

from bot.blocks import (
    JSON,
    actions,
    button,
    context,
    input_block,
    option,
    plain_text,
    section,
    static_select,
)
from bot.blocks.text import Markup, markup
from services.checkins.models import SchedulePublic
from services.metrics.home import LISTED_SCHEDULES, OwnerHome

NEW_SCHEDULE: Final = "checkin_schedule_new"
SCHEDULE_MODAL: Final = "checkin_schedule_create"
STOP_SCHEDULE: Final = "checkin_schedule_stop"
RESTART_SCHEDULE: Final = "checkin_schedule_restart"
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
DAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# The questions a schedule asks: the default weekly check-in, one reflection prompt from the
# library per leader, or a template ("template:<id>").
DEFAULT_QUESTIONS: Final = "default"
REFLECTION: Final = "reflection"
TEMPLATE_PREFIX: Final = "template:"
REMINDER_HOURS: Final = (2, 4, 8)
NO_REMINDER: Final = "none"
# What the modal offers first: Fridays at 16:00, a time to look back on the week.
DEFAULT_NAME: Final = "Weekly check-in"
DEFAULT_WEEKDAYS: Final = (4,)
DEFAULT_TIME: Final = "16:00"


def reminder_label(minutes: int | None) -> str:
    if minutes is None:
        return "No reminder"
    hours, rest = divmod(minutes, 60)
    return f"After {hours} hours" if not rest else f"After {minutes} minutes"


def schedule_modal(
    cohorts: Sequence[tuple[int, str]], templates: Sequence[tuple[int, str]], *, start: str
) -> JSON:
    """The owner's New check-in schedule modal; `templates` are the (id, name) the owner can
    use and `start` the first date offered (YYYY-MM-DD)."""
    cohort_options = [option(text=name, value=str(cohort_id)) for cohort_id, name in cohorts]
    questions = [
        option(text="Weekly check-in (the default questions)", value=DEFAULT_QUESTIONS),
        option(text="A reflection prompt from the library", value=REFLECTION,
               description="Each leader gets one matched to their goals."),
        *[option(text=f"Template: {name}", value=f"{TEMPLATE_PREFIX}{template_id}")
          for template_id, name in templates[:98]],
    ]
    days = [option(text=day, value=str(number)) for number, day in enumerate(DAYS)]
    reminders = [option(text=reminder_label(None), value=NO_REMINDER)] + [
        option(text=reminder_label(hours * 60), value=str(hours * 60)) for hours in REMINDER_HOURS
    ]
    return {"type": "modal", "callback_id": SCHEDULE_MODAL,
            "title": plain_text("New check-in schedule", limit=24),
            "submit": plain_text("Add", limit=24), "close": plain_text("Cancel", limit=24),
            "blocks": [
                input_block(COHORT_BLOCK, "Cohort", static_select(
                    cohort_options, cohort_options[0] if len(cohort_options) == 1 else None,
                    "Choose a cohort")),
                input_block(NAME_BLOCK, "Name", {"type": "plain_text_input", "action_id": "value",
                                                 "max_length": 200,
                                                 "initial_value": DEFAULT_NAME}),
                input_block(QUESTIONS_BLOCK, "Questions", static_select(questions, questions[0])),
                input_block(WEEKDAYS_BLOCK, "On", {
                    "type": "checkboxes", "action_id": "value", "options": days,
                    "initial_options": [days[n] for n in DEFAULT_WEEKDAYS]}),
                input_block(TIME_BLOCK, "At", {"type": "timepicker", "action_id": "value",
                                               "initial_time": DEFAULT_TIME},
                            hint="On each leader's own clock, wherever they are."),
                input_block(START_BLOCK, "From", {"type": "datepicker", "action_id": "value",
                                                  "initial_date": start}),
                input_block(END_BLOCK, "Until", {"type": "datepicker", "action_id": "value"},
                            optional=True, hint="Leave empty to run until you stop it."),
                input_block(REMINDER_BLOCK, "Reminder", static_select(reminders, reminders[0]),
                            hint="One nudge to leaders who have not answered yet."),
            ]}


def _days(weekdays: Sequence[int]) -> str:
    if list(weekdays) == [0, 1, 2, 3, 4]:
        return "weekdays"
    names = [f"{DAYS[n]}s" for n in weekdays]
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
    return {
        "title": plain_text("Stop this schedule?", limit=100),
        "text": plain_text(f"{name}: no new check-ins are sent. Answers already given stay, "
                           "and check-ins already sent can still be answered.", limit=300),
        "confirm": plain_text("Stop", limit=30),
        "deny": plain_text("Keep it", limit=30),
        "style": "danger",
    }


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
        if item.active:
            switch = button(text="Stop", action_id=STOP_SCHEDULE, value=str(item.id))
            switch["confirm"] = _stop_confirm(item.name)
        else:
            switch = button(text="Restart", action_id=RESTART_SCHEDULE, value=str(item.id))
        blocks += [section(text=line), actions(elements=[switch])]
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
