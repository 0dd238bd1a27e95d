"""The per-token token bucket of the auditors' expensive queries."""

from __future__ import annotations

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
