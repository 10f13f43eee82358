"""Keyset pagination by id: stable under concurrent inserts, cheap on deep pages."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.errors import Invalid

MAX_LIMIT = 100
DEFAULT_LIMIT = 50

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        if prefix != "id":
            raise ValueError(prefix)
        return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise Invalid("cursor is not one this API issued", field="cursor") from exc


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    *,
    id_column: Any,
    cursor: str | None,
    limit: int,
    to_public: Callable[[Any], T],
) -> Page[T]:
    """Run `statement` one page at a time, ordered by `id_column`."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if cursor:
        statement = statement.where(id_column > decode_cursor(cursor))
    page = statement.order_by(id_column).limit(limit + 1)
    rows: Sequence[Any] = (await session.exec(page)).all()  # type: ignore[call-overload]
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].id) if has_more and rows else None
    return Page[T](items=[to_public(row) for row in rows], next_cursor=next_cursor)
