"""Builds requests signed the way Slack signs them (v0, HMAC-SHA256), for tests and tools.

Slack sends `X-Slack-Request-Timestamp` and `X-Slack-Signature: v0=<hex>` where the hex
is HMAC-SHA256(signing secret, "v0:{timestamp}:{raw body}"). The timestamp can be
given, so a test can forge one older than the 300 s that verification tolerates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

FORM = "application/x-www-form-urlencoded"
JSON_BODY = "application/json"


@dataclass(frozen=True)
class SignedRequest:
    """A raw body and the headers that make it a genuine-looking Slack request."""

    body: bytes
    headers: dict[str, str]


def slack_signature(*, signing_secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Slack-Signature` value for this body at this timestamp."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def sign_request(
    *,
    signing_secret: str,
    body: bytes | str,
    timestamp: int | None = None,
    content_type: str | None = None,
) -> SignedRequest:
    """Sign `body` as Slack would; the timestamp defaults to now, the content type to
    JSON for a body that starts with "{" (Events API) and form encoding otherwise."""
    raw = body.encode() if isinstance(body, str) else body
    when = int(time.time()) if timestamp is None else timestamp
    if content_type is None:
        content_type = JSON_BODY if raw.lstrip().startswith(b"{") else FORM
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(when),
        "X-Slack-Signature": slack_signature(signing_secret=signing_secret, timestamp=when,
                                             body=raw),
    }
    return SignedRequest(body=raw, headers=headers)


def form_body(fields: Mapping[str, str]) -> str:
    """A form-encoded body, as Slack sends slash commands."""
    return urlencode(fields)


def interaction_body(payload: Mapping[str, Any]) -> str:
    """A form body carrying `payload=<json>`, as Slack sends block actions and view submissions."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def event_body(envelope: Mapping[str, Any]) -> str:
    """A JSON body, as Slack sends Events API callbacks."""
    return json.dumps(envelope, separators=(",", ":"))
