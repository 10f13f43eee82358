"""Every metric as CSV, one figure per row, so a spreadsheet can pivot it any way.

Columns: `scope` (week, total, plans, group, kpi), `week_start` (for weekly rows), `group`
(the breakdown's value, for group rows), `metric` (a dotted name such as
`checkins.response_rate`), `value` (empty when suppressed or not applicable) and
`suppressed`. Suppressed figures stay suppressed here: the CSV says no more than the API.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from services.metrics.models import CohortMetrics, MemberMetrics

HEADER = ("scope", "week_start", "group", "metric", "value", "suppressed")
Row = tuple[str, str, str, str, str, str]


def _flat(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any, bool]]:
    """(dotted name, value, suppressed) for every leaf, `suppressed` taken from the nearest
    enclosing figures."""
    suppressed = bool(data.get("suppressed", False))
    for name, value in data.items():
        if name == "suppressed":
            continue
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            for inner, leaf, hidden in _flat(value, f"{key}."):
                yield inner, leaf, hidden or suppressed
        else:
            yield key, value, suppressed


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(value: str) -> str:
    # A team name such as "=HYPERLINK(...)" must not run as a formula in a spreadsheet.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _rows(scope: str, data: dict[str, Any], *, week: str = "", group: str = "",
          skip: tuple[str, ...] = ()) -> Iterator[Row]:
    for name, value, hidden in _flat(data):
        if name not in skip:
            yield (scope, week, _text(group), name, _cell(value), _cell(hidden))


def cohort_rows(metrics: CohortMetrics) -> Iterator[Row]:
    """The cohort's figures as CSV rows (after the header)."""
    for week in metrics.weeks:
        yield from _rows("week", week.model_dump(), week=week.week_start.isoformat(),
                         skip=("week_start",))
    yield from _rows("total", metrics.totals.model_dump())
    yield from _rows("total", {"enrolled": metrics.enrolled,
                               "weeks_hidden": metrics.weeks_hidden})
    yield from _rows("plans", metrics.plans.model_dump())
    for group in metrics.groups:
        yield from _rows("group", group.model_dump(), group=group.value or "(none)",
                         skip=("value",))
    for kpi in metrics.kpis:
        data = kpi.model_dump(include={"unit", "before", "after", "change"})
        yield from _rows("kpi", data, group=f"{kpi.metric} ({kpi.level})")


def member_rows(metrics: MemberMetrics) -> Iterator[Row]:
    """One person's figures as CSV rows (after the header)."""
    for week in metrics.weeks:
        yield from _rows("week", week.model_dump(), week=week.week_start.isoformat(),
                         skip=("week_start",))
    yield from _rows("plans", metrics.model_dump(exclude={"weeks", "member_id"}))


def to_csv(rows: Iterator[Row]) -> str:
    """The CSV text, header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()
