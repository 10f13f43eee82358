"""The manifest asks for exactly what the code uses, and every subscribed event has a listener."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml
from fastapi import FastAPI

from bot.oauth import SCOPES
from tests.slack.conftest import SlackUser

MANIFEST = Path(__file__).resolve().parents[2] / "docs" / "slack-manifest.yml"


def manifest() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(MANIFEST.read_text())


def test_manifest_scopes_are_the_ones_the_code_requests() -> None:
    assert sorted(manifest()["oauth_config"]["scopes"]["bot"]) == sorted(SCOPES)


def test_manifest_routes_everything_to_slack_events() -> None:
    data = manifest()
    settings = data["settings"]
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    assert [c["command"] for c in data["features"]["slash_commands"]] == ["/coach"]


async def test_every_subscribed_event_has_a_listener(leader: SlackUser, web: FastAPI) -> None:
    """Every event is acked at once; Bolt, handed it after the ack, would answer 404 to
    an event nobody listens to (and Slack would retry it): the intake counts those."""
    intake = web.state.slack.intake
    for name in manifest()["settings"]["event_subscriptions"]["bot_events"]:
        event = {"type": name, "tab": "home", "channel": "D0HOME0001"}
        if name == "message.im":  # Slack names the subscription, the event says "message"
            event = {"type": "message", "channel_type": "im", "channel": "D0HOME0001",
                     "text": "hello", "ts": "1700000000.000100"}
        if name == "tokens_revoked":
            event["tokens"] = {"oauth": [], "bot": ["U0COACHBOT"]}
        response = await leader.event(event)
        assert response.status_code == 200, name
        await intake.settled()
        assert intake.refused == Counter(), name
    # The check above can fail: Bolt refuses an event with no listener.
    unheard = await leader.event({"type": "reaction_added", "reaction": "tada"})
    assert unheard.status_code == 200
    await intake.settled()
    assert intake.refused == Counter({404: 1})
