"""UTC offsets and shared working-hours windows for circle members on a round's date."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.errors import Invalid

MINUTES_PER_DAY = 24 * 60


def utc_offset_minutes(*, timezone: str, on: date) -> int:
    """Return the UTC offset of an IANA timezone on a date, in minutes east of UTC."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"unknown IANA timezone {timezone!r}", field="timezone") from exc
    # Noon local time: daylight-saving switches happen at night, so noon gives the offset
    # that holds during that day's working hours.
    offset = datetime.combine(on, time(12), tzinfo=zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds()) // 60


def offset_window(offsets: Iterable[int]) -> tuple[int, int]:
    """Return the (first, last) offsets of the shortest clock arc that covers them all."""
    # Offsets sit on a 24-hour circle: UTC+13 and UTC-10 are one hour apart on the wall
    # clock (on different dates), so the window may wrap past the date line.
    ordered = sorted(set(offsets), key=lambda offset: (offset % MINUTES_PER_DAY, offset))
    if not ordered:
        raise ValueError("offset_window needs at least one offset")
    widest_gap, gap_end = -1, 0
    for index, offset in enumerate(ordered):
        following = ordered[(index + 1) % len(ordered)]
        gap = (following - offset) % MINUTES_PER_DAY
        if len(ordered) == 1 or gap > widest_gap:
            widest_gap, gap_end = gap, (index + 1) % len(ordered)
    return ordered[gap_end], ordered[gap_end - 1]


def offset_spread(offsets: Iterable[int]) -> int:
    """Return how many minutes apart the earliest and latest clocks of a group are."""
    values = list(offsets)
    if not values:
        return 0
    low, high = min(values), max(values)
    if high - low < MINUTES_PER_DAY // 2:
        # Any arc shorter than half a day that covers the values linearly is the shortest.
        return high - low
    first, last = offset_window(values)
    return (last - first) % MINUTES_PER_DAY


def format_offset(minutes: int) -> str:
    """Render an offset as UTC, UTC+2, UTC-3:30 or UTC+5:45."""
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
