"""`yahoo-market-data` and `yahoo-company-data`: Yahoo Finance into the raw layer.

Both flows: apply the raw migrations, pick the symbols (the `symbols` given, else
`MDW_UNIVERSE`, else the active rows of raw.symbols; at most `max_symbols`), make sure the
`yahoo-api` global concurrency limit matches `YAHOO_REQUESTS_PER_MINUTE`, then work through the
symbols in batches of `YAHOO_BATCH_SIZE` (one task per batch). Every HTTP request takes a slot
of the limit first; rate-limited and transient failures are retried `YAHOO_MAX_RETRIES` times
with exponential backoff. A symbol that fails is recorded (raw.load_runs status `failed` and the
error) and the others go on; the run fails only when every symbol failed. Each run leaves a
table artifact of what it landed and what failed. The work itself is in `ingest.yahoo`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.runtime import flow_run

from flows.limits import ensure_rate_limit, prefect_limiter
from flows.outcomes import finish
from flows.tasks import migrate_raw_schema
from ingest.ratelimit import YAHOO_LIMIT
from ingest.yahoo import build_client
from ingest.yahoo.client import YahooClient
from ingest.yahoo.company import CompanyOutcome, land_symbol_company_data
from ingest.yahoo.market import (
    INTERVALS,
    MarketOutcome,
    Window,
    land_symbol_market_data,
    market_window,
)
from ingest.yahoo.symbols import batches, resolve_symbols
from settings import get_settings


def _flow_run_id() -> str | None:
    return str(flow_run.id) if flow_run.id else None


def _client() -> YahooClient:
    settings = get_settings()
    return build_client(
        max_retries=settings.yahoo_max_retries,
        cache_dir=settings.mdw_home / "yfinance",
        limiter=prefect_limiter(YAHOO_LIMIT),
    )


@task(name="pick-yahoo-symbols")
def pick_yahoo_symbols(symbols: list[str] | None, max_symbols: int | None) -> list[str]:
    settings = get_settings()
    chosen = resolve_symbols(settings.warehouse, symbols, settings.universe, max_symbols)
    get_run_logger().info("%d symbol(s): %s", len(chosen), ", ".join(chosen) or "none")
    return chosen


@task(name="ensure-yahoo-rate-limit")
def ensure_yahoo_rate_limit() -> int:
    rpm = get_settings().yahoo_requests_per_minute
    ensure_rate_limit(rpm, YAHOO_LIMIT)
    get_run_logger().info("global concurrency limit %r: %d requests per minute", YAHOO_LIMIT, rpm)
    return rpm


@task(name="yahoo-market-batch", task_run_name="yahoo market data, batch {number}")
def yahoo_market_batch(
    symbols: list[str],
    number: int,
    interval: str,
    start: date,
    end: date | None,
    include_daily: bool,
    prepost: bool,
    load_run_id: uuid.UUID,
) -> list[MarketOutcome]:
    client = _client()
    logger = get_run_logger()
    outcomes = []
    for symbol in symbols:
        outcome = land_symbol_market_data(
            get_settings().warehouse,
            client,
            symbol,
            interval=interval,
            window=Window(start, end),
            include_daily=include_daily,
            prepost=prepost,
            load_run_id=load_run_id,
            flow_run_id=_flow_run_id(),
        )
        (logger.info if outcome.ok else logger.error)("%s: %s", symbol, outcome.as_row())
        outcomes.append(outcome)
    return outcomes


@task(name="yahoo-company-batch", task_run_name="yahoo company data, batch {number}")
def yahoo_company_batch(
    symbols: list[str], number: int, load_run_id: uuid.UUID
) -> list[CompanyOutcome]:
    client = _client()
    logger = get_run_logger()
    outcomes = []
    for symbol in symbols:
        outcome = land_symbol_company_data(
            get_settings().warehouse,
            client,
            symbol,
            load_run_id=load_run_id,
            flow_run_id=_flow_run_id(),
        )
        (logger.info if outcome.ok else logger.error)("%s: %s", symbol, outcome.as_row())
        outcomes.append(outcome)
    return outcomes


def _finish(key: str, what: str, outcomes: list, load_run_id: uuid.UUID) -> list:
    failed = [o for o in outcomes if not o.ok]
    partial = [o for o in outcomes if o.status == "partial"]
    create_table_artifact(
        key=key,
        table=[o.as_row() for o in outcomes],
        description=(
            f"{what}: {len(outcomes)} symbol(s), {len(outcomes) - len(failed) - len(partial)} "
            f"success, {len(partial)} partial, {len(failed)} failed. load_run_id {load_run_id} "
            "(raw.load_runs); quarantined rows in raw.rejected_bars / raw.rejected_records."
        ),
    )
    return finish("symbols", outcomes, [(o.symbol, o.error or "") for o in failed], len(outcomes))


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
) -> list[MarketOutcome]:
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
    chosen = pick_yahoo_symbols(symbols, max_symbols)
    load_run_id = uuid.uuid4()
    outcomes: list[MarketOutcome] = []
    if chosen:
        ensure_yahoo_rate_limit()
        for number, batch in enumerate(batches(chosen, get_settings().yahoo_batch_size), 1):
            outcomes += yahoo_market_batch(
                batch,
                number,
                interval,
                window.start,
                window.end,
                include_daily,
                prepost,
                load_run_id,
            )
    return _finish(
        "yahoo-market-data",
        f"Yahoo market data {interval} {window.describe()}",
        outcomes,
        load_run_id,
    )


@flow(name="yahoo-company-data", log_prints=True)
def yahoo_company_data(
    symbols: list[str] | None = None,
    max_symbols: int | None = None,
) -> list[CompanyOutcome]:
    """Land Yahoo company data into raw.yahoo_company_data: one snapshot per symbol, dataset, day.

    Args:
        symbols: symbols to fetch (default: MDW_UNIVERSE, else active raw.symbols).
        max_symbols: fetch at most this many of them.

    Datasets: company_profile, key_statistics, financial_statements (income, balance sheet,
    cash flow; annual and quarterly), institutional_holders, company_officers - Yahoo's
    quoteSummary modules as received (JSONB), typed by the dbt models stg_yahoo__*.
    """
    migrate_raw_schema()
    chosen = pick_yahoo_symbols(symbols, max_symbols)
    load_run_id = uuid.uuid4()
    outcomes: list[CompanyOutcome] = []
    if chosen:
        ensure_yahoo_rate_limit()
        for number, batch in enumerate(batches(chosen, get_settings().yahoo_batch_size), 1):
            outcomes += yahoo_company_batch(batch, number, load_run_id)
    return _finish("yahoo-company-data", "Yahoo company data", outcomes, load_run_id)
