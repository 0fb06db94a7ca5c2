"""Historical backfill: per-symbol daily aggregates, chunked by date range, resumable.

A symbol's range is cut into windows (`chunk_days` calendar days); each window is one request
(plus its `next_url` pages) and one raw.load_runs row. A rerun skips the windows that already
landed (success or partial, per raw.load_runs), so an interrupted backfill resumes where it
stopped. Windows after a symbol's delisting (raw.symbols) are not requested.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import psycopg2
from polygon import RESTClient
from sqlalchemy.engine import URL

from ingest.db import transaction
from ingest.landing import ingest_rows
from ingest.polygon import SOURCE, reference
from ingest.polygon.bars import symbol_rows
from ingest.polygon.calendar import missing_windows, sessions
from ingest.polygon.http import PolygonError
from ingest.polygon.runs import (
    UnitOutcome,
    aggs_uri,
    covered_sessions,
    delisting_dates,
    failed,
    landed_uris,
    outcome_from_result,
    record,
    symbols_with_bars,
)

log = logging.getLogger(__name__)

KIND = "window"
AGGS_LIMIT = 50_000  # Polygon's maximum base aggregates per request; more come as next_url pages


@dataclass(frozen=True)
class SymbolPlan:
    symbol: str
    windows: list[tuple[date, date]]  # to request, oldest first
    skipped: list[UnitOutcome] = field(default_factory=list)
    delisted_at: date | None = None


def plan_backfill(
    url: URL, symbols: Sequence[str], start: date, end: date, chunk_days: int
) -> list[SymbolPlan]:
    """Each symbol's windows still to fetch, by coverage: the XNYS sessions in [start, end]
    that no landed request of this symbol covers (a backfill window or a grouped day, success
    or partial, per raw.load_runs), cut by `missing_windows`. What is covered, or after a
    delisting recorded in raw.symbols, is reported as skipped."""
    if end < start:
        raise ValueError(f"backfill end {end} is before start {start}")
    all_sessions = sessions(start, end)
    delisted = delisting_dates(url, symbols)
    covered = covered_sessions(url, symbols, start, end)
    plans = []
    for symbol in symbols:
        last_day = delisted.get(symbol.upper())
        wanted = [d for d in all_sessions if last_day is None or d <= last_day]
        after = [d for d in all_sessions if last_day is not None and d > last_day]
        landed = [d for d in wanted if d in covered.get(symbol.upper(), set())]
        skipped = []
        if landed:
            skipped.append(
                UnitOutcome(
                    KIND,
                    symbol,
                    landed[0],
                    landed[-1],
                    "skipped",
                    aggs_uri(symbol, landed[0], landed[-1]),
                    uuid.uuid4(),
                    error="already landed",
                )
            )
        if after:
            skipped.append(
                UnitOutcome(
                    KIND,
                    symbol,
                    after[0],
                    after[-1],
                    "skipped",
                    aggs_uri(symbol, after[0], after[-1]),
                    uuid.uuid4(),
                    error=f"after the delisting on {last_day}",
                )
            )
        todo = missing_windows(wanted, set(landed), chunk_days)
        plans.append(SymbolPlan(symbol, todo, skipped, last_day))
    return plans


def backfill_symbol(
    url: URL,
    client: RESTClient,
    plan: SymbolPlan,
    *,
    flow_run_id: str | None = None,
    logger: logging.Logger | logging.LoggerAdapter = log,
    on_window: Callable[[UnitOutcome], None] | None = None,
) -> list[UnitOutcome]:
    """Fetch and land a symbol's windows, oldest first, unadjusted. A failing window is
    recorded as failed and the next one is tried. Windows with no bars are recorded once all
    are fetched: `success` with 0 rows when the symbol has bars elsewhere (before its listing,
    a halt), else `failed` (an unknown symbol, or no trading in the whole range)."""
    symbol = plan.symbol
    outcomes: list[UnitOutcome] = []
    empty: list[tuple[date, date]] = []
    for n, (lo, hi) in enumerate(plan.windows, start=1):
        started = datetime.now(UTC)
        uri = aggs_uri(symbol, lo, hi)
        run_id = uuid.uuid4()
        try:
            aggs = list(
                client.list_aggs(
                    symbol,
                    1,
                    "day",
                    lo.isoformat(),
                    hi.isoformat(),
                    adjusted=False,
                    sort="asc",
                    limit=AGGS_LIMIT,
                )
            )
            if not aggs:
                empty.append((lo, hi))
                logger.info("%s window %d/%d %s..%s: no bars", symbol, n, len(plan.windows), lo, hi)
                continue
            result = ingest_rows(
                url,
                symbol_rows(symbol, aggs),
                source=SOURCE,
                source_uri=uri,
                load_run_id=run_id,
                flow_run_id=flow_run_id,
            )
            outcome = outcome_from_result(KIND, result, window=(lo, hi), symbol=symbol)
        except (PolygonError, psycopg2.Error) as exc:
            outcome = failed(KIND, symbol, (lo, hi), uri, f"{type(exc).__name__}: {exc}", run_id)
            with transaction(url) as cur:
                record(cur, outcome, started_at=started, flow_run_id=flow_run_id)
        outcomes.append(outcome)
        (logger.info if outcome.landed else logger.error)(
            "%s window %d/%d %s..%s: %s, %d bars, %d inserted, %d updated, %d quarantined%s",
            symbol,
            n,
            len(plan.windows),
            lo,
            hi,
            outcome.status,
            outcome.received,
            outcome.inserted,
            outcome.updated,
            outcome.rejected,
            f" ({outcome.error})" if outcome.error else "",
        )
        if on_window:
            on_window(outcome)
    if empty:
        outcomes += _record_empty(url, symbol, empty, outcomes, flow_run_id, on_window)
    return outcomes


def _record_empty(
    url: URL,
    symbol: str,
    empty: list[tuple[date, date]],
    outcomes: list[UnitOutcome],
    flow_run_id: str | None,
    on_window: Callable[[UnitOutcome], None] | None,
) -> list[UnitOutcome]:
    has_bars = any(o.received for o in outcomes) or bool(symbols_with_bars(url, [symbol]))
    recorded = []
    started = datetime.now(UTC)
    with transaction(url) as cur:
        for lo, hi in empty:
            uri = aggs_uri(symbol, lo, hi)
            if has_bars:
                outcome = UnitOutcome(
                    KIND,
                    symbol,
                    lo,
                    hi,
                    "success",
                    uri,
                    uuid.uuid4(),
                    error="no bars in this window",
                )
            else:
                outcome = failed(
                    KIND,
                    symbol,
                    (lo, hi),
                    uri,
                    f"Polygon has no bars for {symbol} in {lo}..{hi} nor in any "
                    "other window: unknown ticker, or no trading in the range",
                )
            record(cur, outcome, started_at=started, flow_run_id=flow_run_id)
            recorded.append(outcome)
    for outcome in recorded:
        if on_window:
            on_window(outcome)
    return recorded


def land_symbol_actions(
    url: URL,
    client: RESTClient,
    symbol: str,
    start: date,
    end: date,
    *,
    flow_run_id: str | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
    on_unit: Callable[[object], None] = lambda _outcome: None,
) -> list[UnitOutcome]:
    """A backfilled symbol's splits and dividends in [start, end]; a kind already landed for
    exactly this range is skipped (reported, not re-requested)."""
    outcomes = []
    for kind in ("splits", "dividends"):
        uri = reference.actions_uri(kind, symbol, start, end)
        if uri in landed_uris(url, [uri]):
            outcome = UnitOutcome(
                kind, symbol, start, end, "skipped", uri, uuid.UUID(int=0), error="already landed"
            )
        else:
            outcome = reference.land_corporate_actions(
                url,
                client,
                kind,
                symbol,
                since=start,
                until=end,
                flow_run_id=flow_run_id,
                logger=logger,
            )
        outcomes.append(outcome)
        on_unit(outcome)
    return outcomes
