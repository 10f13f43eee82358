"""The sandbox's in-memory Slack workspace: people, conversations, messages and views."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.sandbox.errors import SlackError

JSON = dict[str, Any]
ConversationKind = Literal["im", "mpim", "channel"]

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
# Slack puts at most 8 people (plus the app) in a group DM.
_MPIM_MAX_USERS = 8


@dataclass
class Conversation:
    """A DM, group DM or channel the bot can post to."""

    id: str
    kind: ConversationKind
    members: tuple[str, ...]
    name: str
    messages: list[JSON] = field(default_factory=list)

    def describe(self) -> str:
        """A short human label, for the console."""
        return f"{self.name} ({self.id})"


def ts_micros(ts: str) -> int:
    """A Slack timestamp ("1700000000.000100", "1700000000" or "1700000000.5") in µs."""
    seconds, _, fraction = ts.partition(".")
    if not seconds.isdigit() or (fraction and not fraction.isdigit()):
        raise ValueError(f"not a Slack timestamp: {ts!r}")
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])


def _stable_id(prefix: str, *parts: str) -> str:
    digest = hashlib.sha1("\x1f".join(parts).encode()).hexdigest()
    return prefix + digest[:10].upper()


class SandboxWorkspace:
    """One Slack workspace with the bot installed."""

    def __init__(
        self,
        *,
        team_id: str = "T0SANDBOX",
        team_name: str = "Coachbot Sandbox",
        bot_user_id: str = "U0COACHBOT",
        bot_id: str = "B0COACHBOT",
        app_id: str = "A0COACHBOT",
        wall_clock: Callable[[], float] = time.time,
        auto_users: bool = False,
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.url = f"https://{team_id.lower()}.slack.com/"
        self._wall_clock = wall_clock
        # Console mode meets people enrolled after start-up: make them up rather than fail.
        self.auto_users = auto_users
        self._last_ts = 0
        self._view_count = 0
        self._hash_count = 0
        self.users: dict[str, JSON] = {}
        self.conversations: dict[str, Conversation] = {}
        self.ephemerals: list[JSON] = []
        self.views: dict[str, JSON] = {}
        self.home_views: dict[str, str] = {}
        self.add_user(user_id=bot_user_id, name="coachbot", real_name="Coachbot", is_bot=True)

    # People and conversations

    def add_user(
        self,
        *,
        user_id: str,
        name: str,
        real_name: str | None = None,
        display_name: str | None = None,
        title: str = "",
        email: str | None = None,
        tz: str = "UTC",
        is_bot: bool = False,
    ) -> JSON:
        """Register a person (or bot) that users.info will know; returns its user object."""
        zone = ZoneInfo(tz)
        now = datetime.now(UTC).astimezone(zone)
        offset = now.utcoffset()
        real = real_name or name
        profile: JSON = {
            "title": title,
            "real_name": real,
            "real_name_normalized": real,
            "display_name": display_name or "",
            "display_name_normalized": display_name or "",
            "team": self.team_id,
        }
        if email is not None:
            profile["email"] = email
        user = {
            "id": user_id, "team_id": self.team_id, "name": name, "deleted": False,
            "real_name": real, "tz": tz, "tz_label": now.tzname() or tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "is_bot": is_bot, "is_admin": False, "updated": int(self._wall_clock()),
            "profile": profile,
        }
        self.users[user_id] = user
        return user

    def user(self, user_id: str) -> JSON:
        """The user object, or `user_not_found` (unless unknown people are made up)."""
        if user_id not in self.users and self.auto_users and _USER_ID.fullmatch(user_id):
            self.add_user(user_id=user_id, name=user_id.lower())
        try:
            return self.users[user_id]
        except KeyError:
            raise SlackError("user_not_found") from None

    def display_name(self, user_id: str) -> str:
        """How a person is shown on the console."""
        user = self.users.get(user_id)
        return str(user["real_name"]) if user else user_id

    def add_channel(
        self,
        *,
        name: str,
        channel_id: str | None = None,
        members: Sequence[str] = (),
    ) -> Conversation:
        """Create a channel the bot is in (e.g. a coaches' review channel)."""
        channel_id = channel_id or _stable_id("C", self.team_id, name)
        conversation = Conversation(id=channel_id, kind="channel", name=f"#{name}",
                                    members=(self.bot_user_id, *members))
        self.conversations[channel_id] = conversation
        return conversation

    def open_conversation(self, users: Sequence[str]) -> Conversation:
        """The DM with one person, or the group DM with several; created on first use."""
        people = sorted({user for user in users if user != self.bot_user_id})
        if not people:
            raise SlackError("users_list_not_supplied")
        if len(people) > _MPIM_MAX_USERS:
            raise SlackError("too_many_users")
        for user in people:
            self.user(user)
        if len(people) == 1:
            channel_id = _stable_id("D", self.team_id, people[0])
            kind: ConversationKind = "im"
            name = f"DM with {self.display_name(people[0])}"
        else:
            channel_id = _stable_id("G", self.team_id, *people)
            kind = "mpim"
            name = "group DM with " + ", ".join(self.display_name(user) for user in people)
        if channel_id not in self.conversations:
            self.conversations[channel_id] = Conversation(
                id=channel_id, kind=kind, name=name, members=(self.bot_user_id, *people))
        return self.conversations[channel_id]

    def conversation(self, channel: str, *, users_allowed: bool = False) -> Conversation:
        """The conversation with this id; a user id means the DM with them where Slack
        allows it (chat.postMessage and friends)."""
        if channel in self.conversations:
            return self.conversations[channel]
        if not users_allowed or channel == self.bot_user_id:
            raise SlackError("channel_not_found")
        try:
            self.user(channel)
        except SlackError:
            raise SlackError("channel_not_found") from None
        return self.open_conversation([channel])

    # Messages

    def next_ts(self) -> str:
        """A fresh message timestamp: wall-clock based, strictly increasing."""
        micros = max(int(self._wall_clock() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def find_message(self, conversation: Conversation, ts: str) -> JSON | None:
        """The message with this ts in the conversation, thread replies included."""
        return next((m for m in conversation.messages if m["ts"] == ts), None)

    def add_message(self, conversation: Conversation, message: JSON) -> None:
        """Store a posted message and keep its thread's summary fields current."""
        conversation.messages.append(message)
        parent_ts = message.get("thread_ts")
        parent = self.find_message(conversation, parent_ts) if parent_ts else None
        if parent is None or parent is message:
            return
        parent["thread_ts"] = parent["ts"]
        parent["reply_count"] = parent.get("reply_count", 0) + 1
        parent["latest_reply"] = message["ts"]
        repliers = parent.setdefault("reply_users", [])
        if message["user"] not in repliers:
            repliers.append(message["user"])
        parent["reply_users_count"] = len(repliers)

    # Views

    def new_view_id(self) -> str:
        """An id for a view Slack has never seen."""
        self._view_count += 1
        return f"V{self._view_count:09d}"

    def view_hash(self) -> str:
        """A fresh view hash, changed by every update."""
        self._hash_count += 1
        return f"{int(self._wall_clock())}.{self._hash_count:08x}"
