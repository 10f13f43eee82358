"""Schedule arithmetic in one zone: DST gaps and folds, skipped dates, windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.checkins.schedule import (
    Rules,
    exists,
    next_occurrence,
    recent_occurrences,
    resolve_local,
    snooze_until,
    valid_weekdays,
)

DAILY = frozenset(range(7))


def rules(at: time, **fields: object) -> Rules:
    values: dict[str, object] = {
        "weekdays": DAILY, "local_time": at, "start_date": date(1980, 1, 1), "end_date": None,
        "expire_after": timedelta(hours=24), "reminder_after": None,
    }
    values.update(fields)
    return Rules(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected"),
    [
        # Spring forward: 02:30 does not exist; it happens at 03:30 EDT.
        ("America/New_York", date(2024, 3, 10), time(2, 30), datetime(2024, 3, 10, 7, 30)),
        # Fall back: 01:30 happens twice; the first (EDT) counts.
        ("America/New_York", date(2024, 11, 3), time(1, 30), datetime(2024, 11, 3, 5, 30)),
        ("Europe/London", date(2024, 3, 31), time(1, 30), datetime(2024, 3, 31, 1, 30)),
        ("Europe/London", date(2024, 10, 27), time(1, 30), datetime(2024, 10, 27, 0, 30)),
        # Kathmandu moved from +05:30 to +05:45 at midnight: 00:05 did not exist.
        ("Asia/Kathmandu", date(1986, 1, 1), time(0, 5), datetime(1985, 12, 31, 18, 35)),
        ("Asia/Kathmandu", date(2024, 6, 1), time(9, 0), datetime(2024, 6, 1, 3, 15)),
    ],
)
def test_local_times_resolve_once_across_transitions(
    zone: str, day: date, at: time, expected: datetime
) -> None:
    assert resolve_local(day, at, ZoneInfo(zone)) == expected.replace(tzinfo=UTC)


def test_a_date_the_zone_skipped_has_no_occurrence() -> None:
    apia = ZoneInfo("Pacific/Apia")
    assert not exists(date(2011, 12, 30), time(9), apia)
    assert exists(date(2011, 12, 31), time(9), apia)
    now = datetime(2011, 12, 31, 12, tzinfo=UTC)
    days = [o.local_date for o in recent_occurrences(rules(time(9)), apia, now=now)]
    assert date(2011, 12, 30) not in days
    assert len(days) == len(set(days))


def test_recent_occurrences_cover_the_open_window_and_the_lookback() -> None:
    zone = ZoneInfo("Europe/London")
    now = datetime(2024, 6, 12, 9, 30, tzinfo=UTC)  # 10:30 BST
    found = recent_occurrences(rules(time(9), expire_after=timedelta(hours=2)), zone, now=now)
    open_days = [o.local_date for o in found if o.is_open(now)]
    assert open_days == [date(2024, 6, 12)]
    # Yesterday's closed within the lookback (one day after expiry); older ones are gone.
    assert [o.local_date for o in found if not o.is_open(now)] == [date(2024, 6, 11)]


def test_weekdays_start_end_and_holidays_are_respected() -> None:
    zone = ZoneInfo("UTC")
    weekly = rules(time(9), weekdays=frozenset({0}), start_date=date(2024, 6, 10),
                   end_date=date(2024, 6, 30), holidays=frozenset({date(2024, 6, 17)}))
    after = datetime(2024, 6, 1, tzinfo=UTC)
    first = next_occurrence(weekly, zone, after=after)
    assert first is not None and first.local_date == date(2024, 6, 10)
    second = next_occurrence(weekly, zone, after=first.due_at)
    assert second is not None and second.local_date == date(2024, 6, 24)
    assert next_occurrence(weekly, zone, after=datetime(2024, 6, 25, tzinfo=UTC)) is None


def test_snooze_options() -> None:
    zone = ZoneInfo("America/New_York")
    now = datetime(2024, 3, 9, 15, 0, tzinfo=UTC)  # 10:00 EST, the day before spring forward
    assert snooze_until(option="hour", now=now, zone=zone, at=time(9)) == now + timedelta(hours=1)
    tomorrow = snooze_until(option="tomorrow", now=now, zone=zone, at=time(9))
    assert tomorrow == datetime(2024, 3, 10, 13, 0, tzinfo=UTC)  # 09:00 EDT
    with pytest.raises(ValueError):
        snooze_until(option="later", now=now, zone=zone, at=time(9))


def test_weekday_validation() -> None:
    assert valid_weekdays([0, 6])
    assert not valid_weekdays([])
    assert not valid_weekdays([7])
