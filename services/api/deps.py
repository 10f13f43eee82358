"""Request dependencies: the unit of work and the calling actor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.service import Actor, authenticate
from services.db import transaction
from services.errors import NotAuthenticated
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

bearer = HTTPBearer(auto_error=False, description="An API key from `coachbot keys create`")


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
