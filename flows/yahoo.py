"""`yahoo-market-data` and `yahoo-company-data`: Yahoo Finance into the raw layer.

Both flows: apply the raw migrations, pick the symbols (the `symbols` given, else
`MDW_UNIVERSE`, else the active rows of raw.symbols; at most `max_symbols`), make sure the
`yahoo-api` global concurrency limit matches `YAHOO_REQUESTS_PER_MINUTE`, then work through the
symbols in batches of `YAHOO_BATCH_SIZE` (one task per batch). Every HTTP request takes a slot
of the limit first; rate-limited and transient failures are retried `YAHOO_MAX_RETRIES` times
with exponential backoff. Each symbol is one unit, recorded in raw.load_runs whatever happens;
when Yahoo stops answering (a few consecutive requests without any answer) the run stops
early and the remaining symbols are recorded as not attempted. The run ends Failed when any
symbol is failed, partial or not attempted (flows.outcomes), naming them; each run leaves a
table artifact of its symbols. The work itself is in `ingest.yahoo`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.runtime import flow_run
from prefect.states import State

from flows.limits import ensure_rate_limit, prefect_limiter
from flows.outcomes import finish
from flows.tasks import migrate_raw_schema
from ingest.outcomes import Outcome
from ingest.ratelimit import YAHOO_LIMIT
from ingest.units import Breaker, Run
from ingest.universe import batches, choose_universe
from ingest.yahoo import build_client
from ingest.yahoo.client import YahooClient
from ingest.yahoo.company import land_company_data
from ingest.yahoo.market import INTERVALS, Window, land_market_data, market_window
from settings import get_settings


def _flow_run_id() -> str | None:
    return str(flow_run.id) if flow_run.id else None


def _client(breaker: Breaker) -> YahooClient:
    settings = get_settings()
    return build_client(
        max_retries=settings.yahoo_max_retries,
        cache_dir=settings.mdw_home / "yfinance",
        limiter=prefect_limiter(YAHOO_LIMIT),
        breaker=breaker,
    )


def _run(breaker: Breaker) -> Run:
    return Run(breaker, _flow_run_id(), get_run_logger())


@task(name="pick-yahoo-symbols")
def pick_yahoo_symbols(symbols: list[str] | None, max_symbols: int | None) -> list[str]:
    settings = get_settings()
    universe = choose_universe(
        settings.warehouse, symbols, settings.universe, max_symbols=max_symbols
    )
    chosen = universe.symbols or []
    get_run_logger().info("%d symbol(s): %s", len(chosen), ", ".join(chosen) or "none")
    return chosen


@task(name="ensure-yahoo-rate-limit")
def ensure_yahoo_rate_limit() -> int:
    rpm = get_settings().yahoo_requests_per_minute
    ensure_rate_limit(rpm, YAHOO_LIMIT)
    get_run_logger().info("global concurrency limit %r: %d requests per minute", YAHOO_LIMIT, rpm)
    return rpm


def _in_batches(
    chosen: list[str], land_batch: Callable[[list[str], int, Breaker], list[Outcome]]
) -> tuple[list[Outcome], Breaker]:
    """Every chosen symbol, a batch (one task) at a time on the request budget; once Yahoo
    stops answering, all the rest in one last batch (recorded as not attempted)."""
    breaker = Breaker("Yahoo")
    outcomes: list[Outcome] = []
    if chosen:
        ensure_yahoo_rate_limit()
        size = get_settings().yahoo_batch_size
        for number, batch in enumerate(batches(chosen, size, lambda: bool(breaker.reason)), 1):
            outcomes += land_batch(batch, number, breaker)
    return outcomes, breaker


@task(
    name="yahoo-market-batch",
    task_run_name="yahoo market data, batch {number}",
    cache_policy=NONE,
)
def yahoo_market_batch(
    symbols: list[str],
    number: int,
    interval: str,
    window: Window,
    include_daily: bool,
    prepost: bool,
    load_run_id: uuid.UUID,
    breaker: Breaker,
) -> list[Outcome]:
    return land_market_data(
        get_settings().warehouse,
        _client(breaker),
        symbols,
        _run(breaker),
        interval=interval,
        window=window,
        include_daily=include_daily,
        prepost=prepost,
        load_run_id=load_run_id,
    )


@task(
    name="yahoo-company-batch",
    task_run_name="yahoo company data, batch {number}",
    cache_policy=NONE,
)
def yahoo_company_batch(
    symbols: list[str], number: int, load_run_id: uuid.UUID, breaker: Breaker
) -> list[Outcome]:
    return land_company_data(
        get_settings().warehouse, _client(breaker), symbols, _run(breaker), load_run_id=load_run_id
    )


@flow(name="yahoo-market-data", log_prints=True)
def yahoo_market_data(
    symbols: list[str] | None = None,
    max_symbols: int | None = None,
    days_back: int = 7,
    interval: str = "1h",
    include_daily: bool = True,
    start: date | None = None,
    end: date | None = None,
    prepost: bool = False,
) -> list[Outcome] | State:
    """Land Yahoo bars: `interval` bars into raw.intraday_bars, daily bars into raw.daily_bars.

    Args:
        symbols: symbols to fetch (default: MDW_UNIVERSE, else active raw.symbols).
        max_symbols: fetch at most this many of them.
        days_back: the window is the last `days_back` days up to now (ignored with `start`).
        interval: intraday bar size (1m, 2m, 5m, 15m, 30m, 60m, 90m, 1h); "1d" = daily only.
        include_daily: also land daily bars for the same window.
        start: first day of an explicit window (a backfill), with optional exclusive `end`.
        end: day after the last day of the explicit window (default: up to now).
        prepost: include pre- and post-market intraday bars.

    Bars land unadjusted for dividends (auto_adjust off; Yahoo itself already adjusts its
    OHLCV for splits), timestamps in UTC with the exchange time zone; splits and dividends land
    in raw.corporate_actions (source 'yahoo').
    """
    if interval not in INTERVALS:
        raise ValueError(f"interval {interval!r} is not one of {', '.join(INTERVALS)}")
    window = market_window(days_back, start, end, datetime.now(UTC).date())
    migrate_raw_schema()
    load_run_id = uuid.uuid4()
    outcomes, breaker = _in_batches(
        pick_yahoo_symbols(symbols, max_symbols),
        lambda batch, number, breaker: yahoo_market_batch(
            batch, number, interval, window, include_daily, prepost, load_run_id, breaker
        ),
    )
    note = f"{interval} {window.describe()}, load_run_id {load_run_id}"
    return finish("yahoo-market-data", "symbols", outcomes, breaker=breaker, note=note)


@flow(name="yahoo-company-data", log_prints=True)
def yahoo_company_data(
    symbols: list[str] | None = None,
    max_symbols: int | None = None,
) -> list[Outcome] | State:
    """Land Yahoo company data into raw.yahoo_company_data: one snapshot per symbol, dataset, day.

    Args:
        symbols: symbols to fetch (default: MDW_UNIVERSE, else active raw.symbols).
        max_symbols: fetch at most this many of them.

    Datasets: company_profile, key_statistics, financial_statements (income, balance sheet,
    cash flow; annual and quarterly), institutional_holders, company_officers - Yahoo's
    quoteSummary modules as received (JSONB), typed by the dbt models stg_yahoo__*.
    """
    migrate_raw_schema()
    load_run_id = uuid.uuid4()
    outcomes, breaker = _in_batches(
        pick_yahoo_symbols(symbols, max_symbols),
        lambda batch, number, breaker: yahoo_company_batch(batch, number, load_run_id, breaker),
    )
    note = f"load_run_id {load_run_id}"
    return finish("yahoo-company-data", "symbols", outcomes, breaker=breaker, note=note)
