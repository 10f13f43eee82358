"""Request dependencies: the unit of work and the calling actor."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.service import Actor, authenticate
from services.db import MAX_ROW_ID, transaction
from services.errors import Invalid, NotAuthenticated
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

bearer = HTTPBearer(auto_error=False, description="An API key from `coachbot keys create`")


def _declared_query_names(route: object) -> set[str]:
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return set()
    return {param.alias for param in dependant.query_params} | {
        param.alias for sub in dependant.dependencies for param in sub.query_params
    }


async def forbid_unknown_query(request: Request) -> None:
    """An unknown query parameter (a typo such as `stauts=`) is an error, not silently ignored."""
    unknown = set(request.query_params) - _declared_query_names(request.scope.get("route"))
    if unknown:
        raise Invalid(f"unknown query parameter(s): {', '.join(sorted(unknown))}")


async def json_types_match(request: Request) -> None:
    """A JSON body's values have the JSON types its schema gives them. Pydantic's lax mode
    would read true as 1, "5" as 5, and 0 or "yes" as a boolean; code that builds the same
    models from Slack's strings relies on that, so the API checks it here."""
    body_field = getattr(request.scope.get("route"), "body_field", None)
    if body_field is None or not request.headers.get("content-type", "").startswith(
        "application/json"
    ):
        return
    try:
        data = await request.json()
    except ValueError:
        return  # FastAPI answers malformed JSON itself
    wrong = _wrong_json_type(body_field.field_info.annotation, data, "")
    if wrong:
        raise Invalid(wrong[1], field=wrong[0])


def _options(annotation: Any) -> set[Any]:
    union = get_origin(annotation) in (Union, UnionType)
    options = get_args(annotation) if union else (annotation,)
    bare = {get_args(o)[0] if get_origin(o) is Annotated else o for o in options}
    return bare - {type(None)}


def _wrong_json_type(annotation: Any, value: object, path: str) -> tuple[str, str] | None:
    """(field, why) for the first value Pydantic would convert from another JSON type."""
    options = _options(annotation)
    if value is None or not options:
        return None
    if options == {bool}:
        return None if isinstance(value, bool) else (path, f"{path} is true or false")
    if options <= {int, float} and (isinstance(value, bool) or not isinstance(value, int | float)):
        return path, f"{path} is a number, not {json.dumps(value)[:20]}"
    models = [o for o in options if isinstance(o, type) and issubclass(o, BaseModel)]
    if models and isinstance(value, dict):
        for name, field in models[0].model_fields.items():
            key = field.alias or name
            if key in value:
                inner = f"{path}.{key}" if path else key
                if wrong := _wrong_json_type(field.annotation, value[key], inner):
                    return wrong
    lists = [o for o in options if get_origin(o) is list]
    if lists and isinstance(value, list) and get_args(lists[0]):
        for index, item in enumerate(value):
            if wrong := _wrong_json_type(get_args(lists[0])[0], item, f"{path}[{index}]"):
                return wrong
    return None


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with transaction(sessions) as session:
        yield session


# scope="function": commit before the response goes out, so a failed commit is a 5xx, not a lie.
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]


async def _actor(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("send an API key as 'Authorization: Bearer <key>'")
    return await authenticate(session=session, raw_key=credentials.credentials)


ActorDep = Annotated[Actor, Depends(_actor)]
Cursor = Annotated[str | None, Query(description="`next_cursor` from the previous page")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
DEFAULT_PAGE = DEFAULT_LIMIT
PathId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]
