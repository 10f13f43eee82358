"""Rows as plain JSON for a member's export: every domain's export uses the same shape."""

from __future__ import annotations

from typing import Any

from pydantic_core import to_jsonable_python
from sqlmodel.ext.asyncio.session import AsyncSession

ERASED = "[erased]"


def row_as_json(row: Any) -> dict[str, Any]:
    """A table row's columns as stored (enum columns come back as plain strings)."""
    values = {column.key: getattr(row, column.key) for column in row.__table__.columns}
    return dict(to_jsonable_python(values))


async def rows_as_json(session: AsyncSession, statement: Any) -> list[dict[str, Any]]:
    """Every row a select returns, as plain JSON."""
    return [row_as_json(row) for row in (await session.exec(statement)).all()]
