"""A rate limit per API token for the auditors' expensive queries (the trail, ``check``,
the books as of a past moment): a token bucket per token — up to ``burst`` at once, then
``per_minute`` a minute — so that one token cannot keep the service busy with them.
Over the limit the answer is 429 with ``Retry-After`` (see :mod:`commands.problems`).

The buckets of a service with a database are kept in it (:class:`TableBuckets`), so that
every worker process of ``serve --workers N`` spends from the same allowance: a token
gets its limit, not N times it. An in-memory ledger keeps them in the process.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from ledger.errors import LedgerError
from ledger.side_tables import SideTables

#: A bucket: its level (queries it holds) and when that was (seconds since the epoch);
#: None for a token not seen yet (a full bucket).
Bucket = tuple[float, float] | None


class RateLimited(LedgerError):
    """Too many expensive queries from one token: wait ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Buckets(Protocol):
    """Where the buckets are kept."""

    def change(self, token: str, update: Callable[[Bucket], tuple[float, float]]) -> None:
        """Replace ``token``'s bucket by ``update(bucket)``, atomically: no other change
        of the same bucket (in any thread or process sharing them) comes between."""
        ...


class MemoryBuckets:
    """Buckets of this process (thread-safe: routes run in a thread pool)."""

    def __init__(self, full_after: float = 3600.0) -> None:
        self.full_after = full_after
        """Seconds after which an untouched bucket is full again (and can be forgotten)."""
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def change(self, token: str, update: Callable[[Bucket], tuple[float, float]]) -> None:
        with self._lock:
            new = self._buckets[token] = update(self._buckets.get(token))
            if len(self._buckets) > 10_000:  # forget full buckets (they are the default)
                horizon = new[1] - self.full_after
                self._buckets = {k: v for k, v in self._buckets.items() if v[1] > horizon}


class TableBuckets:
    """Buckets in a table beside the ledger's log, shared by every process of the service.
    A change reads the bucket under a row lock (PostgreSQL; SQLite's write lock serializes
    it) and writes it back in the same transaction."""

    TABLE = "rate_buckets"

    def __init__(self, tables: SideTables) -> None:
        self.tables = tables
        with tables.ddl_transaction() as c:
            c.execute(
                tables.q(
                    "CREATE TABLE IF NOT EXISTS {t} (token TEXT PRIMARY KEY, "
                    "level DOUBLE PRECISION, at DOUBLE PRECISION)",
                    t=self.TABLE,
                )
            )

    def change(self, token: str, update: Callable[[Bucket], tuple[float, float]]) -> None:
        q, t = self.tables.q, self.TABLE
        lock = " FOR UPDATE" if self.tables.postgres else ""
        with self.tables.transaction() as c:
            # the row first (empty: a full bucket), so that two first queries of a token
            # wait for each other on it as every later one does
            c.execute(
                q("INSERT INTO {t} (token) VALUES (%s) ON CONFLICT (token) DO NOTHING", t=t),
                (token,),
            )
            c.execute(q("SELECT level, at FROM {t} WHERE token = %s" + lock, t=t), (token,))
            row = c.fetchone()
            bucket = None if row is None or row[0] is None else (float(row[0]), float(row[1]))
            level, at = update(bucket)
            c.execute(
                q("UPDATE {t} SET level = %s, at = %s WHERE token = %s", t=t),
                (level, at, token),
            )


class Throttle:
    """Token buckets, one per API token."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.time,
        buckets: Buckets | None = None,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.clock = clock
        """Wall-clock seconds: buckets shared between processes need one clock."""
        full_after = self.burst / self.rate if self.rate > 0 else 0.0
        self.buckets: Buckets = buckets or MemoryBuckets(full_after)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, token: str) -> None:
        """Spend one query of ``token``'s allowance, or raise :class:`RateLimited`."""
        if not self.enabled:
            return
        wait = 0

        def spend(bucket: Bucket) -> tuple[float, float]:
            nonlocal wait
            # read under the bucket's lock: a time read before waiting for it would be
            # older than the one another worker wrote meanwhile, and writing it back would
            # refill the seconds between a second time
            now = self.clock()
            level, then = bucket if bucket is not None else (float(self.burst), now)
            # a clock set back refills nothing (and takes nothing away)
            level = min(float(self.burst), level + max(0.0, now - then) * self.rate)
            if level < 1.0:
                wait = max(1, math.ceil((1.0 - level) / self.rate))
                return level, now
            return level - 1.0, now

        self.buckets.change(token, spend)
        if wait:
            raise RateLimited(
                f"too many expensive queries (trail, check, past views) from this token: "
                f"at most {self.burst} at once and {self.rate * 60:g} a minute; try again "
                f"in {wait} s",
                retry_after=wait,
            )
