"""The reflection-prompt library and the picker."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.prompts import (
    PromptError,
    build_library,
    load_reflection_library,
    normalise_competency,
    pick_reflection,
)

REQUIRED = {
    "crisis_communication",
    "stakeholder_management",
    "deciding_under_uncertainty",
    "resilience",
    "delegation",
    "giving_feedback",
    "strategic_thinking",
    "inclusive_leadership",
}
LIBRARY = load_reflection_library()
ALL_IDS = {r.id for r in LIBRARY.reflections}


def test_library_covers_every_competency_with_enough_prompts() -> None:
    counts = Counter(r.competency for r in LIBRARY.reflections)
    assert len(LIBRARY.reflections) >= 48
    assert counts.keys() >= REQUIRED
    assert all(counts[key] >= 5 for key in REQUIRED)
    assert len(ALL_IDS) == len(LIBRARY.reflections)


def test_prompts_ask_something_at_a_readable_length() -> None:
    for reflection in LIBRARY.reflections:
        assert 40 <= len(reflection.text) <= 300, reflection.id
        assert "?" in reflection.text, reflection.id
        assert "  " not in reflection.text, reflection.id


def test_never_repeats_and_runs_out_only_when_everything_is_used() -> None:
    used: list[str] = []
    while (picked := pick_reflection(
        library=LIBRARY, used_ids=used, preferred_competencies=["Delegation"], seed=len(used)
    )) is not None:
        assert picked.id not in used
        used.append(picked.id)
    assert sorted(used) == sorted(ALL_IDS)


def test_prefers_goal_competencies_then_falls_back() -> None:
    used: list[str] = []
    for seed in range(8):
        picked = pick_reflection(
            library=LIBRARY, used_ids=used, preferred_competencies=["Giving Feedback"], seed=seed
        )
        assert picked is not None
        used.append(picked.id)
    competencies = [r.competency for r in LIBRARY.reflections if r.id in used]
    feedback_total = sum(r.competency == "giving_feedback" for r in LIBRARY.reflections)
    # Every feedback prompt comes first; only then does the picker move on to others.
    assert competencies.count("giving_feedback") == feedback_total
    order = {r.id: r.competency for r in LIBRARY.reflections}
    assert all(order[i] == "giving_feedback" for i in used[:feedback_total])
    assert all(order[i] != "giving_feedback" for i in used[feedback_total:])


@pytest.mark.parametrize(
    ("goal_competency", "expected"),
    [
        ("Delegation", "delegation"),
        ("feedback", "giving_feedback"),
        ("Decision-making", "deciding_under_uncertainty"),
        ("Crisis communication", "crisis_communication"),
        ("Psychological safety", "inclusive_leadership"),
        ("STRATEGY", "strategic_thinking"),
    ],
)
def test_goal_competencies_match_by_key_or_alias(goal_competency: str, expected: str) -> None:
    picked = pick_reflection(
        library=LIBRARY, used_ids=(), preferred_competencies=[goal_competency], seed=1
    )
    assert picked is not None
    assert picked.competency == expected


def test_several_preferred_competencies_are_all_drawn_from() -> None:
    preferred = ["Delegation", "Resilience"]
    picks = {
        pick_reflection(
            library=LIBRARY, used_ids=(), preferred_competencies=preferred, seed=seed
        ).competency  # type: ignore[union-attr]
        for seed in range(40)
    }
    assert picks == {"delegation", "resilience"}


def test_unknown_competency_falls_back_to_the_whole_library() -> None:
    picked = pick_reflection(
        library=LIBRARY, used_ids=(), preferred_competencies=["Underwater basket weaving"], seed=3
    )
    assert picked is not None


def test_exhausted_library_gives_none() -> None:
    assert pick_reflection(
        library=LIBRARY, used_ids=ALL_IDS, preferred_competencies=["delegation"], seed=0
    ) is None


@given(
    used=st.sets(st.sampled_from(sorted(ALL_IDS))),
    preferred=st.lists(st.sampled_from([*sorted(REQUIRED), "unknown"]), max_size=3),
    seed=st.integers() | st.text(max_size=10),
)
def test_pick_is_deterministic_unused_and_preferred_when_possible(
    used: set[str], preferred: list[str], seed: int | str
) -> None:
    first = pick_reflection(
        library=LIBRARY, used_ids=used, preferred_competencies=preferred, seed=seed
    )
    again = pick_reflection(
        library=LIBRARY, used_ids=used, preferred_competencies=preferred, seed=seed
    )
    assert first == again
    if used == ALL_IDS:
        assert first is None
        return
    assert first is not None and first.id not in used
    keys = LIBRARY.competency_keys(preferred)
    if any(r.competency in keys and r.id not in used for r in LIBRARY.reflections):
        assert first.competency in keys


def test_normalise_competency() -> None:
    assert normalise_competency("  Giving-Feedback ") == "giving_feedback"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("---\nversion: 1\ntitle: T\n---\n- x-01: Why?", "must declare a competency"),
        ("---\nversion: 1\ncompetency: c\ntitle: T\n---\n- Bad Id: Why?", "unexpected line"),
        ("---\nversion: 1\ncompetency: c\ntitle: T\n---\n- x-1: Why?", "bad prompt 'x-1'"),
        ("---\nversion: 1\ncompetency: c\ntitle: T\n---\n- x-01:", "bad prompt 'x-01'"),
        ("---\nversion: 1\ncompetency: c\ntitle: T\n---\nloose text", "unexpected line"),
    ],
)
def test_malformed_reflection_files_are_refused(source: str, message: str) -> None:
    with pytest.raises(PromptError, match=message):
        build_library(sources={"bad": source})


def test_duplicate_ids_across_files_are_refused() -> None:
    source = "---\nversion: 1\ncompetency: {c}\ntitle: T\n---\n- same-01: Why now?\n"
    with pytest.raises(PromptError, match="duplicate reflection ids: same-01"):
        build_library(sources={"a": source.format(c="a"), "b": source.format(c="b")})


def test_continuation_lines_join_the_item() -> None:
    source = "---\nversion: 1\ncompetency: c\ntitle: T\n---\n# Heading\n- c-01: First\n  second?\n"
    library = build_library(sources={"c": source})
    assert library.reflections[0].text == "First second?"
