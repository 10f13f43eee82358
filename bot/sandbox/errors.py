"""The error a sandboxed Web API method answers with."""

from __future__ import annotations

from typing import Any


class SlackError(Exception):
    """Answer `{"ok": false, "error": error}`, optionally with Slack's warning messages."""

    def __init__(self, error: str, *, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []

    def body(self) -> dict[str, Any]:
        """The JSON body Slack would send for this error."""
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body
