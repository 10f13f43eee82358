"""Schedule arithmetic: when a schedule's occurrence falls due in one IANA timezone.

Pure functions, no I/O. Wall-clock times are resolved against the zone with PEP 495
semantics: a local time skipped by a spring-forward gap is read with the offset in force
before the gap (02:30 on a New York spring-forward day happens at 03:30 EDT), and a local
time that occurs twice on a fall-back day is taken at its first occurrence (fold=0).
Occurrences are keyed by local date, so each date yields exactly one due instant.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# How long after its expiry a missed occurrence is still recorded (as dropped).
DROP_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Rules:
    """What a schedule says about when it runs, independent of the zone."""

    weekdays: frozenset[int]
    local_time: time
    start_date: date
    end_date: date | None
    expire_after: timedelta
    reminder_after: timedelta | None
    holidays: frozenset[date] = frozenset()

    def runs_on(self, day: date) -> bool:
        """Whether the schedule has an occurrence on this local date."""
        return (
            day.weekday() in self.weekdays
            and day >= self.start_date
            and (self.end_date is None or day <= self.end_date)
            and day not in self.holidays
        )


@dataclass(frozen=True)
class Occurrence:
    """One local date's occurrence in one zone, resolved to UTC instants."""

    local_date: date
    due_at: datetime
    expires_at: datetime
    next_reminder_at: datetime | None

    def is_open(self, now: datetime) -> bool:
        """Still inside its window: due and not yet expired."""
        return self.due_at <= now < self.expires_at


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The zone with this IANA name, or None when the name is unknown or malformed."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def resolve_local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of `day` at wall-clock `at` in `zone` (DST gaps and folds handled)."""
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone)
    return local.astimezone(UTC)


def exists(day: date, at: time, zone: ZoneInfo) -> bool:
    """False for the rare date a zone skipped entirely (Pacific/Apia, 2011-12-30): its
    time would resolve onto the next date and fire that date's occurrence twice."""
    return local_date(resolve_local(day, at, zone), zone) == day


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    """The calendar date in `zone` at this instant."""
    return instant.astimezone(zone).date()


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def occurrence_on(rules: Rules, day: date, zone: ZoneInfo) -> Occurrence:
    """The occurrence on one local date (whether or not the schedule runs that day)."""
    due = resolve_local(day, rules.local_time, zone)
    reminder = due + rules.reminder_after if rules.reminder_after else None
    return Occurrence(
        local_date=day,
        due_at=due,
        expires_at=due + rules.expire_after,
        next_reminder_at=reminder,
    )


def recent_occurrences(
    rules: Rules, zone: ZoneInfo, *, now: datetime, lookback: timedelta = DROP_LOOKBACK
) -> list[Occurrence]:
    """Occurrences already due at `now` whose expiry is no older than `lookback`.

    Those still open are to be sent; the others were missed (the worker was down) and
    are to be recorded as dropped, never sent.
    """
    horizon = now - rules.expire_after - lookback
    # One extra day either side: a zone's date can differ from UTC's by up to 14 hours.
    first = local_date(horizon, zone) - timedelta(days=1)
    last = local_date(now, zone) + timedelta(days=1)
    found = []
    for day in _days(first, last):
        if not rules.runs_on(day) or not exists(day, rules.local_time, zone):
            continue
        occurrence = occurrence_on(rules, day, zone)
        if horizon < occurrence.expires_at and occurrence.due_at <= now:
            found.append(occurrence)
    return found


def next_occurrence(rules: Rules, zone: ZoneInfo, *, after: datetime) -> Occurrence | None:
    """The first occurrence due strictly after `after`, looking up to a year ahead."""
    start = max(local_date(after, zone), rules.start_date)
    for day in _days(start, start + timedelta(days=366)):
        if rules.end_date is not None and day > rules.end_date:
            return None
        if rules.runs_on(day) and exists(day, rules.local_time, zone):
            occurrence = occurrence_on(rules, day, zone)
            if occurrence.due_at > after:
                return occurrence
    return None


def snooze_until(
    *, option: str, now: datetime, zone: ZoneInfo, at: time, hour: timedelta = timedelta(hours=1)
) -> datetime:
    """When a snoozed check-in comes back: in an hour, or tomorrow at the schedule's time."""
    if option == "hour":
        return now + hour
    if option == "tomorrow":
        return resolve_local(local_date(now, zone) + timedelta(days=1), at, zone)
    raise ValueError(f"unknown snooze option {option!r}")


def valid_weekdays(days: Collection[int]) -> bool:
    """At least one weekday, each 0 (Monday) to 6 (Sunday)."""
    return bool(days) and all(isinstance(d, int) and 0 <= d <= 6 for d in days)
