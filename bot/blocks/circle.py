"""Peer circles in Slack: the group-DM intro, each member's private follow-up, the
commitment modal, and the notes for a pause and for a round without a circle.

The builders are pure. `register(renderers)` adds the outbox renderers for the circle
intents; they read through the circles service and build with these. Names and answers
are escaped; the only mentions are of the circle's own members, by Slack user id.
"""

from __future__ import annotations

import json
import re
from typing import Final

from bot.blocks import (
    JSON,
    Markup,
    actions,
    button,
    context,
    header,
    markup,
    option,
    plain_text,
    section,
)
from bot.blocks.text import MESSAGE_TEXT, escape, truncate
from bot.render import RenderError, Renderers, RenderRequest
from services.circles.followups import FOLLOWUP_KIND, PAUSED_KIND
from services.circles.mine import (
    FollowupMessage,
    IntroMessage,
    followup_message,
    followup_target,
    intro_message,
    round_series,
    series_name,
)
from services.circles.models import MetAnswer, ParticipantStatus, ParticipationPublic
from services.circles.rounds import INTRO_KIND, UNMATCHED_KIND
from services.errors import DomainError
from services.prompts import render_prompt

MET_ACTIONS: Final = {
    "circle_met_yes": MetAnswer.yes,
    "circle_met_not_yet": MetAnswer.not_yet,
    "circle_met_couldnt": MetAnswer.couldnt,
}
MET_LABELS: Final = {
    MetAnswer.yes: "Yes, we met",
    MetAnswer.not_yet: "Not yet",
    MetAnswer.couldnt: "We couldn't",
}
COMMIT: Final = "circle_commit"
RESUME: Final = "circle_resume"
PREFERENCES: Final = "circle_preferences"
PREFERENCES_MODAL: Final = "circle_preferences_modal"
BLOCKS_BLOCK: Final = "blocks"
STATUS_LABELS: Final = {
    ParticipantStatus.active: "Count me in",
    ParticipantStatus.paused: "Pause",
    ParticipantStatus.opted_out: "Opt out",
}
COMMIT_MODAL: Final = "circle_commitment_modal"
COMMITMENT_BLOCK: Final = "commitment"
GOAL_BLOCK: Final = "goal"
COMMITMENT_MAX: Final = 2000
SLACK_USER: Final = re.compile(r"^[A-Z0-9]+$")


def _fallback(text: str) -> str:
    return truncate(escape(text), MESSAGE_TEXT)


def mentions(user_ids: list[str]) -> Markup:
    """`<@U1>, <@U2> and <@U3>`; ids that are not Slack user ids are left out."""
    tags = [f"<@{user_id}>" for user_id in user_ids if SLACK_USER.match(user_id)]
    if len(tags) <= 1:
        return Markup("".join(tags))
    return Markup(", ".join(tags[:-1]) + f" and {tags[-1]}")


def _names(names: list[str]) -> str:
    if not names:
        return "your circle"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def intro_blocks(message: IntroMessage) -> JSON:
    """The group-DM intro: who, why these people, a suggested agenda and one reflection."""
    agenda = render_prompt(name="circles/intro", variables={
        "followup_days": message.followup_days})
    who = mentions([peer.slack_user_id for peer in message.members])
    blocks = [
        header(text="Meet your peer circle"),
        section(text=markup("Hi {who}! You are a *{series}* circle for round {number}.",
                            who=who, series=message.series_name, number=message.round_number)),
    ]
    if message.explanation:
        blocks.append(context(texts=[markup("Why this group: {why}.", why=message.explanation)]))
    blocks.append(section(text=Markup("*Suggested agenda*\n" + agenda.blocks["agenda"].strip())))
    if message.reflection:
        blocks.append(section(text=markup("*Reflection prompt:* _{text}_",
                                          text=message.reflection)))
    blocks.append(context(texts=[escape(agenda.blocks["closing"].strip())]))
    names = _names([peer.name for peer in message.members])
    return {"text": _fallback(f"Meet your peer circle: {names}"), "blocks": blocks}


def followup_blocks(message: FollowupMessage) -> JSON:
    """One member's follow-up: did you meet (three buttons) and what did you commit to."""
    value = str(message.circle_id)
    question = markup("How did your *{series}* circle (round {number}) go with {others}?",
                      series=message.series_name, number=message.round_number,
                      others=_names(message.others))
    blocks = [
        section(text=question),
        section(text=Markup("*Did you meet?*"), block_id="circle_met_question"),
        actions(block_id="circle_met", elements=[
            button(text=MET_LABELS[answer], action_id=action_id, value=value,
                   style="primary" if answer is MetAnswer.yes else None)
            for action_id, answer in MET_ACTIONS.items()
        ]),
    ]
    if message.met is not None:
        blocks.append(context(texts=[markup("You said: {answer}.",
                                            answer=MET_LABELS[message.met])]))
    blocks.append(section(
        text=Markup("*What did you commit to?*"),
        accessory=button(text="Change my commitment" if message.commitment
                         else "Add my commitment", action_id=COMMIT, value=value),
    ))
    if message.commitment:
        blocks.append(context(texts=[markup("Your commitment: {text}", text=message.commitment)]))
    fallback = f"Did your circle meet? ({message.series_name}, round {message.round_number})"
    return {"text": _fallback(fallback), "blocks": blocks}


def commitment_modal(message: FollowupMessage, *, where: tuple[str, str] | None = None) -> JSON:
    """What did you commit to, and which of your goals does it move forward?"""
    commitment: JSON = {
        "type": "plain_text_input", "action_id": "value", "multiline": True,
        "max_length": COMMITMENT_MAX,
        "placeholder": plain_text("One small step before we next meet", limit=150),
    }
    if message.commitment:
        commitment["initial_value"] = message.commitment[:COMMITMENT_MAX]
    blocks: list[JSON] = [{
        "type": "input", "block_id": COMMITMENT_BLOCK, "element": commitment,
        "label": plain_text("What did you commit to?", limit=2000),
    }]
    if message.goals:
        blocks.append({
            "type": "input", "block_id": GOAL_BLOCK,
            "label": plain_text("Which goal does it move forward?", limit=2000),
            "element": {
                "type": "static_select", "action_id": "value",
                "placeholder": plain_text("Choose a goal", limit=150),
                "options": [option(text=title, value=str(goal_id))
                            for goal_id, title in message.goals[:100]],
            },
        })
        blocks.append(context(texts=["It is logged as a progress update on that goal."]))
    else:
        blocks.append(context(texts=["Add a goal in the Home tab to log commitments on it."]))
    metadata: dict[str, object] = {"circle_id": message.circle_id}
    if where is not None:
        metadata |= {"channel": where[0], "ts": where[1]}
    return {
        "type": "modal",
        "callback_id": COMMIT_MODAL,
        "title": plain_text("Your commitment", limit=24),
        "submit": plain_text("Save", limit=24),
        "close": plain_text("Cancel", limit=24),
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def paused_blocks(*, series: str, series_id: int, misses: int, resumed: bool = False) -> JSON:
    """The note to someone paused after missed rounds, with the way back."""
    if resumed:
        text = markup("Welcome back! You are in the next *{series}* round.", series=series)
        return {"text": _fallback(f"Welcome back to {series}."), "blocks": [section(text=text)]}
    text = markup(
        "You have missed {misses} *{series}* rounds in a row, so I have paused your circle "
        "invitations. No problem: whenever you are ready, come back with the button below.",
        misses=misses, series=series)
    return {
        "text": _fallback(f"Your {series} circle invitations are paused."),
        "blocks": [
            section(text=text),
            actions(block_id="circle_resume", elements=[
                button(text="Count me in again", action_id=RESUME, value=str(series_id),
                       style="primary"),
            ]),
        ],
    }


def unmatched_blocks(*, series: str, number: int) -> JSON:
    """The note to someone no circle could take this round."""
    text = markup("There was no circle for you in round {number} of *{series}* this time; "
                  "you are in the draw again next round.", number=number, series=series)
    return {"text": _fallback(f"No circle for you this round of {series}."),
            "blocks": [section(text=text)]}


def series_block_id(series_id: int) -> str:
    return f"series_{series_id}"


def until_block_id(series_id: int) -> str:
    return f"until_{series_id}"


def preferences_modal(
    *, series: list[ParticipationPublic], blocked: list[str], runs_series: bool = False
) -> JSON:
    """How the leader takes part in each series, and their private "don't match me with";
    a program owner (`runs_series`) is also told where their cohorts' series are run."""
    blocks: list[JSON] = []
    if runs_series:
        blocks.append(context(texts=["You run your cohorts' circle series from your Home tab: "
                                     "New circle series, Edit, Stop. This is where you take "
                                     "part in circles yourself."]))
    for each in series[:10]:
        choices = [option(text=label, value=status.value)
                   for status, label in STATUS_LABELS.items()]
        select: JSON = {"type": "static_select", "action_id": "value", "options": choices,
                        "initial_option": next(c for c in choices if c["value"] == each.status)}
        until: JSON = {"type": "datepicker", "action_id": "value",
                       "placeholder": plain_text("Until I come back", limit=150)}
        if each.paused_until is not None:
            until["initial_date"] = each.paused_until.isoformat()
        blocks += [
            {"type": "input", "block_id": series_block_id(each.series_id), "element": select,
             "label": plain_text(each.series_name, limit=2000)},
            {"type": "input", "block_id": until_block_id(each.series_id), "element": until,
             "optional": True, "label": plain_text("Paused until", limit=2000)},
        ]
    if not series:
        blocks.append(section(text=Markup("You are not in a circle series yet.")))
    people: JSON = {"type": "multi_users_select", "action_id": "value",
                    "placeholder": plain_text("Choose people", limit=150)}
    if blocked:
        people["initial_users"] = blocked[:100]
    blocks += [
        {"type": "input", "block_id": BLOCKS_BLOCK, "element": people, "optional": True,
         "label": plain_text("Never put me in a circle with", limit=2000)},
        context(texts=["Only you can see this list. Nobody on it is told, and no circle "
                       "says why it was formed the way it was."]),
    ]
    return {
        "type": "modal",
        "callback_id": PREFERENCES_MODAL,
        "title": plain_text("Peer circles", limit=24),
        "submit": plain_text("Save", limit=24),
        "close": plain_text("Cancel", limit=24),
        "blocks": blocks,
    }


# --- outbox renderers ----------------------------------------------------------------------


def _id(request: RenderRequest, name: str) -> int:
    value = request.intent.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise RenderError(f"the intent needs an integer {name!r}")
    return value


async def render_intro(request: RenderRequest) -> JSON:
    """`{"kind": "circle_intro", "circle_id": N}`: the intro in the circle's group DM."""
    try:
        message = await intro_message(session=request.session,
                                      circle_id=_id(request, "circle_id"))
    except DomainError as error:
        raise RenderError(error.detail) from error
    return intro_blocks(message)


async def render_followup(request: RenderRequest) -> JSON:
    """`{"kind": "circle_followup", "circle_member_id": N}`: one member's follow-up DM."""
    try:
        circle_id, member_id = await followup_target(
            session=request.session, circle_member_id=_id(request, "circle_member_id"))
        message = await followup_message(session=request.session, circle_id=circle_id,
                                         member_id=member_id)
    except DomainError as error:
        raise RenderError(error.detail) from error
    return followup_blocks(message)


async def render_paused(request: RenderRequest) -> JSON:
    """`{"kind": "circle_paused", "series_id": N, "misses": K}`: paused, and how to return."""
    series_id = _id(request, "series_id")
    try:
        name = await series_name(session=request.session, series_id=series_id)
    except DomainError as error:
        raise RenderError(error.detail) from error
    return paused_blocks(series=name, series_id=series_id, misses=_id(request, "misses"))


async def render_unmatched(request: RenderRequest) -> JSON:
    """`{"kind": "circle_unmatched", "round_id": N}`: no circle this round."""
    try:
        number, name = await round_series(session=request.session,
                                          round_id=_id(request, "round_id"))
    except DomainError as error:
        raise RenderError(error.detail) from error
    return unmatched_blocks(series=name, number=number)


def register(renderers: Renderers) -> None:
    """Render circle intros, follow-ups and notes."""
    renderers.register_renderer(INTRO_KIND, render_intro)
    renderers.register_renderer(FOLLOWUP_KIND, render_followup)
    renderers.register_renderer(PAUSED_KIND, render_paused)
    renderers.register_renderer(UNMATCHED_KIND, render_unmatched)
