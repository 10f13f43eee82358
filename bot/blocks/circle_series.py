"""A program owner's circle series in Slack: the Home tab's list (Stop or Restart on each,
New circle series under the heading), and the modal that starts a series with the rules
the API takes (its defaults for the rest). The builders are pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final
from zoneinfo import ZoneInfo

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
from services.circles.models import (
    MAX_CADENCE_WEEKS,
    MAX_GROUP,
    MIN_CADENCE_WEEKS,
    MIN_GROUP,
    CircleSeriesCreate,
    CircleSeriesPublic,
    RoundAttendance,
)
from services.metrics.home import LISTED_SERIES, OwnerHome

NEW_SERIES: Final = "circle_series_new"
STOP_SERIES: Final = "circle_series_stop"
RESTART_SERIES: Final = "circle_series_restart"
SERIES_MODAL: Final = "circle_series_create"
EDIT_SERIES: Final = "circle_series_edit"
EDIT_MODAL: Final = "circle_series_edit_modal"
COHORT_BLOCK: Final = "cohort"
NAME_BLOCK: Final = "name"
SIZE_BLOCK: Final = "group_size"
CADENCE_BLOCK: Final = "cadence"
WEEKDAY_BLOCK: Final = "weekday"
TIME_BLOCK: Final = "local_time"
START_BLOCK: Final = "start_date"
SPREAD_BLOCK: Final = "spread"
MIXING_BLOCK: Final = "mixing"
# Where each field of a series is entered, for errors the service names by field.
FIELD_BLOCKS: Final = {
    "cohort_id": COHORT_BLOCK,
    "name": NAME_BLOCK,
    "group_size": SIZE_BLOCK,
    "cadence_weeks": CADENCE_BLOCK,
    "weekday": WEEKDAY_BLOCK,
    "local_time": TIME_BLOCK,
    "start_date": START_BLOCK,
    "max_utc_spread_minutes": SPREAD_BLOCK,
    "mix_team": MIXING_BLOCK,
    "mix_level": MIXING_BLOCK,
    "affinity": MIXING_BLOCK,
}
SPREAD_HOURS: Final = (2, 4, 6, 8, 12, 24)
AFTER_LAST_ROUND: Final = (
    "Rounds already formed stay as they were; a new day or cadence starts after the last one."
)
MIXING: Final = (
    ("mix_team", "Mix teams", "Keep people from the same team apart where possible."),
    ("mix_level", "Mix levels", "Keep people of the same level apart where possible."),
    ("affinity", "Match shared goals", "Bring together people working on similar skills."),
)


def group_label(size: int) -> str:
    return "Pairs" if size == 2 else f"{size} people"


def cadence_label(weeks: int) -> str:
    return "Every week" if weeks == 1 else f"Every {weeks} weeks"


def _spread_label(minutes: int) -> str:
    if minutes >= 24 * 60:
        return "Any timezones"
    hours, rest = divmod(minutes, 60)
    return f"Within {hours} hours" if not rest else f"Within {hours} h {rest} min"


def _rule_inputs(now: dict[str, Any]) -> list[JSON]:
    """Name, size, cadence, day, time, clock spread and mixing, filled in from `now`."""
    sizes = [option(text=group_label(n), value=str(n)) for n in range(MIN_GROUP, MAX_GROUP + 1)]
    cadences = [option(text=cadence_label(n), value=str(n))
                for n in range(MIN_CADENCE_WEEKS, MAX_CADENCE_WEEKS + 1)]
    days = [option(text=day, value=str(number)) for number, day in enumerate(WEEKDAY_NAMES)]
    # Minutes, so a spread set through the API to something else is offered as it is.
    minutes = sorted({hours * 60 for hours in SPREAD_HOURS} | {now["max_utc_spread_minutes"]})
    spreads = {m: option(text=_spread_label(m), value=str(m)) for m in minutes}
    mixing = [option(text=text, value=key, description=why) for key, text, why in MIXING]
    return [
        input_block(NAME_BLOCK, "Name", {"type": "plain_text_input", "action_id": "value",
                                         "max_length": 200, "initial_value": now["name"]}),
        input_block(SIZE_BLOCK, "Circle size",
                    static_select(sizes, sizes[now["group_size"] - MIN_GROUP]),
                    hint="An odd roster gets a circle one larger or smaller; nobody is left "
                    "out."),
        input_block(CADENCE_BLOCK, "How often",
                    static_select(cadences, cadences[now["cadence_weeks"] - MIN_CADENCE_WEEKS])),
        input_block(WEEKDAY_BLOCK, "On", static_select(days, days[now["weekday"]])),
        input_block(TIME_BLOCK, "At", {"type": "timepicker", "action_id": "value",
                                       "initial_time": f"{now['local_time']:%H:%M}"},
                    hint="In the cohort's timezone: each circle is introduced then."),
        input_block(SPREAD_BLOCK, "Members' clocks",
                    static_select(list(spreads.values()), spreads[now["max_utc_spread_minutes"]]),
                    hint="How far apart the timezones in one circle may be, so working hours "
                    "overlap."),
        # With no box ticked, circles ignore team and level.
        input_block(MIXING_BLOCK, "Mixing", {
            "type": "checkboxes", "action_id": "value", "options": mixing,
            "initial_options": [o for o in mixing if now[o["value"]]]}, optional=True),
    ]


def series_modal(cohorts: Sequence[tuple[int, str]], *, start: str) -> JSON:
    """The owner's New circle series modal, filled in with the API's defaults; `start` is
    the first date offered (YYYY-MM-DD)."""
    defaults = {name: field.default for name, field in CircleSeriesCreate.model_fields.items()}
    rules = _rule_inputs(defaults | {"name": "Peer circles"})
    cohort_options = [option(text=name, value=str(cohort_id)) for cohort_id, name in cohorts]
    only = cohort_options[0] if len(cohort_options) == 1 else None
    cohort = static_select(cohort_options, only, "Choose a cohort")
    start_block = input_block(START_BLOCK, "First round on or after",
                              {"type": "datepicker", "action_id": "value", "initial_date": start})
    return {"type": "modal", "callback_id": SERIES_MODAL,
            "title": plain_text("New circle series", limit=24),
            "submit": plain_text("Start", limit=24), "close": plain_text("Cancel", limit=24),
            "blocks": [input_block(COHORT_BLOCK, "Cohort", cohort), *rules[:5], start_block,
                       *rules[5:]]}


def edit_series_modal(series: CircleSeriesPublic) -> JSON:
    """The Edit modal: the series' rules as they are; its cohort and first date stay."""
    rules = _rule_inputs(series.model_dump(include=set(CircleSeriesCreate.model_fields)))
    return {"type": "modal", "callback_id": EDIT_MODAL,
            "title": plain_text("Edit circle series", limit=24),
            "submit": plain_text("Save", limit=24), "close": plain_text("Cancel", limit=24),
            "private_metadata": str(series.id),
            "blocks": [*rules, context(texts=[AFTER_LAST_ROUND])]}


def _when(item: CircleSeriesPublic, zone: str) -> str:
    if not item.active:
        return "stopped"
    if item.next_round_at is None:
        return "no round ahead"
    local = item.next_round_at.astimezone(ZoneInfo(zone))
    return f"next round {local:%a %d %b %H:%M}"


def _attendance(last: RoundAttendance | None) -> str:
    if last is None or last.placed is None:
        return ""
    said = f"{last.met or 0} of {last.placed} met"
    waiting = f", {last.no_answer} not answered yet" if last.no_answer else ""
    return f"\n    Round {last.round_number}: {said}{waiting}"


def series_line(
    item: CircleSeriesPublic, *, cohort: str, zone: str, last: RoundAttendance | None = None
) -> Markup:
    """One series as the owner's Home tab lists it, with its latest round's attendance
    where the cohort's anonymity minimum lets owners see it."""
    day = WEEKDAY_NAMES[item.weekday]
    return markup("• *{name}* · {cohort} · {size}, {cadence} on {day}s at {at} · {when}{seen}",
                  name=item.name, cohort=cohort, size=group_label(item.group_size).lower(),
                  cadence=cadence_label(item.cadence_weeks).lower(), day=day,
                  at=f"{item.local_time:%H:%M}", when=_when(item, zone),
                  seen=_attendance(last))


def _stop_confirm(name: str) -> JSON:
    return confirm_dialog(title="Stop this series?", confirm="Stop",
                          text=f"{name}: no new rounds form and no more follow-ups are asked. "
                          "Circles already formed keep their group DMs.")


def _series_blocks(item: CircleSeriesPublic, home: OwnerHome) -> list[JSON]:
    line = series_line(item, cohort=home.cohort_names.get(item.cohort_id, "a cohort"),
                       zone=home.cohort_zones.get(item.cohort_id, "UTC"),
                       last=home.last_rounds.get(item.id))
    edit = button(text="Edit", action_id=EDIT_SERIES, value=str(item.id))
    if item.active:
        switch = button(text="Stop", action_id=STOP_SERIES, value=str(item.id))
        switch["confirm"] = _stop_confirm(item.name)
    else:
        switch = button(text="Restart", action_id=RESTART_SERIES, value=str(item.id))
    return [section(text=line), actions(elements=[edit, switch])]


def owner_series_blocks(home: OwnerHome) -> list[JSON]:
    """The owner's Home tab section: their series with Stop or Restart, and New circle series."""
    shown = home.circle_series[:LISTED_SERIES]
    text = "*Peer circles*" if shown else "*Peer circles*\nNo circle series yet."
    blocks = [section(text=markup(text), accessory=button(
        text="New circle series", action_id=NEW_SERIES, value="new"))]
    blocks += [block for item in shown for block in _series_blocks(item, home)]
    if len(home.circle_series) > len(shown):
        more = len(home.circle_series) - len(shown)
        blocks.append(context(texts=[f"…and {more} more: `GET /api/v1/circle-series` lists all."]))
    return blocks


def created_notice(item: CircleSeriesPublic, *, cohort: str, zone: str) -> Markup:
    """What the owner is told once the series exists."""
    if item.next_round_at is None:
        first = "No round falls before the cohort ends."
    else:
        local = item.next_round_at.astimezone(ZoneInfo(zone))
        first = f"The first round is {local:%A %d %B at %H:%M} ({zone}): each circle gets a "
        first += "group DM then."
    return markup(
        "*{name}* is set up for {cohort}: {size}, {cadence}. {first} Every leader in the "
        "cohort takes part unless they pause or opt out with `/coach circles`.",
        name=item.name, cohort=cohort, size=group_label(item.group_size).lower(),
        cadence=cadence_label(item.cadence_weeks).lower(), first=first)
