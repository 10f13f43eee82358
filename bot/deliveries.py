"""Handling each Slack delivery once, even when Slack sends it again.

Slack retries an event it thinks went unanswered, and the same interaction can arrive
twice. A delivery's key is recorded in `slack_event` by the first unit of work of the
request, in the same transaction as the work: a repeat finds the key and skips its work,
and work that fails leaves no key behind, so Slack's retry does it. Keys of work this
process finished are also remembered in memory, so obvious repeats are dropped before
anything runs.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any


def delivery_id(body: dict[str, Any]) -> str | None:
    """A stable id for one Slack delivery: the event id, or the interaction's trigger id."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("trigger_id"):
        return f"trigger:{body['trigger_id']}"
    if body.get("type") == "block_actions" and body.get("actions"):
        action = body["actions"][0]
        return f"action:{body.get('user', {}).get('id')}:{action.get('action_ts')}"
    return None


class RepeatedDelivery(Exception):
    """This delivery's work was already done; the listener stops without doing it again.

    Deliberately not a DomainError or ValueError, so listeners that turn those into
    inline errors let it through to the app's error handler, which drops it quietly.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"repeated Slack delivery {key}")


@dataclass
class Delivery:
    """One request's delivery key, and whether a unit of work has recorded it yet.

    A listener's units of work run one after another, so the first one records the key.
    """

    key: str
    team_id: str | None
    recorded: bool = False


class HandledDeliveries:
    """The keys of the deliveries whose work this process committed, newest last, bounded."""

    def __init__(self, *, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._keys: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: str) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        while len(self._keys) > self._capacity:
            self._keys.popitem(last=False)
