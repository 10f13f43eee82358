"""UTC offsets on a date, and clock windows that may wrap past the date line."""

from __future__ import annotations

from datetime import date

import pytest

from services.circles import utc_offset_minutes
from services.circles.timezones import format_offset, offset_spread, offset_window
from services.errors import Invalid


@pytest.mark.parametrize(
    ("timezone", "on", "minutes"),
    [
        ("Europe/Berlin", date(2026, 1, 15), 60),
        ("Europe/Berlin", date(2026, 7, 15), 120),
        ("America/New_York", date(2026, 3, 8), -240),  # the day clocks go forward
        ("Asia/Kolkata", date(2026, 1, 15), 330),
        ("Australia/Sydney", date(2026, 1, 15), 660),
        ("UTC", date(2026, 1, 15), 0),
    ],
)
def test_the_offset_is_the_one_in_force_during_that_days_working_hours(
    timezone: str, on: date, minutes: int
) -> None:
    assert utc_offset_minutes(timezone=timezone, on=on) == minutes


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "", "../etc/passwd"])
def test_an_unknown_timezone_is_invalid(timezone: str) -> None:
    with pytest.raises(Invalid, match="unknown IANA timezone"):
        utc_offset_minutes(timezone=timezone, on=date(2026, 1, 1))


@pytest.mark.parametrize(
    ("offsets", "spread", "window"),
    [
        ([60], 0, (60, 60)),
        ([0, 60, 120], 120, (0, 120)),
        ([660, -480], 300, (660, -480)),  # Sydney morning is Los Angeles afternoon
        ([840, -600], 0, (840, -600)),  # Kiritimati and Honolulu share a wall clock
        ([-720, 0, 720], 720, (-720, 0)),  # UTC-12 and UTC+12 share a clock
    ],
)
def test_the_window_is_the_shortest_arc_on_the_clock(
    offsets: list[int], spread: int, window: tuple[int, int]
) -> None:
    assert offset_spread(offsets) == spread
    first, last = offset_window(offsets)
    assert (last - first) % 1440 == spread
    assert {first, last} == set(window)


@pytest.mark.parametrize(
    ("minutes", "text"), [(0, "UTC"), (120, "UTC+2"), (-210, "UTC-3:30"), (345, "UTC+5:45")]
)
def test_offsets_read_the_usual_way(minutes: int, text: str) -> None:
    assert format_offset(minutes) == text
