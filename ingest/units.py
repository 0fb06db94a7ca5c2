"""The one skeleton of every landing: run units, record each unit's outcome, stop early.

`run_units` takes the units of a run (files, days, windows, symbols...) and, for each:

1. if the run has been stopped (`Breaker`: the vendor's host stopped answering, or the
   warehouse cannot be reached), records the unit as failed, *not attempted*, and goes on to
   the next one without trying it - so an unreachable vendor costs a few failed requests, not
   hours;
2. else fetches it (`fetch(unit)`, outside any transaction: HTTP, retries, the rate limit) and
   lands it (`land(cur, unit, fetched)`, which returns the unit's `Outcome`) in one
   transaction with its raw.load_runs rows, so the record and the rows commit or vanish
   together;
3. if either raises, the unit is failed: the transaction rolls back, and the failure is
   recorded on its own (retried while the database is briefly away) with a one-line
   description of what went wrong - a failing unit never sinks the others.

What a flow then does with the outcomes (end Failed naming them) is flows.outcomes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg2
import psycopg2.extensions
from sqlalchemy.engine import URL
from tenacity import (
    before_sleep_log,
    retry,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

from ingest import load_runs
from ingest.db import transaction
from ingest.outcomes import Outcome, Unit

log = logging.getLogger(__name__)

T = TypeVar("T")
Fetch = Callable[[Unit], T]
Land = Callable[[psycopg2.extensions.cursor, Unit, T], Outcome]
Describe = Callable[[Unit, BaseException], str]
Logger = logging.Logger | logging.LoggerAdapter

RECORD_RETRY_SECONDS = 30  # how long a failure's record waits for the database to come back
CONNECTION_FAILURES = 5  # consecutive requests without an answer that stop a run


class Unreachable(Exception):
    """Raised by a client for a request refused because its run's Breaker is open."""


class Breaker:
    """Stops a run early: once `limit` consecutive requests to a vendor got no answer at all
    (refused, timed out, the host does not resolve), or one request's retries were all spent
    without any answer, or the warehouse cannot be reached, every later request is refused at
    once (`Unreachable`) and every later unit is recorded as not attempted. Any answer from the
    host - even an error status - resets the count. Thread-safe: concurrent tasks of one run
    share it."""

    def __init__(self, vendor: str, limit: int = CONNECTION_FAILURES) -> None:
        self.vendor = vendor
        self.limit = limit
        self._lock = threading.Lock()
        self._failures = 0
        self._reason: str | None = None

    @property
    def reason(self) -> str | None:
        """Why the run stopped (None while it goes on)."""
        return self._reason

    def check(self) -> None:
        """Before a request: raise Unreachable when the run has stopped."""
        if self._reason is not None:
            raise Unreachable(self._reason)

    def answered(self) -> None:
        with self._lock:
            self._failures = 0

    def no_answer(self, host: str, problem: str) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.limit and self._reason is None:
                self._reason = (
                    f"{self.vendor} unreachable: {self._failures} consecutive requests to "
                    f"{host} got no answer (last: {problem[:200]})"
                )

    def gave_up(self, host: str, problem: str) -> None:
        """A request's retries were all spent without an answer: the host is down."""
        self.trip(f"{self.vendor} unreachable: no answer from {host} ({problem[:200]})")

    def trip(self, reason: str) -> None:
        with self._lock:
            self._reason = self._reason or reason


@dataclass(frozen=True)
class Run:
    """What every unit of one run shares: the breaker that stops it early, the Prefect flow run
    its records name, the logger its one line per unit goes to."""

    breaker: Breaker | None = None
    flow_run_id: str | None = None
    logger: Logger = log

    @property
    def stopped(self) -> str | None:
        return self.breaker.reason if self.breaker is not None else None


ALONE = Run()  # a unit landed on its own (tests, tools): no breaker, no flow run


def describe(_unit: Unit, exc: BaseException) -> str:
    """`TypeName: first line of the message` (vendor errors already name the request)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".strip().rstrip(":")


@retry(
    retry=retry_if_exception_type(psycopg2.OperationalError),
    stop=stop_after_delay(RECORD_RETRY_SECONDS),
    wait=wait_exponential(multiplier=0.2, max=3),
    before_sleep=before_sleep_log(log, logging.WARNING),
    reraise=True,
)
def _record(url: URL, outcomes: Sequence[Outcome], **fields: Any) -> None:
    with transaction(url) as cur:
        load_runs.write_outcomes(cur, outcomes, **fields)


def record(
    url: URL,
    outcomes: Sequence[Outcome],
    run: Run = ALONE,
    *,
    started_at: datetime | None = None,
) -> list[Outcome]:
    """Record outcomes in their own transaction (retried while the database is away). When it
    cannot be done, the outcomes say so and the run stops: nothing more can be recorded."""
    try:
        _record(
            url, outcomes, started_at=started_at or datetime.now(UTC), flow_run_id=run.flow_run_id
        )
    except psycopg2.Error as exc:
        why = f"warehouse unreachable: {describe(outcomes[0], exc) if outcomes else exc}"
        if run.breaker is not None:
            run.breaker.trip(why)
        return [o.with_failure(f"not recorded in raw.load_runs ({why})") for o in outcomes]
    return list(outcomes)


def run_unit(
    url: URL,
    unit: Unit,
    fetch: Fetch[T] | None,
    land: Land[T],
    run: Run = ALONE,
    *,
    describe_failure: Describe = describe,
) -> Outcome:
    """Fetch, land and record one unit; a failure is recorded, logged in one line, returned."""
    started = datetime.now(UTC)
    if run.stopped is not None:
        (outcome,) = record(url, [unit.not_attempted(run.stopped)], run, started_at=started)
        return outcome
    try:
        fetched = fetch(unit) if fetch is not None else None
        with transaction(url) as cur:
            outcome = land(cur, unit, fetched)
            load_runs.write_outcomes(
                cur, outcome.recorded(), started_at=started, flow_run_id=run.flow_run_id
            )
    except Exception as exc:  # noqa: BLE001 - every failure of a unit is its outcome
        if not isinstance(exc, Unreachable | psycopg2.Error | OSError | ValueError):
            run.logger.debug("%s: unexpected failure", unit.name, exc_info=exc)
        failure = unit.outcome(
            failures=(describe_failure(unit, exc),), attempts=getattr(exc, "attempts", 0)
        )
        (outcome,) = record(url, [failure], run, started_at=started)
    report(outcome, run.logger)
    return outcome


def run_units(
    url: URL,
    units: Iterable[Unit],
    fetch: Fetch[T] | None,
    land: Land[T],
    run: Run = ALONE,
    *,
    on_outcome: Callable[[Outcome], None] = lambda _outcome: None,
) -> list[Outcome]:
    """`run_unit` for each unit in order (`on_outcome` after each: progress); once the run has
    stopped, the rest are recorded as not attempted in one transaction."""
    outcomes: list[Outcome] = []
    pending = list(units)
    while pending:
        if run.stopped is not None:
            stopped = record(url, [u.not_attempted(run.stopped) for u in pending], run)
            for outcome in stopped:
                on_outcome(outcome)
            return outcomes + stopped
        outcome = run_unit(url, pending.pop(0), fetch, land, run)
        on_outcome(outcome)
        outcomes.append(outcome)
    return outcomes


def report(outcome: Outcome, logger: Logger = log) -> None:
    """One log line per unit: info when it landed whole, warning when partial, else error."""
    level = {"success": logging.INFO, "skipped": logging.INFO, "partial": logging.WARNING}
    logger.log(
        level.get(outcome.status, logging.ERROR),
        "%s: %s, %s%s",
        outcome.name,
        outcome.label,
        outcome.counts.line(),
        f" ({outcome.error})" if outcome.error else "",
    )
