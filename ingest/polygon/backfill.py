"""Historical backfill: per-symbol daily aggregates, chunked by date range, resumable.

A symbol's range is cut into windows (`chunk_days` calendar days); each window is one request
(plus its `next_url` pages) and one raw.load_runs row. A rerun skips the windows that already
landed (success or partial, per raw.load_runs), so an interrupted backfill resumes where it
stopped. Windows after a symbol's delisting (raw.symbols) are not requested.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from polygon import RESTClient
from psycopg2.extensions import cursor as Cursor
from sqlalchemy.engine import URL

from ingest.landing import bars_note, land_rows
from ingest.outcomes import SUCCESS, Outcome, Unit
from ingest.polygon import reference, runs
from ingest.polygon.bars import symbol_rows
from ingest.polygon.calendar import missing_windows, sessions
from ingest.polygon.runs import (
    aggs_uri,
    covered_sessions,
    delisting_dates,
    landed_uris,
    symbols_with_bars,
)
from ingest.units import ALONE, Run, record, run_units

log = logging.getLogger(__name__)

KIND = "window"
AGGS_LIMIT = 50_000  # Polygon's maximum base aggregates per request; more come as next_url pages
NO_BARS = "no bars in this window"
OnOutcome = Callable[[Outcome], None]


@dataclass(frozen=True)
class SymbolPlan:
    symbol: str
    windows: list[tuple[date, date]]  # to request, oldest first
    skipped: list[Outcome] = field(default_factory=list)
    delisted_at: date | None = None


def window_unit(symbol: str, lo: date, hi: date) -> Unit:
    return runs.unit(KIND, symbol, aggs_uri(symbol, lo, hi), (lo, hi))


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
        skipped = [
            window_unit(symbol, days[0], days[-1]).outcome(skipped=True, notes=(why,))
            for days, why in (
                (landed, "already landed"),
                (after, f"after the delisting on {last_day}"),
            )
            if days
        ]
        todo = missing_windows(wanted, set(landed), chunk_days)
        plans.append(SymbolPlan(symbol, todo, skipped, last_day))
    return plans


def backfill_symbol(
    url: URL,
    client: RESTClient,
    plan: SymbolPlan,
    run: Run = ALONE,
    *,
    on_window: OnOutcome = lambda _outcome: None,
) -> list[Outcome]:
    """Fetch and land a symbol's windows, oldest first, unadjusted; a failing window is
    recorded as failed and the next one is tried. A window without bars is a success with 0
    rows when the symbol has bars elsewhere (before its listing, a halt); when none of the
    symbol's windows has any, nor did an earlier landing, they are recorded again as failed
    (an unknown symbol, or no trading in the whole range) - so a rerun requests them again."""
    symbol = plan.symbol

    def fetch(unit: Unit) -> list[object]:
        return list(
            client.list_aggs(
                symbol,
                1,
                "day",
                unit.window_start.isoformat(),
                unit.window_end.isoformat(),
                adjusted=False,
                sort="asc",
                limit=AGGS_LIMIT,
            )
        )

    def land(cur: Cursor, unit: Unit, aggs: list[object]) -> Outcome:
        if not aggs:
            return unit.outcome(notes=(NO_BARS,))
        counts = land_rows(cur, unit, symbol_rows(symbol, aggs)).counts
        return unit.outcome(counts=counts, notes=tuple(bars_note(counts)))

    units = [window_unit(symbol, lo, hi) for lo, hi in plan.windows]
    outcomes = run_units(url, units, fetch, land, run, on_outcome=on_window)
    empty = [o for o in outcomes if o.status == SUCCESS and o.notes == (NO_BARS,)]
    if empty and not any(o.received for o in outcomes) and not symbols_with_bars(url, [symbol]):
        unknown = record(
            url,
            [
                replace(
                    o,
                    notes=(),
                    failures=(
                        f"Polygon has no bars for {symbol} in {o.window_start}..{o.window_end} "
                        "nor in any other window: unknown ticker, or no trading in the range",
                    ),
                )
                for o in empty
            ],
            run,
        )
        again = {o.load_run_id: o for o in unknown}
        outcomes = [again.get(o.load_run_id, o) for o in outcomes]
    return outcomes


def land_symbol_actions(
    url: URL,
    client: RESTClient,
    symbol: str,
    start: date,
    end: date,
    run: Run = ALONE,
    *,
    on_unit: OnOutcome = lambda _outcome: None,
) -> list[Outcome]:
    """A backfilled symbol's splits and dividends in [start, end]; a kind already landed for
    exactly this range is skipped (reported, not re-requested)."""
    outcomes = []
    for kind in ("splits", "dividends"):
        uri = reference.actions_uri(kind, symbol, start, end)
        if uri in landed_uris(url, [uri]):
            outcome = reference.actions_unit(kind, symbol, start, end).outcome(
                skipped=True, notes=("already landed",)
            )
            on_unit(outcome)
            outcomes.append(outcome)
            continue
        outcome = reference.land_corporate_actions(
            url, client, kind, symbol, run, since=start, until=end
        )
        on_unit(outcome)
        outcomes.append(outcome)
    return outcomes
