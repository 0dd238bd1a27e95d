"""Group commit for the service: commands from many concurrent requests, one writer,
many commands per transaction.

Each request hands its command to :meth:`GroupCommitter.submit` and waits. One writer
thread takes every command that is waiting (up to ``max_batch``), decides them one after
another against the same in-memory aggregates and stores them in one transaction
(:meth:`~commands.handlers.CommandHandler.handle_batch`). So the hot lines are read once
per batch instead of once per request, the log's write lock is taken once per batch, and
concurrent requests no longer collide on the same line and retry.

Each command keeps its own outcome: a rejected command gets its own error and changes
nothing; the commands before it in the batch are stored, those after it are decided again
in the next round. A failure of the database fails every command of the round (nothing of
it was stored); the client retries with the same id.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

import structlog

from commands.handlers import CommandHandler, CommandResult
from commands.models import AnyCommand
from ledger.application import Ledger
from ledger.roles import Actor

log = structlog.get_logger("fundflow.group_commit")

#: Most commands stored in one transaction of the service.
MAX_BATCH = 200
#: Longest a request waits for its command to be stored (seconds).
WAIT_SECONDS = 60.0


@dataclass
class _Job:
    command: AnyCommand
    actor: Actor
    future: Future[CommandResult] = field(default_factory=Future)


class GroupCommitter:
    """The service's one writer: applies submitted commands in batches."""

    def __init__(self, ledger: Ledger, *, max_batch: int = MAX_BATCH, max_attempts: int = 8):
        self.ledger = ledger
        self.max_batch = max_batch
        self.handler = CommandHandler(ledger, max_attempts=max_attempts)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def submit(self, command: AnyCommand, actor: Actor) -> CommandResult:
        """Apply ``command`` as ``actor`` (with the others waiting now); its result, or the
        :class:`~ledger.errors.LedgerError` that rejected it."""
        job = _Job(command, actor)
        self._jobs.put(job)
        return job.future.result(timeout=WAIT_SECONDS)

    def close(self) -> None:
        """Finish what was submitted, then stop the writer."""
        self._jobs.put(None)
        self._thread.join(timeout=WAIT_SECONDS)

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            jobs = [first]
            stop = False
            while len(jobs) < self.max_batch:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                jobs.append(more)
            self._apply(jobs)
            if stop:
                return

    def _apply(self, jobs: list[_Job]) -> None:
        remaining = jobs
        while remaining:
            try:
                outcome = self.handler.handle_batch(
                    [j.command for j in remaining], actors=[j.actor for j in remaining]
                )
            except Exception as error:  # the database: nothing of this round was stored
                log.warning(
                    "group_commit_failed", error=type(error).__name__, commands=len(remaining)
                )
                for job in remaining:
                    job.future.set_exception(error)
                return
            for job, result in zip(remaining, outcome.results, strict=False):
                job.future.set_result(result)
            if outcome.error is None or outcome.failed_index is None:
                return
            remaining[outcome.failed_index].future.set_exception(outcome.error)
            remaining = remaining[outcome.failed_index + 1 :]
