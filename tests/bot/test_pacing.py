"""Token bucket, channel pacer and 429 pause, on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from bot.pacing import ChannelPacer, Pause, TokenBucket, WorkspacePacer
from tests.bot.fakes import FakeClock


def bucket(clock: FakeClock, *, rate: float = 2.0, burst: int = 3) -> TokenBucket:
    return TokenBucket(rate=rate, burst=burst, clock=clock, sleep=clock.sleep)


async def test_a_full_bucket_lets_a_burst_through_without_waiting(clock: FakeClock) -> None:
    tokens = bucket(clock, burst=3)
    for _ in range(3):
        await tokens.acquire()
    assert clock.sleeps == []


async def test_past_the_burst_each_token_waits_one_interval(clock: FakeClock) -> None:
    tokens = bucket(clock, rate=2.0, burst=1)
    for _ in range(4):
        await tokens.acquire()
    assert clock.sleeps == [0.5, 0.5, 0.5]


async def test_concurrent_callers_queue_up_behind_each_other(clock: FakeClock) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        # Time stands still: all four callers arrive at the same instant.
        waits.append(seconds)
        await asyncio.sleep(0)

    tokens = TokenBucket(rate=1.0, burst=1, clock=clock, sleep=sleep)
    await asyncio.gather(*(tokens.acquire() for _ in range(4)))
    assert sorted(waits) == [1.0, 2.0, 3.0]


def test_tokens_refill_with_time_up_to_the_burst(clock: FakeClock) -> None:
    tokens = bucket(clock, rate=2.0, burst=3)
    for _ in range(3):
        assert tokens.reserve() == 0.0
    assert tokens.available_in() == pytest.approx(0.5)
    clock.advance(10)
    for _ in range(3):
        assert tokens.reserve() == 0.0
    assert tokens.reserve() == pytest.approx(0.5)


def test_available_in_only_looks(clock: FakeClock) -> None:
    tokens = bucket(clock, rate=1.0, burst=1)
    assert tokens.available_in() == 0.0
    assert tokens.available_in() == 0.0
    tokens.reserve()
    assert tokens.available_in() == pytest.approx(1.0)


def test_a_bucket_needs_a_positive_rate_and_burst(clock: FakeClock) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1, clock=clock)
    with pytest.raises(ValueError):
        TokenBucket(rate=1, burst=0, clock=clock)


async def test_a_channel_gets_one_message_per_interval(clock: FakeClock) -> None:
    pacer = ChannelPacer(interval=1.0, clock=clock, sleep=clock.sleep)
    await pacer.acquire("D1")
    await pacer.acquire("D1")
    clock.advance(0.25)
    await pacer.acquire("D1")
    assert clock.sleeps == [1.0, 0.75]


def test_channels_are_paced_independently(clock: FakeClock) -> None:
    pacer = ChannelPacer(interval=1.0, clock=clock)
    assert [pacer.reserve(ch) for ch in ("D1", "D2", "D3")] == [0.0, 0.0, 0.0]
    assert pacer.reserve("D1") == 1.0
    assert pacer.reserve("D1") == 2.0


def test_idle_channels_are_forgotten(clock: FakeClock) -> None:
    pacer = ChannelPacer(interval=1.0, clock=clock)
    for index in range(2000):
        pacer.reserve(f"D{index}")
        clock.advance(0.01)
    assert len(pacer._next_free) < 1100
    assert pacer.reserve("D1999") > 0


async def test_a_pause_holds_until_its_deadline(clock: FakeClock) -> None:
    pause = Pause(clock=clock, sleep=clock.sleep)
    await pause.wait()
    pause.pause_for(30)
    assert pause.remaining() == 30
    await pause.wait()
    assert clock.sleeps == [30]
    assert pause.remaining() == 0


def test_a_pause_is_never_shortened(clock: FakeClock) -> None:
    pause = Pause(clock=clock)
    pause.pause_for(30)
    pause.pause_for(5)
    assert pause.remaining() == 30
    pause.pause_until(clock() + 60)
    assert pause.remaining() == 60


async def test_workspace_pacer_spaces_one_channel_but_not_several(clock: FakeClock) -> None:
    pacer = WorkspacePacer(rate=50, burst=50, channel_interval=1.0, clock=clock,
                           sleep=clock.sleep)
    for channel in ("D1", "D2", "D3"):
        await pacer.acquire(channel=channel)
    assert clock.sleeps == []
    await pacer.acquire(channel="D1")
    assert clock.sleeps == [1.0]


async def test_workspace_pacer_limits_the_whole_workspace(clock: FakeClock) -> None:
    pacer = WorkspacePacer(rate=2, burst=2, channel_interval=1.0, clock=clock,
                           sleep=clock.sleep)
    for channel in ("D1", "D2", "D3", "D4"):
        await pacer.acquire(channel=channel)
    assert clock.sleeps == [0.5, 0.5]


async def test_calls_without_a_channel_only_count_against_the_workspace(
    clock: FakeClock,
) -> None:
    pacer = WorkspacePacer(rate=1, burst=2, channel_interval=1.0, clock=clock,
                           sleep=clock.sleep)
    await pacer.acquire(channel=None)
    await pacer.acquire(channel="D1")
    await pacer.acquire(channel=None)
    assert clock.sleeps == [1.0]


async def test_a_retry_after_pauses_every_channel(clock: FakeClock) -> None:
    pacer = WorkspacePacer(clock=clock, sleep=clock.sleep)
    pacer.retry_after(20)
    await pacer.acquire(channel="D9")
    assert clock.sleeps == [20]


async def test_a_retry_after_seen_while_waiting_holds_the_waiter(clock: FakeClock) -> None:
    pacer = WorkspacePacer(channel_interval=1.0, clock=clock, sleep=clock.sleep)
    await pacer.acquire(channel="D1")

    async def second_send() -> None:
        await pacer.acquire(channel="D1")

    task = asyncio.create_task(second_send())
    await asyncio.sleep(0)  # the task has booked its slot and is sleeping 1 s
    pacer.retry_after(10)
    await task
    assert clock.sleeps[0] == 1.0
    assert sum(clock.sleeps) >= 10
