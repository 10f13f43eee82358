"""When a series' rounds happen: every N weeks on a weekday at a local time in the cohort's
timezone. Round numbers count occurrences from the series' first one, so a round skipped
while the service was down keeps its number and the next one keeps its own."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.circles.models import CircleSeries

# A round found later than this after its time is skipped, not formed late: a circle
# introduced days late would have little time left before its follow-up.
LATE_LIMIT = timedelta(days=2)


def first_round_date(*, start_date: date, weekday: int) -> date:
    """The first `weekday` on or after the series' start date."""
    return start_date + timedelta(days=(weekday - start_date.weekday()) % 7)


def continued_start(*, weekday: int, cadence_weeks: int, earliest: date, formed: int) -> date:
    """The start date that puts round `formed + 1` on the first `weekday` on or after
    `earliest`, so a series whose timing changes goes on numbering after its last round."""
    target = first_round_date(start_date=earliest, weekday=weekday)
    return target - timedelta(weeks=cadence_weeks * formed)


def round_at(*, series: CircleSeries, zone: ZoneInfo, number: int) -> datetime:
    """When round `number` (1-based) starts, as an aware UTC datetime."""
    first = first_round_date(start_date=series.start_date, weekday=series.weekday)
    day = first + timedelta(weeks=series.cadence_weeks * (number - 1))
    return _utc(day, series.local_time, zone)


def round_date(*, series: CircleSeries, number: int) -> date:
    """The local date of round `number`."""
    first = first_round_date(start_date=series.start_date, weekday=series.weekday)
    return first + timedelta(weeks=series.cadence_weeks * (number - 1))


def rounds_left(*, series: CircleSeries, number: int, end_date: date | None) -> int | None:
    """How many rounds from `number` on (it included) fall by the cohort's end; None if open."""
    if end_date is None:
        return None
    last_day = round_date(series=series, number=number)
    if last_day > end_date:
        return None
    return (end_date - last_day).days // (7 * series.cadence_weeks) + 1


def latest_round_number(*, series: CircleSeries, zone: ZoneInfo, now: datetime) -> int | None:
    """The number of the latest round whose time has come, or None before the first."""
    first = first_round_date(start_date=series.start_date, weekday=series.weekday)
    local_today = now.astimezone(zone).date()
    if local_today < first:
        return None
    number = (local_today - first).days // (7 * series.cadence_weeks) + 1
    if round_at(series=series, zone=zone, number=number) > now:
        number -= 1
    return number if number >= 1 else None


def due_round_number(
    *, series: CircleSeries, zone: ZoneInfo, now: datetime, end_date: date | None
) -> int | None:
    """The round to form now, if one is due and not too late (and the cohort has not ended)."""
    number = latest_round_number(series=series, zone=zone, now=now)
    if number is None:
        return None
    if end_date is not None and round_date(series=series, number=number) > end_date:
        return None
    if now - round_at(series=series, zone=zone, number=number) > LATE_LIMIT:
        return None
    return number


def next_round_at(
    *, series: CircleSeries, zone: ZoneInfo, now: datetime, end_date: date | None
) -> datetime | None:
    """When the next round after `now` starts, or None when the series is over or inactive."""
    if not series.active:
        return None
    latest = latest_round_number(series=series, zone=zone, now=now) or 0
    number = latest + 1
    if end_date is not None and round_date(series=series, number=number) > end_date:
        return None
    return round_at(series=series, zone=zone, number=number)


def _utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    # A time that does not exist on a spring-forward day comes out as the hour after it.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
