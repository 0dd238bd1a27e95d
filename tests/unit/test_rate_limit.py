"""The per-token token bucket of the auditors' expensive queries."""

from __future__ import annotations

from typing import Any

import pytest

from commands.rate_limit import RateLimited, Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate_per_token() -> None:
    clock = Clock()
    throttle = Throttle(per_minute=30, burst=3, clock=clock)  # one every 2 s
    for _ in range(3):
        throttle.take("a")
    with pytest.raises(RateLimited) as refused:
        throttle.take("a")
    assert refused.value.retry_after == 2 and refused.value.code == "rate_limited"
    throttle.take("b")  # another token has its own allowance
    clock.now += 2
    throttle.take("a")
    with pytest.raises(RateLimited):
        throttle.take("a")
    clock.now += 3600  # refills up to the burst, not beyond
    for _ in range(3):
        throttle.take("a")
    with pytest.raises(RateLimited):
        throttle.take("a")


def test_zero_per_minute_is_no_limit() -> None:
    throttle = Throttle(per_minute=0, burst=1)
    for _ in range(1000):
        throttle.take("a")


def test_a_query_that_waited_for_the_bucket_does_not_refill_it_twice() -> None:
    """The clock is read under the bucket's lock: a query that read it, then waited while
    another worker spent from the bucket later, wrote its earlier time back, and the
    seconds between were refilled a second time — two queries at once with a burst of 1."""
    clock = Clock()
    throttle = Throttle(per_minute=1, burst=1, clock=clock)
    other_worker_first = True
    change = throttle.buckets.change

    def interleaved(token: str, update: Any) -> None:
        nonlocal other_worker_first
        if other_worker_first:  # another worker takes the bucket's lock a minute later
            other_worker_first = False
            clock.now += 60
            throttle.take(token)
        change(token, update)

    throttle.take("a")
    clock.now += 60
    throttle.buckets.change = interleaved  # type: ignore[method-assign]
    with pytest.raises(RateLimited):  # the other worker spent what the minute refilled
        throttle.take("a")
    with pytest.raises(RateLimited):  # and nothing is left at that same instant
        throttle.take("a")
