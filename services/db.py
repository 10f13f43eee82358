"""Async engine and sessions, the UTC datetime column type, and the metadata naming convention."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic import Field as PydanticField
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from sqlmodel._compat import SQLModelConfig
from sqlmodel.ext.asyncio.session import AsyncSession

# Stable constraint names, so migrations can drop what they created on every backend.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 5_000
# Primary keys are 32-bit integers on PostgreSQL; larger ids can never name a row.
MAX_ROW_ID = 2**31 - 1


def _iso_date_only(value: object) -> object:
    # Pydantic would read 0 as 1970-01-01; an API date must be written as a date.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("dates are written YYYY-MM-DD")
    return value


RowId = Annotated[int, PydanticField(ge=1, le=MAX_ROW_ID)]
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]

_LOCAL_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"


def _local_time_only(value: object) -> object:
    # Pydantic would read 3600 as 01:00 and keep "09:00Z"'s offset; a series or schedule
    # time is the wall clock in each member's own timezone.
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str) and re.fullmatch(_LOCAL_TIME, value):
        return value
    raise ValueError(
        "local_time is a wall-clock time written HH:MM or HH:MM:SS, without an offset: "
        "each member's own timezone applies"
    )


# Published as a pattern: JSON Schema's "time" format demands the offset this refuses.
LocalTime = Annotated[
    time,
    BeforeValidator(_local_time_only),
    WithJsonSchema({"type": "string", "pattern": f"^{_LOCAL_TIME}$", "examples": ["10:00"]}),
]


class InputModel(SQLModel):
    """A request body: unknown fields are refused (and see services.api.deps.json_types_match)."""

    model_config = SQLModelConfig(extra="forbid")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is stored in UTC and always comes back timezone-aware.

    SQLite keeps no zone, so naive values coming back are UTC by construction;
    naive values going in are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Coachbot stores only timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """Build the async engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
