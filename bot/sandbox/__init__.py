"""A local Slack Web API stand-in: records and prints what the bot sends.

`coachbot serve` uses it when no Slack token is configured; the tests point slack_sdk's
AsyncWebClient at it over real HTTP. See `SlackSandbox`.
"""

from bot.sandbox.errors import SlackError
from bot.sandbox.faults import Fault, FaultPlan
from bot.sandbox.limits import RateLimits
from bot.sandbox.server import DEFAULT_TOKEN, METHODS, RecordedCall, SlackSandbox
from bot.sandbox.workspace import Conversation, SandboxWorkspace

__all__ = [
    "DEFAULT_TOKEN",
    "METHODS",
    "Conversation",
    "Fault",
    "FaultPlan",
    "RateLimits",
    "RecordedCall",
    "SandboxWorkspace",
    "SlackError",
    "SlackSandbox",
]
