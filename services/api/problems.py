"""Every error leaves the API as application/problem+json (RFC 9457)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from services.errors import DomainError

log = logging.getLogger("coachbot.api")

PROBLEM_JSON = "application/problem+json"


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    """A problem+json response with the given status and detail."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return ProblemResponse(body, status_code=status, headers=headers)


# Where a value sits in the request: FastAPI's first location part, left out of `field`.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def field_name(loc: Sequence[object]) -> str:
    """`questions[1].required` for FastAPI's ("body", "questions", 1, "required")."""
    parts = list(loc[1:] if loc and loc[0] in _SOURCES else loc)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else str(part)
    return name


def _message(error: Mapping[str, Any]) -> str:
    # Pydantic prefixes a validator's own message with the kind of error it raised.
    message = str(error.get("msg", ""))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": field_name(error.get("loc", ())),
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": _message(error),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors()
    ]


def _invalid_request(exc: RequestValidationError) -> ProblemResponse:
    """422 naming the first field at fault, as every other 422 does, and listing them all."""
    errors = _validation_errors(exc)
    if not errors:
        return problem(422, "the request does not match the schema")
    first = errors[0]
    where = first["field"] or "the request body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return problem(
        422, f"{where}: {first['msg']}{more}", field=first["field"] or None, errors=errors
    )


def _allowed_methods(request: Request) -> set[str]:
    # Starlette answers 405 from the first route whose path matches, so its Allow header
    # names only that route's methods; a path served by several routes needs them all.
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return methods


def install_problem_handlers(app: FastAPI) -> None:
    """Translate domain, HTTP, validation and unexpected errors into problem+json."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> ProblemResponse:
        return problem(exc.status, exc.detail, title=exc.title, field=exc.field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> ProblemResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
        return problem(exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> ProblemResponse:
        return _invalid_request(exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
        error_id = uuid.uuid4().hex[:12]
        log.exception("unexpected error %s on %s %s", error_id, request.method, request.url.path)
        return problem(500, f"unexpected error; reference {error_id}", error_id=error_id)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": HTTPStatus(status).phrase,
        "content": {
            PROBLEM_JSON: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "field": {
                            "type": "string",
                            "description": "the input at fault, e.g. questions[1].kind",
                        },
                    },
                    "required": ["title", "status", "detail"],
                }
            }
        },
    }
    for status in (400, 401, 403, 404, 409, 413, 422, 500)
}
