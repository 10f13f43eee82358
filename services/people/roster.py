"""Roster import: validate every CSV row first, then create or update members and enrolments."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, EmailStr, ValidationError, field_validator
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db import utcnow
from services.errors import NotFound
from services.people.models import (
    Cohort,
    Enrollment,
    EnrollmentRole,
    Member,
    check_timezone,
)

ROSTER_COLUMNS = ("slack_user_id", "email", "name", "timezone", "team", "level", "region", "role")


class RosterRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    slack_user_id: str
    email: EmailStr | None = None
    name: str
    timezone: str = "UTC"
    team: str | None = None
    level: str | None = None
    region: str | None = None
    role: EnrollmentRole = EnrollmentRole.leader

    @field_validator("slack_user_id")
    @classmethod
    def _slack_id(cls, value: str) -> str:
        if not value or not value.isalnum() or value.upper() != value:
            raise ValueError("must be a Slack user id such as U012AB3CD")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return check_timezone(value or "UTC")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass(frozen=True)
class ParsedRoster:
    rows: list[tuple[int, RosterRow]]
    errors: list[RowError]


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    enrolled: int
    skipped: int


def parse_roster(text: str) -> ParsedRoster:
    """Parse and validate a roster CSV; errors carry the file's line numbers."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in ("slack_user_id", "name") if name not in header]
    if missing:
        return ParsedRoster([], [RowError(1, f"missing column(s): {', '.join(missing)}")])
    unknown = [name for name in header if name not in ROSTER_COLUMNS]
    if unknown:
        return ParsedRoster([], [RowError(1, f"unknown column(s): {', '.join(unknown)}")])
    rows: list[tuple[int, RosterRow]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        values = {
            key.strip(): (value or "").strip() or None
            for key, value in record.items()
            if key is not None
        }
        if None in record:
            errors.append(RowError(line, "more fields than the header names"))
            continue
        try:
            row = RosterRow.model_validate({k: v for k, v in values.items() if v is not None})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
                for error in exc.errors()
            )
            errors.append(RowError(line, problems))
            continue
        if row.slack_user_id in seen:
            errors.append(
                RowError(line, f"{row.slack_user_id} already on line {seen[row.slack_user_id]}")
            )
            continue
        seen[row.slack_user_id] = line
        rows.append((line, row))
    return ParsedRoster(rows, errors)


async def import_roster(
    *,
    session: AsyncSession,
    workspace_id: int,
    rows: Iterable[RosterRow],
    cohort_id: int | None,
    on_row: Callable[[], None] = lambda: None,
) -> ImportResult:
    """Create or update each member (and enrol them when a cohort is given)."""
    if cohort_id is not None:
        cohort = await session.get(Cohort, cohort_id)
        if cohort is None or cohort.workspace_id != workspace_id:
            raise NotFound(f"cohort {cohort_id} not found")
    existing = {
        member.slack_user_id: member
        for member in (
            await session.exec(select(Member).where(Member.workspace_id == workspace_id))
        ).all()
    }
    enrolled_now = set()
    if cohort_id is not None:
        enrolled_now = {
            (member_id, role)
            for member_id, role in (
                await session.exec(
                    select(Enrollment.member_id, Enrollment.role).where(
                        Enrollment.cohort_id == cohort_id
                    )
                )
            ).all()
        }
    created = updated = enrolled = 0
    for row in rows:
        profile = row.model_dump(exclude={"role"})
        member = existing.get(row.slack_user_id)
        if member is None:
            member = Member(workspace_id=workspace_id, **profile)
            created += 1
        else:
            member.sqlmodel_update(profile)
            member.updated_at = utcnow()
            updated += 1
        session.add(member)
        await session.flush()
        if cohort_id is not None and (member.id, row.role) not in enrolled_now:
            session.add(
                Enrollment(
                    workspace_id=workspace_id,
                    cohort_id=cohort_id,
                    member_id=member.id or 0,
                    role=row.role,
                )
            )
            enrolled += 1
        on_row()
    await session.flush()
    return ImportResult(created=created, updated=updated, enrolled=enrolled, skipped=0)
