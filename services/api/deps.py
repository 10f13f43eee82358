"""Request dependencies: the unit of work and the calling actor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
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
