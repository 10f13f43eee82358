"""The prompt loader: headers, declared variables, strict rendering, shipped templates."""

from __future__ import annotations

import pytest

from services.prompts import (
    PromptError,
    load_template,
    parse_template,
    render_prompt,
    render_template,
)

GREETING = """---
version: 3
variables: first_name, goal_title
description: a test template
---
Hi {{ first_name }}, about “{{ goal_title }}”.
"""

SHIPPED = [
    ("nudges/system", {"fence": "leader_data", "min_chars": 20, "max_chars": 600}),
    ("nudges/user", {"fence": "leader_data", "context_json": "{}"}),
    *[
        (
            f"nudges/offline_{kind}",
            {"first_name": "Maya", "goal_title": "Delegate", "goal_status": "at_risk",
             "milestone_title": "Hand over", "days": 2},
        )
        for kind in ("overdue", "upcoming", "at_risk", "open_goal", "plain")
    ],
]


def test_renders_declared_variables_and_reports_version() -> None:
    template = parse_template(name="test/greeting", source=GREETING)
    rendered = render_template(
        template=template, variables={"first_name": "Maya", "goal_title": "Delegate more"}
    )
    assert rendered.text == "Hi Maya, about “Delegate more”."
    assert rendered.versioned_name == "test/greeting@3"
    assert template.variables == {"first_name", "goal_title"}


def test_missing_variable_is_a_clear_error() -> None:
    template = parse_template(name="test/greeting", source=GREETING)
    with pytest.raises(PromptError, match=r"test/greeting@3: missing goal_title"):
        render_template(template=template, variables={"first_name": "Maya"})


def test_undeclared_variable_passed_is_an_error() -> None:
    template = parse_template(name="test/greeting", source=GREETING)
    with pytest.raises(PromptError, match="undeclared leader_id"):
        render_template(
            template=template,
            variables={"first_name": "Maya", "goal_title": "x", "leader_id": 7},
        )


def test_template_using_an_undeclared_variable_is_refused_at_load() -> None:
    source = GREETING.replace("”.", "” {{ secret }}.")
    with pytest.raises(PromptError, match="uses undeclared variables: secret"):
        parse_template(name="test/greeting", source=source)


def test_missing_attribute_fails_instead_of_rendering_empty() -> None:
    source = "---\nversion: 1\nvariables: goal\n---\n{{ goal.title }}"
    template = parse_template(name="test/attr", source=source)
    with pytest.raises(PromptError, match="test/attr@1"):
        render_template(template=template, variables={"goal": {}})


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Hi {{ name }}", "must start with a '---' header"),
        ("---\nversion: 1\nvariables: name\nHi", "no closing '---'"),
        ("---\nvariables: name\n---\nHi {{ name }}", "must declare a version"),
        ("---\nversion: 1\n---\nHi", "must declare its variables"),
        ("---\nversion: 1\nvariables: name\nauthor: me\n---\nHi", "unknown header line"),
        ("---\nversion: 1\nversion: 2\nvariables:\n---\nHi", "declares 'version' twice"),
        ("---\nversion: 1\nvariables: first-name\n---\nHi", "invalid variable names"),
        ("---\nversion: 1\nvariables: name\n---\n{% if name %}", "line"),
    ],
)
def test_malformed_headers_and_bodies_are_refused(source: str, message: str) -> None:
    with pytest.raises(PromptError, match=message):
        parse_template(name="test/bad", source=source)


def test_autoescape_is_off() -> None:
    source = "---\nversion: 1\nvariables: title\n---\n{{ title }}"
    template = parse_template(name="test/raw", source=source)
    assert render_template(template=template, variables={"title": "R&D <plan>"}).text == (
        "R&D <plan>"
    )


def test_blocks_render_separately_with_top_level_macros() -> None:
    source = (
        "---\nversion: 1\nvariables: days\n---\n"
        "{% macro due() %}in {{ days }} days{% endmacro %}"
        "{% block text %}Due {{ due() }}.{% endblock %}{% block action %}Act{% endblock %}"
    )
    template = parse_template(name="t/b", source=source)
    rendered = render_template(template=template, variables={"days": 2})
    assert rendered.blocks == {"text": "Due in 2 days.", "action": "Act"}


@pytest.mark.parametrize(("name", "variables"), SHIPPED)
def test_shipped_templates_load_and_render(name: str, variables: dict[str, object]) -> None:
    rendered = render_prompt(name=name, variables=variables)
    assert rendered.text.strip()
    assert load_template(name).version == rendered.version


@pytest.mark.parametrize("name", ["nudges/missing", "../config", "nudges/System"])
def test_unknown_or_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(PromptError):
        load_template(name)
