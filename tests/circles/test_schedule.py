"""How many rounds a series has left before its cohort ends."""

from __future__ import annotations

from datetime import date, time

from services.circles.models import CircleSeries
from services.circles.schedule import round_date, rounds_left


def _series(*, cadence_weeks: int) -> CircleSeries:
    # 2026-01-05 is a Monday, so round 1 falls on it.
    return CircleSeries(
        workspace_id=1,
        cohort_id=1,
        name="Peers",
        cadence_weeks=cadence_weeks,
        weekday=0,
        local_time=time(10),
        start_date=date(2026, 1, 5),
    )


def test_rounds_left_count_this_round_and_every_later_one_up_to_the_end_date() -> None:
    weekly = _series(cadence_weeks=1)
    last = round_date(series=weekly, number=12)
    assert rounds_left(series=weekly, number=1, end_date=last) == 12
    assert rounds_left(series=weekly, number=12, end_date=last) == 1
    assert rounds_left(series=weekly, number=5, end_date=date(2026, 3, 29)) == 8


def test_a_fortnightly_series_has_half_as_many_rounds_left() -> None:
    fortnightly = _series(cadence_weeks=2)
    assert rounds_left(series=fortnightly, number=1, end_date=date(2026, 3, 29)) == 6


def test_no_end_date_or_a_round_past_the_end_leaves_the_count_unknown() -> None:
    weekly = _series(cadence_weeks=1)
    assert rounds_left(series=weekly, number=1, end_date=None) is None
    assert rounds_left(series=weekly, number=3, end_date=date(2026, 1, 6)) is None
