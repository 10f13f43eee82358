"""Business KPIs: imported from CSV per cohort or per member, compared before and after the
program start.

The file has a header row and these columns (any order; `unit` may be left out):

    cohort_id,member,metric,date,value,unit
    7,,engagement_score,2025-01-31,71.5,points
    ,U024BE7LH,revenue,2025-01-31,125000,USD
    ,lee@example.com,revenue,2025-02-28,131000,USD

A row names a cohort (by id) or a member (by Slack user id or email), never both. Dates
are YYYY-MM-DD and not in the future; a value is a plain number (no units, currency signs
or thousands separators: those go in `unit`); a metric keeps one unit everywhere. Every
row is checked and every problem reported with its line number; nothing is written if
any row is bad, unless the caller asks to skip bad rows. A value for the same cohort or
member, metric and day replaces the one stored.
"""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from sqlalchemy import and_, delete, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import Actor
from services.errors import Invalid, NotPermitted
from services.metrics.models import (
    KpiComparison,
    KpiImportReport,
    KpiRowError,
    KpiSide,
    KpiValue,
)
from services.people.models import Cohort, Enrollment, Member

COLUMNS: Final = ("cohort_id", "member", "metric", "date", "value", "unit")
REQUIRED: Final = ("metric", "date", "value")
MAX_ROWS: Final = 100_000
EARLIEST: Final = date(2000, 1, 1)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_METRIC = re.compile(r"^[\w .()/-]{1,100}$")
_UNIT = re.compile(r"^[\w %$€£¥/.-]{1,30}$")
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_DELETE_CHUNK = 500

Target = tuple[int | None, int | None]  # (cohort_id, member_id)


@dataclass(frozen=True)
class KpiRow:
    line: int
    cohort_id: int | None
    member_ref: str | None
    metric: str
    day: date
    value: float
    unit: str | None


class _RowProblem(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _parse_value(raw: str) -> float:
    text = raw.strip()
    if not _NUMBER.match(text):
        raise _RowProblem("value", f"value {raw!r} is not a plain number (units, currency "
                                   "signs and thousands separators go in the unit column)")
    value = float(text)
    if not math.isfinite(value) or abs(value) >= 1e15:
        raise _RowProblem("value", f"value {raw!r} is out of range")
    return value


def _parse_date(raw: str, today: date) -> date:
    text = raw.strip()
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise _RowProblem("date", f"date {raw!r} is not a date written YYYY-MM-DD") from None
    if day > today + timedelta(days=1):
        raise _RowProblem("date", f"date {text} is in the future")
    if day < EARLIEST:
        raise _RowProblem("date", f"date {text} is before {EARLIEST.isoformat()}")
    return day


def _parse_row(line: int, record: dict[str, str], today: date) -> KpiRow:
    cohort_raw = (record.get("cohort_id") or "").strip()
    member_raw = (record.get("member") or "").strip()
    if bool(cohort_raw) == bool(member_raw):
        raise _RowProblem("cohort_id", "give a cohort_id or a member, exactly one of them")
    cohort_id = None
    if cohort_raw:
        if not cohort_raw.isdigit() or not 0 < int(cohort_raw) < 2**31:
            raise _RowProblem("cohort_id", f"cohort_id {cohort_raw!r} is not a cohort id")
        cohort_id = int(cohort_raw)
    if member_raw and not (_SLACK_ID.match(member_raw) or "@" in member_raw):
        raise _RowProblem("member", f"member {member_raw!r} is neither a Slack user id "
                                    "nor an email")
    metric = (record.get("metric") or "").strip()
    if not _METRIC.match(metric):
        raise _RowProblem("metric", f"metric {metric!r} must be 1-100 letters, digits, "
                                    "spaces or _ . - / ( )")
    unit = (record.get("unit") or "").strip() or None
    if unit is not None and not _UNIT.match(unit):
        raise _RowProblem("unit", f"unit {unit!r} must be 1-30 letters, symbols or spaces")
    return KpiRow(line=line, cohort_id=cohort_id, member_ref=member_raw or None, metric=metric,
                  day=_parse_date(record.get("date") or "", today),
                  value=_parse_value(record.get("value") or ""), unit=unit)


def parse_kpis(text: str, *, today: date) -> tuple[list[KpiRow], list[KpiRowError]]:
    """Rows that parse, and a line-numbered error for each that does not."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    if "cohort_id" not in header and "member" not in header:
        missing.append("cohort_id or member")
    if unknown or missing:
        problems = ([f"unknown column(s): {', '.join(unknown)}"] if unknown else []) + (
            [f"missing column(s): {', '.join(missing)}"] if missing else [])
        raise Invalid(f"line 1: {'; '.join(problems)}; the columns are {', '.join(COLUMNS)}",
                      field="file")
    reader.fieldnames = header
    rows: list[KpiRow] = []
    errors: list[KpiRowError] = []
    for record in reader:
        line = reader.line_num
        if len(rows) + len(errors) >= MAX_ROWS:
            raise Invalid(f"a file holds at most {MAX_ROWS:,} rows", field="file")
        if None in record:
            errors.append(KpiRowError(line=line, field=None, message="too many fields"))
            continue
        if not any((value or "").strip() for value in record.values()):
            continue
        try:
            rows.append(_parse_row(line, record, today))
        except _RowProblem as problem:
            errors.append(KpiRowError(line=line, field=problem.field, message=problem.message))
    return rows, errors


async def _members(session: AsyncSession, actor: Actor, refs: set[str]) -> dict[str, int]:
    """Member ids by reference (Slack id or lower-cased email), within the actor's reach."""
    if not refs:
        return {}
    emails = {ref.lower() for ref in refs if "@" in ref}
    ids = {ref for ref in refs if "@" not in ref}
    statement = select(Member).where(
        col(Member.workspace_id) == actor.workspace_id, col(Member.erased_at).is_(None),
        or_(col(Member.slack_user_id).in_(ids), col(Member.email).in_(emails)))
    if actor.role is Role.owner:
        statement = statement.where(col(Member.id).in_(
            select(Enrollment.member_id).where(col(Enrollment.cohort_id).in_(actor.cohort_ids))))
    found: dict[str, int] = {}
    for member in (await session.exec(statement)).all():
        found[member.slack_user_id] = member.id or 0
        if member.email:
            found[member.email.lower()] = member.id or 0
    return found


async def _cohorts(session: AsyncSession, actor: Actor, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    statement = select(Cohort.id).where(col(Cohort.workspace_id) == actor.workspace_id,
                                        col(Cohort.id).in_(ids))
    found = {cohort_id for cohort_id in (await session.exec(statement)).all() if cohort_id}
    if actor.role is Role.owner:
        found &= set(actor.cohort_ids)
    return found


async def _units(session: AsyncSession, workspace_id: int, metrics: set[str]) -> dict[str, str]:
    rows = await session.exec(select(KpiValue.metric, KpiValue.unit).where(
        col(KpiValue.workspace_id) == workspace_id, col(KpiValue.metric).in_(metrics),
        col(KpiValue.unit).is_not(None)).distinct())
    return {metric: unit for metric, unit in rows.all() if unit}


async def _resolve(session: AsyncSession, actor: Actor, rows: list[KpiRow],
                   errors: list[KpiRowError]) -> list[tuple[KpiRow, Target]]:
    """Check what the rows name exists and is the actor's; check units and repeats."""
    cohorts = await _cohorts(session, actor, {r.cohort_id for r in rows if r.cohort_id})
    members = await _members(session, actor, {r.member_ref for r in rows if r.member_ref})
    units = await _units(session, actor.workspace_id, {r.metric for r in rows})
    unit_lines: dict[str, int] = {}
    seen: dict[tuple[Target, str, date], int] = {}
    good = []
    for row in rows:
        def fail(field: str, message: str, line: int = row.line) -> None:
            errors.append(KpiRowError(line=line, field=field, message=message))

        member_id = None
        if row.member_ref is not None:
            member_id = members.get(row.member_ref.lower() if "@" in row.member_ref
                                    else row.member_ref)
            if member_id is None:
                fail("member", f"member {row.member_ref!r} not found")
                continue
        if row.cohort_id is not None and row.cohort_id not in cohorts:
            fail("cohort_id", f"cohort {row.cohort_id} not found")
            continue
        known = units.get(row.metric)
        if known is not None and (row.unit or "") != known:
            where = f"line {unit_lines[row.metric]}" if row.metric in unit_lines else "stored"
            fail("unit", f"unit {row.unit or 'none'!r} differs from {known or 'none'!r} "
                         f"for {row.metric} ({where})")
            continue
        units.setdefault(row.metric, row.unit or "")
        unit_lines.setdefault(row.metric, row.line)
        target: Target = (row.cohort_id, member_id)
        first = seen.setdefault((target, row.metric, row.day), row.line)
        if first != row.line:
            fail("date", f"repeats line {first} (same {row.metric} on {row.day})")
            continue
        good.append((row, target))
    return good


async def import_kpis(
    *, session: AsyncSession, actor: Actor, text: str, skip_invalid: bool, today: date
) -> KpiImportReport:
    """Validate every row; write them all (replacing same-day values) only if all are
    good, or the good ones when `skip_invalid`."""
    if actor.role not in (Role.admin, Role.owner):
        raise NotPermitted("KPIs are imported by program owners and admins")
    rows, errors = parse_kpis(text, today=today)
    good = await _resolve(session, actor, rows, errors)
    errors.sort(key=lambda error: error.line)
    total = len(rows) + len({e.line for e in errors} - {r.line for r in rows})
    if errors and not skip_invalid:
        return KpiImportReport(rows=total, written=0, skipped=0, errors=errors)
    await _replace(session, actor.workspace_id, good)
    return KpiImportReport(rows=total, written=len(good), skipped=total - len(good),
                           errors=errors)


async def _replace(session: AsyncSession, workspace_id: int,
                   good: list[tuple[KpiRow, Target]]) -> None:
    metrics = {row.metric for row, _ in good}
    if not metrics:
        return
    wanted = {(target, row.metric, row.day) for row, target in good}
    stored = await session.exec(select(KpiValue).where(
        col(KpiValue.workspace_id) == workspace_id, col(KpiValue.metric).in_(metrics)))
    stale = [kpi.id for kpi in stored.all()
             if ((kpi.cohort_id, kpi.member_id), kpi.metric, kpi.day) in wanted]
    for start in range(0, len(stale), _DELETE_CHUNK):
        await session.exec(delete(KpiValue).where(
            col(KpiValue.id).in_(stale[start:start + _DELETE_CHUNK])))
    session.add_all(KpiValue(workspace_id=workspace_id, cohort_id=target[0], member_id=target[1],
                             metric=row.metric, unit=row.unit, day=row.day, value=row.value)
                    for row, target in good)
    await session.flush()


# --- before and after the program start ---------------------------------------------------


def _side(values: list[tuple[int | None, float]], *, k: int | None) -> KpiSide:
    """Cohort-level values are averaged; member-level ones are averaged per member first,
    and shown only when at least k members have values."""
    if not values:
        return KpiSide(points=0)
    if k is None:
        return KpiSide(points=len(values), mean=round(statistics.fmean(v for _, v in values), 4))
    per_member: dict[int | None, list[float]] = defaultdict(list)
    for member_id, value in values:
        per_member[member_id].append(value)
    if len(per_member) < k:
        return KpiSide(suppressed=True, points=len(values))
    means = [statistics.fmean(found) for found in per_member.values()]
    return KpiSide(points=len(values), members=len(per_member),
                   mean=round(statistics.fmean(means), 4))


async def comparisons(
    *, session: AsyncSession, cohort: Cohort, leader_ids: set[int], start: date, k: int
) -> list[KpiComparison]:
    """Each KPI's mean before and after `start`: the cohort's own values, and its leaders'
    values averaged (k-anonymous)."""
    rows = (await session.exec(select(KpiValue).where(
        col(KpiValue.workspace_id) == cohort.workspace_id,
        or_(and_(col(KpiValue.cohort_id) == cohort.id, col(KpiValue.member_id).is_(None)),
            col(KpiValue.member_id).in_(leader_ids))))).all()
    grouped: dict[tuple[str, str], list[KpiValue]] = defaultdict(list)
    for kpi in rows:
        grouped[(kpi.metric, "members" if kpi.member_id else "cohort")].append(kpi)
    result = []
    for (metric, level), found in sorted(grouped.items()):
        minimum = k if level == "members" else None
        before = _side([(v.member_id, v.value) for v in found if v.day < start], k=minimum)
        after = _side([(v.member_id, v.value) for v in found if v.day >= start], k=minimum)
        change = (round(after.mean - before.mean, 4)
                  if after.mean is not None and before.mean is not None else None)
        result.append(KpiComparison(metric=metric, unit=found[0].unit, level=level,
                                    before=before, after=after, change=change))
    return result
