"""A rate limit per API token for the auditors' expensive queries (the trail, ``check``,
the books as of a past moment): a token bucket per token — up to ``burst`` at once, then
``per_minute`` a minute — so that one token cannot keep the service busy with them.
Over the limit the answer is 429 with ``Retry-After`` (see :mod:`commands.problems`)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from ledger.errors import LedgerError


class RateLimited(LedgerError):
    """Too many expensive queries from one token: wait ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Throttle:
    """Token buckets, one per API token (thread-safe: routes run in a thread pool)."""

    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, token: str) -> None:
        """Spend one query of ``token``'s allowance, or raise :class:`RateLimited`."""
        if not self.enabled:
            return
        now = self.clock()
        with self._lock:
            level, then = self._buckets.get(token, (float(self.burst), now))
            level = min(float(self.burst), level + (now - then) * self.rate)
            if level < 1.0:
                self._buckets[token] = (level, now)
                wait = max(1, math.ceil((1.0 - level) / self.rate))
                raise RateLimited(
                    f"too many expensive queries (trail, check, past views) from this token: "
                    f"at most {self.burst} at once and {self.rate * 60:g} a minute; try again "
                    f"in {wait} s",
                    retry_after=wait,
                )
            self._buckets[token] = (level - 1.0, now)
            if len(self._buckets) > 10_000:  # forget full buckets (they are the default)
                self._buckets = {
                    k: v
                    for k, v in self._buckets.items()
                    if v[0] + (now - v[1]) * self.rate < self.burst
                }
