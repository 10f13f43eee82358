"""Typed domain errors. Each transport translates them once (problem+json, ephemeral message)."""

from __future__ import annotations


class DomainError(Exception):
    """Base for errors a user can act on; `detail` is safe to show them."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(DomainError):
    status = 404
    title = "Not found"


class NotPermitted(DomainError):
    status = 403
    title = "Not permitted"


class NotAuthenticated(DomainError):
    status = 401
    title = "Not authenticated"


class Invalid(DomainError):
    status = 422
    title = "Invalid input"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
