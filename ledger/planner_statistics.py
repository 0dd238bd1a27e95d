"""Planner statistics for the tables a process fills in bulk (the log, the hash chain, the
read model's tables), on PostgreSQL.

PostgreSQL's autovacuum analyzes a table once a share of it has changed, but it may be
off (as on this project's test machines) or behind a bulk import. Without statistics the
planner takes a table of millions of rows for one where each key has thousands of them:
at 4 million events it loaded each aggregate with a parallel bitmap scan, 80–120 ms instead
of a fraction of a millisecond, and an import slowed to a quarter of its pace. So a
process that writes many rows looks, every so often, at how much of each table is new
since it was last analyzed, and analyzes it when that is a good share of it.

Analyzing takes a lock that blocks neither reads nor writes. It is done after the rows
are committed and never fails the write that led to it: a refusal (no privilege) is
logged and the check goes on.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from eventsourcing.postgres import PostgresDatastore
from psycopg import sql
from psycopg.rows import tuple_row

log = structlog.get_logger()

#: Rows a process writes to a table between two looks at its statistics.
CHECK_EVERY_ROWS = 20_000
#: A table is analyzed when the rows changed since it was last analyzed are at least this
#: share of it, and at least ``MIN_CHANGED`` rows.
CHANGED_SHARE = 0.2
MIN_CHANGED = 10_000


class StatisticsKeeper:
    """Counts the rows this process writes to tables of one schema, and keeps their
    statistics current (see the module's text)."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore
        self.written = 0
        self.unanalyzed: dict[str, int] = {}
        """Rows this process wrote to each table since it last analyzed it (the server's
        own count may lag the last second's writes)."""

    def wrote(self, rows: int, tables: Sequence[str]) -> None:
        """Count ``rows`` written (committed) to ``tables``; every ``CHECK_EVERY_ROWS``,
        look at those tables' statistics."""
        for table in tables:
            self.unanalyzed[table] = self.unanalyzed.get(table, 0) + rows
        self.written += rows
        if self.written >= CHECK_EVERY_ROWS:
            self.written = 0
            self.keep(tables)

    def keep(self, tables: Sequence[str]) -> list[str]:
        """Analyze each of ``tables`` of which a good share is new since it was last
        analyzed; the tables analyzed. Never raises: the rows are stored already."""
        analyzed: list[str] = []
        try:
            with (
                self.datastore.get_connection() as conn,
                conn.cursor(row_factory=tuple_row) as curs,
            ):
                for table in tables:
                    curs.execute(
                        "SELECT coalesce(s.n_mod_since_analyze, 0), c.reltuples "
                        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
                        "WHERE n.nspname = %s AND c.relname = %s",
                        (self.datastore.schema, table),
                    )
                    row = curs.fetchone()
                    if row is None:
                        continue
                    counted, size = row
                    changed = max(int(counted), self.unanalyzed.get(table, 0))
                    if changed < max(MIN_CHANGED, CHANGED_SHARE * max(float(size), 0.0)):
                        continue
                    curs.execute(
                        sql.SQL("ANALYZE {t}").format(
                            t=sql.Identifier(self.datastore.schema, table)
                        )
                    )
                    self.unanalyzed[table] = 0
                    analyzed.append(table)
        except Exception as error:
            log.warning("statistics_not_kept", tables=list(tables), error=str(error))
        if analyzed:
            log.info("statistics_kept", tables=analyzed)
        return analyzed
