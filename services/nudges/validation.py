"""Decide whether a drafted nudge is grounded in the leader's own plan and safe to post."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from services.nudges.schema import NudgeContext, NudgeDraft

MIN_TEXT_CHARS = 20
MAX_TEXT_CHARS = 600
MAX_ACTION_CHARS = 200
MAX_RATIONALE_CHARS = 500

# Slack control sequences: <!here>, <!channel>, <!subteam^…>, <@U…>, <#C…>, <http…>, <mailto:…>.
SLACK_CONTROL = re.compile(r"<\s*[!@#]|<\s*(?:https?|mailto|tel|slack|ftp)\s*:", re.IGNORECASE)
BROADCAST_WORD = re.compile(r"(?<!\w)@(?:channel|here|everyone|all)\b", re.IGNORECASE)
PLAIN_MENTION = re.compile(r"(?<![\w.+-])@[A-Za-z0-9][\w.-]*")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(
    r"\b(?:https?|ftp)://|\bwww\.\S|"
    r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|co|ai|dev|app|ly|me|gg|xyz|info|biz)\b",
    re.IGNORECASE,
)


class ProblemKind(StrEnum):
    """Why a draft may not be used, most serious first (a draft's outcome names the first)."""

    ungrounded = "ungrounded"  # cites no open goal or milestone of this leader's
    names_other_person = "names_other_person"
    unsafe = "unsafe"  # a mention, link, address or control character
    too_long = "too_long"
    too_short = "too_short"


class Problem(NamedTuple):
    kind: ProblemKind
    # Names the rule, never the matched text: problems are logged and stored.
    message: str


def validate_draft(*, draft: NudgeDraft, context: NudgeContext) -> list[str]:
    """Every reason this draft may not be used; an empty list means it is grounded and safe."""
    return [problem.message for problem in draft_problems(draft=draft, context=context)]


def draft_problems(*, draft: NudgeDraft, context: NudgeContext) -> list[Problem]:
    """`validate_draft`'s reasons, each with its kind."""
    problems = [Problem(ProblemKind.ungrounded, message)
                for message in _citation_problems(draft=draft, context=context)]
    text = draft.text.strip()
    if len(text) < MIN_TEXT_CHARS:
        problems.append(Problem(ProblemKind.too_short,
                                f"text is shorter than {MIN_TEXT_CHARS} characters"))
    if len(text) > MAX_TEXT_CHARS:
        problems.append(Problem(ProblemKind.too_long,
                                f"text is longer than {MAX_TEXT_CHARS} characters"))
    if not draft.suggested_action.strip():
        problems.append(Problem(ProblemKind.too_short, "suggested action is empty"))
    if len(draft.suggested_action) > MAX_ACTION_CHARS:
        problems.append(Problem(ProblemKind.too_long,
                                f"suggested action is longer than {MAX_ACTION_CHARS} characters"))
    if len(draft.rationale) > MAX_RATIONALE_CHARS:
        problems.append(Problem(ProblemKind.too_long,
                                f"rationale is longer than {MAX_RATIONALE_CHARS} characters"))
    for field, value in (
        ("text", draft.text),
        ("suggested action", draft.suggested_action),
        ("rationale", draft.rationale),
    ):
        problems.extend(Problem(p.kind, f"{field} {p.message}")
                        for p in text_problems(text=value, context=context))
    return problems


def _citation_problems(*, draft: NudgeDraft, context: NudgeContext) -> list[str]:
    goal = context.goal(draft.cited_goal_id)
    if goal is None:
        return [f"cited goal {draft.cited_goal_id} is not one of this leader's goals"]
    problems = []
    if not goal.is_open:
        problems.append(f"cited goal {goal.id} is {goal.status.value}")
    if draft.cited_milestone_id is not None:
        milestone = context.milestone(draft.cited_milestone_id)
        if milestone is None or milestone.goal_id != goal.id:
            problems.append(
                f"cited milestone {draft.cited_milestone_id} does not belong to goal {goal.id}"
            )
        elif not milestone.is_open:
            problems.append(f"cited milestone {milestone.id} is {milestone.status.value}")
    return problems


def content_problems(*, text: str, context: NudgeContext) -> list[str]:
    """What in this text must never reach Slack: mentions, links, addresses, other people."""
    return [problem.message for problem in text_problems(text=text, context=context)]


def text_problems(*, text: str, context: NudgeContext) -> list[Problem]:
    """`content_problems`' reasons, each with its kind."""
    unsafe: list[str] = []
    if SLACK_CONTROL.search(text):
        unsafe.append("contains a Slack mention, broadcast or link token")
    if BROADCAST_WORD.search(text):
        unsafe.append("contains a broadcast mention")
    elif PLAIN_MENTION.search(EMAIL.sub("", text)):
        unsafe.append("contains an @-mention")
    if EMAIL.search(text):
        unsafe.append("contains an email address")
    if URL.search(text):
        unsafe.append("contains a link")
    if any(_is_control(char) for char in text):
        unsafe.append("contains control characters")
    problems = [Problem(ProblemKind.unsafe, message) for message in unsafe]
    if names_other_person(text=text, context=context):
        problems.append(Problem(ProblemKind.names_other_person, "names another person"))
    return problems


def _is_control(char: str) -> bool:
    return char not in "\n\t" and unicodedata.category(char) in {"Cc", "Cf"}


def names_other_person(*, text: str, context: NudgeContext) -> bool:
    """Whether the text contains the name of anyone in the workspace other than the leader."""
    own = context.leader_first_name.casefold()
    # A workspace has thousands of names and a draft a handful of words: a name's pattern
    # only runs once a substring test has found that the name can be in the text at all.
    folded: str | None = None
    for name in context.other_people:
        rule = name_rule(name)
        if rule is None or rule.casefolded == own:
            continue
        if rule.ignore_case and rule.needle is not None:
            if folded is None:
                folded = fold_ascii_case(text)
            if rule.needle not in folded:
                continue
        elif rule.needle is not None and rule.needle not in text:
            continue
        if name_pattern(name).search(text):
            return True
    return False


@dataclass(frozen=True, slots=True)
class NameRule:
    """How to look for one name: in which case, and what a text must hold to contain it."""

    casefolded: str
    ignore_case: bool
    # A substring of any text the name's pattern matches (of its `fold_ascii_case` when the
    # case is ignored); None when there is no such cheap test and the pattern must run.
    needle: str | None


@functools.lru_cache(maxsize=65_536)
def name_rule(name: str) -> NameRule | None:
    """The rule for finding `name` in a text; None for a name too short to look for."""
    if len(name) < 2:
        return None
    # A full name is matched in any case. A single first name is matched as written, since
    # many are also ordinary words ("Will", "Hope") and generated prose capitalises names.
    ignore_case = " " in name
    if not ignore_case:
        needle: str | None = name
    elif name.isascii():
        needle = name.lower()
    else:
        needle = None
    return NameRule(casefolded=name.casefold(), ignore_case=ignore_case, needle=needle)


@functools.lru_cache(maxsize=16_384)
def name_pattern(name: str) -> re.Pattern[str]:
    """The name as a whole word or words, with `name_rule`'s case rule; compiled once."""
    flags = re.IGNORECASE if " " in name else 0
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", flags)


# The only characters outside ASCII that Python's case-insensitive matching takes for an
# ASCII letter (tests/llm/test_names.py checks every code point).
_ASCII_LOOKALIKES = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def fold_ascii_case(text: str) -> str:
    """The text in lower case, so that wherever an ASCII name matches it ignoring case, the
    name in lower case is a substring of the result."""
    return text.translate(_ASCII_LOOKALIKES).lower()
