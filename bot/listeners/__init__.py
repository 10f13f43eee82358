"""Listener modules; each exposes register(app)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import (
    actions,
    broadcasts,
    checkin_schedules,
    checkins,
    circle_series,
    circles,
    commands,
    events,
    nudges,
    views,
)


def register(app: AsyncApp) -> None:
    """Register every listener on the app."""
    for module in (events, commands, actions, views, checkins, circles, circle_series, nudges,
                   broadcasts, checkin_schedules):
        module.register(app)
