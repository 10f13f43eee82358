"""The manifest asks for exactly what the code uses, and every subscribed event has a listener."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.oauth import SCOPES
from bot.sandbox import SlackSandbox
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


async def test_every_subscribed_event_has_a_listener(
    leader: SlackUser, sandbox: SlackSandbox
) -> None:
    """Bolt answers 404 to an event nobody listens to, and Slack then retries it."""
    for name in manifest()["settings"]["event_subscriptions"]["bot_events"]:
        event = {"type": name, "tab": "home", "channel": "D0HOME0001"}
        if name == "message.im":  # Slack names the subscription, the event says "message"
            event = {"type": "message", "channel_type": "im", "channel": "D0HOME0001",
                     "text": "hello", "ts": "1700000000.000100"}
        if name == "tokens_revoked":
            event["tokens"] = {"oauth": [], "bot": ["U0COACHBOT"]}
        response = await leader.event(event)
        assert response.status_code == 200, name
    # The check above can fail: an event with no listener is answered 404.
    unheard = await leader.event({"type": "reaction_added", "reaction": "tada"})
    assert unheard.status_code == 404
