"""What the domain needs from outside, as protocols the transports implement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SlackProfile:
    """The parts of a Slack user's profile Coachbot keeps on the member row."""

    slack_user_id: str
    name: str
    title: str | None
    timezone: str | None
    email: str | None


class Directory(Protocol):
    """Looks people up in the chat workspace (Slack's users.info)."""

    async def lookup(self, slack_user_id: str) -> SlackProfile | None: ...
