"""Check-in fixtures: the Slack stand-in fixtures are shared with tests/slack."""

from __future__ import annotations

from tests.slack.conftest import http, leader, sandbox, stranger, web

__all__ = ["http", "leader", "sandbox", "stranger", "web"]
