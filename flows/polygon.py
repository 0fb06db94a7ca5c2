"""Polygon.io flows: daily grouped bars, historical backfill, reference data.

Tables of contents only; the work is in ingest.polygon. Every flow applies the raw migrations,
sets the request budget (the Prefect global concurrency limit `polygon-api`, see
flows.limits), records one raw.load_runs row per unit of work (source `polygon`),
leaves a table artifact of what landed and what failed, and ends Failed when any unit is failed,
partial or not attempted (flows.outcomes: the state message names them; the others are landed).
When Polygon stops answering, the run stops early and records the rest as not attempted
(ingest.units.Breaker, shared by the run's tasks). The API key comes from POLYGON_API_KEY or
the Prefect Secret block `polygon-api-key` (flows.keys).
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from uuid import UUID

from polygon import RESTClient
from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NONE
from prefect.runtime import flow_run
from prefect.states import State
from prefect.task_runners import ThreadPoolTaskRunner

from flows.keys import resolve_api_key
from flows.limits import ensure_rate_limit, prefect_limiter
from flows.outcomes import finish
from flows.tasks import migrate_raw_schema
from ingest.outcomes import Outcome
from ingest.polygon import backfill, daily, reference
from ingest.polygon.calendar import last_closed_session
from ingest.polygon.client import build_client
from ingest.ratelimit import POLYGON_LIMIT
from ingest.units import Breaker, Run, record
from ingest.universe import Universe, choose_universe
from settings import get_settings

CONCURRENT_SYMBOLS = 4  # tasks in flight; they share one request budget


def _flow_run_id() -> str | None:
    return str(flow_run.id) if flow_run.id else None


def _run(breaker: Breaker) -> Run:
    return Run(breaker, _flow_run_id(), get_run_logger())


def _client(breaker: Breaker) -> RESTClient:
    """A client on the run's request budget; `breaker` is shared by the run's tasks."""
    settings = get_settings()
    return build_client(
        resolve_api_key(settings),
        settings.polygon_base_url,
        prefect_limiter(POLYGON_LIMIT),
        logger=get_run_logger(),
        breaker=breaker,
    )


# --- shared tasks -------------------------------------------------------------------------


@task(name="polygon-budget", cache_policy=NONE)
def set_request_budget(requests_per_minute: int | None = None) -> float:
    """Check the API key is available, then create/update the rate limit. Returns req/min."""
    settings = get_settings()
    resolve_api_key(settings)
    rpm = requests_per_minute or settings.polygon_requests_per_minute
    spec = ensure_rate_limit(rpm, POLYGON_LIMIT)
    get_run_logger().info(
        "request budget: %s requests/minute (global concurrency limit %r, slot decay %.4f/s)",
        rpm,
        spec.name,
        spec.slot_decay_per_second,
    )
    return rpm


@task(name="polygon-universe", cache_policy=NONE)
def choose_polygon_universe(
    symbols: list[str] | None, max_symbols: int | None, whole_market: bool = False
) -> Universe:
    settings = get_settings()
    universe = choose_universe(
        settings.warehouse,
        symbols,
        settings.universe,
        whole_market=whole_market,
        max_symbols=max_symbols,
    )
    get_run_logger().info(
        "universe: %s (%s)",
        "whole market" if universe.whole_market else f"{len(universe.symbols)} symbols",
        universe.origin,
    )
    return universe


# --- polygon-daily-ingestion --------------------------------------------------------------


@task(name="polygon-plan-days", cache_policy=NONE)
def plan_days(days_back: int, end: date | None, max_days: int) -> daily.DailyPlan:
    plan = daily.plan_days(
        get_settings().warehouse, days_back=days_back, end=end, max_days=max_days
    )
    get_run_logger().info(
        "watermark %s; %d trading day(s) to fetch up to %s: %s%s%s",
        plan.watermark or "none",
        len(plan.days),
        plan.end,
        ", ".join(d.isoformat() for d in plan.days[:20]),
        f"; {plan.deferred} older missing day(s) left for later runs (max_days {max_days})"
        if plan.deferred
        else "",
        f"; known gaps (no bars after {daily.MAX_EMPTY_ANSWERS} answers): "
        + ", ".join(d.isoformat() for d in plan.known_gaps[-10:])
        if plan.known_gaps
        else "",
    )
    return plan


@task(name="polygon-grouped-day", task_run_name="grouped day {day}", cache_policy=NONE)
def land_grouped_day(
    day: date, universe: list[str] | None, max_symbols: int | None, breaker: Breaker
) -> Outcome:
    return daily.land_grouped_day(
        get_settings().warehouse,
        _client(breaker),
        day,
        universe,
        max_symbols=max_symbols,
        run=_run(breaker),
    )


@flow(name="polygon-daily-ingestion", log_prints=True)
def polygon_daily_ingestion(
    symbols: list[str] | None = None,
    max_symbols: int | None = None,
    days_back: int = 5,
    end: date | None = None,
    whole_market: bool = False,
    requests_per_minute: int | None = None,
    max_days: int = daily.MAX_DAYS,
) -> list[Outcome] | State:
    """End-of-day bars for the US market: one grouped-daily request per trading day.

    Args:
        symbols: keep only these tickers. Default: MDW_UNIVERSE, else the active rows of
            raw.symbols, else the whole market.
        max_symbols: keep at most this many symbols (the first of the list; of the whole
            market, the first tickers alphabetically).
        days_back: with no grouped day landed yet, how many of the latest trading sessions to
            fetch. Once days have landed, every XNYS session after the first landed one that
            has not landed is fetched (the days after the watermark, and failed days).
        end: the last trading day to fetch (default: the last XNYS session closed at least
            an hour ago, so that Polygon has published it).
        whole_market: keep every ticker even if a universe is configured.
        requests_per_minute: the request budget (default POLYGON_REQUESTS_PER_MINUTE).
        max_days: request at most this many trading days per run (the most recent missing
            ones; older gaps are left for later runs or a backfill). A day that Polygon
            answers 3 times with no bars is a known gap and is not requested again.

    Days are fetched oldest first, unadjusted, into raw.daily_bars (source `polygon`). Per
    day, raw.load_runs gets the landed symbols' rows, a `*` row for the day (window = the day)
    and a failed row per universe symbol absent from Polygon's answer.
    """
    migrate_raw_schema()
    set_request_budget(requests_per_minute)
    universe = choose_polygon_universe(symbols, max_symbols, whole_market)
    plan = plan_days(days_back, end, max_days)
    breaker = Breaker("Polygon")
    outcomes = [land_grouped_day(day, universe.symbols, max_symbols, breaker) for day in plan.days]
    note = "" if plan.days else f"up to date through {plan.watermark or plan.end}"
    return finish("polygon-daily-ingestion", "days", outcomes, breaker=breaker, note=note)


# --- polygon-historical-backfill ----------------------------------------------------------


class Progress:
    """Windows done / planned, published as the run's progress artifact."""

    def __init__(self, total: int, key: str):
        self.total = max(total, 0)
        self.done = 0
        self._lock = threading.Lock()
        self.artifact_id: UUID = create_progress_artifact(
            progress=0.0 if self.total else 100.0,
            key=key,
            description=f"{self.total} request units planned",
        )

    def advance(self, _outcome: object = None) -> None:
        with self._lock:
            self.done += 1
            pct = 100.0 * self.done / self.total if self.total else 100.0
        update_progress_artifact(self.artifact_id, progress=min(pct, 100.0))


@task(name="polygon-plan-backfill", cache_policy=NONE)
def plan_backfill(
    symbols: list[str], start: date, end: date, chunk_days: int
) -> list[backfill.SymbolPlan]:
    plans = backfill.plan_backfill(get_settings().warehouse, symbols, start, end, chunk_days)
    logger = get_run_logger()
    for p in plans:
        logger.info(
            "%s: %d window(s) to fetch, %d skipped%s",
            p.symbol,
            len(p.windows),
            len(p.skipped),
            f" (delisted {p.delisted_at})" if p.delisted_at else "",
        )
    return plans


@task(name="polygon-backfill-symbol", task_run_name="backfill {plan.symbol}", cache_policy=NONE)
def backfill_symbol(
    plan: backfill.SymbolPlan,
    start: date,
    end: date,
    include_actions: bool,
    progress: Progress,
    breaker: Breaker,
) -> list[Outcome]:
    url = get_settings().warehouse
    client = _client(breaker)
    run = _run(breaker)
    outcomes = backfill.backfill_symbol(url, client, plan, run, on_window=progress.advance)
    if include_actions:
        outcomes += backfill.land_symbol_actions(
            url, client, plan.symbol, start, end, run, on_unit=progress.advance
        )
    return plan.skipped + outcomes


@flow(
    name="polygon-historical-backfill",
    log_prints=True,
    task_runner=ThreadPoolTaskRunner(max_workers=CONCURRENT_SYMBOLS),
)
def polygon_historical_backfill(
    symbols: list[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    days_back: int = 365,
    chunk_days: int = 365,
    max_symbols: int | None = None,
    include_actions: bool = True,
    requests_per_minute: int | None = None,
) -> list[Outcome] | State:
    """Daily bars for a date range and a symbol list, per symbol, chunked and resumable.

    Args:
        symbols: the tickers to backfill. Default: MDW_UNIVERSE, else the active rows of
            raw.symbols (a backfill never takes the whole market).
        start: first calendar day (default: `end - days_back` days).
        end: last calendar day (default: the last XNYS session closed an hour ago or more).
        days_back: the range's length in calendar days when `start` is not given.
        chunk_days: calendar days per request window; each window is one raw.load_runs row,
            and a rerun skips the windows that already landed.
        max_symbols: backfill at most this many symbols (the first of the list).
        include_actions: also land the symbols' splits and dividends in [start, end] into
            raw.corporate_actions (the bars are unadjusted; dbt adjusts with these).
        requests_per_minute: the request budget (default POLYGON_REQUESTS_PER_MINUTE).

    Symbols run concurrently (a few at a time), all on the one request budget; progress is
    logged per window and published as the `polygon-backfill-progress` artifact.
    """
    migrate_raw_schema()
    set_request_budget(requests_per_minute)
    universe = choose_polygon_universe(symbols, max_symbols)
    if universe.whole_market:
        raise ValueError(
            "a backfill needs symbols: pass `symbols`, set MDW_UNIVERSE or "
            "register symbols in raw.symbols"
        )
    end = end or last_closed_session()
    start = start or end - timedelta(days=days_back - 1)  # days_back days, end included
    plans = plan_backfill(universe.symbols, start, end, chunk_days)
    progress = Progress(
        sum(len(p.windows) for p in plans) + (2 * len(plans) if include_actions else 0),
        key="polygon-backfill-progress",
    )
    breaker = Breaker("Polygon")
    futures = backfill_symbol.map(
        plans,
        unmapped(start),
        unmapped(end),
        unmapped(include_actions),
        unmapped(progress),
        unmapped(breaker),
    )
    outcomes: list[Outcome] = []
    for plan, future in zip(plans, futures, strict=True):
        try:
            outcomes += future.result()
        except Exception as exc:  # a bug or lost budget: record it, keep the other symbols
            lost = backfill.window_unit(plan.symbol, start, end).failed(
                f"{type(exc).__name__}: {exc}"
            )
            outcomes += record(get_settings().warehouse, [lost], _run(breaker))
    return finish("polygon-historical-backfill", "units", outcomes, breaker=breaker)


# --- polygon-reference-data ---------------------------------------------------------------


@task(name="polygon-ticker-listing", task_run_name="tickers active={active}", cache_policy=NONE)
def land_ticker_listing(
    active: bool, breaker: Breaker
) -> tuple[Outcome, dict[str, str | None] | None]:
    """The listing's outcome and its tickers (upper case) -> names; None if it failed."""
    outcome, tickers = reference.land_ticker_listing(
        get_settings().warehouse, _client(breaker), _run(breaker), active=active
    )
    return outcome, reference.listing_names(tickers)


@task(name="polygon-tracked-symbols", cache_policy=NONE)
def tracked_symbols(symbols: list[str] | None) -> list[str]:
    settings = get_settings()
    return reference.universe_symbols(settings.warehouse, symbols or settings.universe or [])


@task(name="polygon-reconcile-delistings", cache_policy=NONE)
def reconcile_delistings(
    tracked: list[str], listed: dict[str, str | None], breaker: Breaker
) -> list[Outcome]:
    outcomes, changed = reference.reconcile_listing(
        get_settings().warehouse,
        _client(breaker),
        tracked,
        listed,
        _run(breaker),
        today=date.today(),
    )
    logger = get_run_logger()
    for st in changed:
        logger.info(
            "raw.symbols %s: %s",
            st.symbol,
            "active" if st.active else f"delisted (delisted_at {st.delisted_at})",
        )
    return outcomes


@task(name="polygon-corporate-actions", task_run_name="{kind} {symbol}", cache_policy=NONE)
def land_corporate_actions(
    kind: str, symbol: str | None, since: date | None, universe: list[str] | None, breaker: Breaker
) -> Outcome:
    return reference.land_corporate_actions(
        get_settings().warehouse,
        _client(breaker),
        kind,
        symbol,
        _run(breaker),
        since=since,
        universe=universe,
    )


@flow(
    name="polygon-reference-data",
    log_prints=True,
    task_runner=ThreadPoolTaskRunner(max_workers=CONCURRENT_SYMBOLS),
)
def polygon_reference_data(
    symbols: list[str] | None = None,
    max_symbols: int | None = None,
    include_tickers: bool = True,
    include_actions: bool = True,
    all_delisted: bool = False,
    since: date | None = None,
    requests_per_minute: int | None = None,
) -> list[Outcome] | State:
    """Tickers, delistings, splits and dividends.

    Args:
        symbols: the symbols to keep current (added to raw.symbols if missing) and fetch
            actions for. Default: MDW_UNIVERSE, else the active rows of raw.symbols, else the
            whole market.
        max_symbols: at most this many symbols for corporate actions.
        include_tickers: list every active US stock ticker into raw.polygon_tickers; then
            mark in raw.symbols the symbols that are listed (active) and those that are not:
            their delisted listing is looked up (one request each) and they are marked
            `active = false` with `delisted_at` (Polygon's delisting date, else today).
        include_actions: land splits and dividends into raw.corporate_actions (source
            `polygon`): per symbol, or for the whole market since `since` when there is no
            universe.
        all_delisted: also list every delisted US stock ticker (many pages).
        since: only actions on or after this day (whole market default: 30 days back; per
            symbol default: full history).
        requests_per_minute: the request budget (default POLYGON_REQUESTS_PER_MINUTE).
    """
    migrate_raw_schema()
    set_request_budget(requests_per_minute)
    breaker = Breaker("Polygon")
    outcomes: list[Outcome] = []
    if include_tickers:
        listing, listed = land_ticker_listing(True, breaker)
        outcomes.append(listing)
        if all_delisted:
            outcomes.append(land_ticker_listing(False, breaker)[0])
        if listed is not None:  # only a complete listing tells what disappeared
            outcomes += reconcile_delistings(tracked_symbols(symbols), listed, breaker)
    if include_actions:
        universe = choose_polygon_universe(symbols, max_symbols)
        if universe.whole_market:
            start = since or date.today() - timedelta(days=30)
            futures = [
                land_corporate_actions.submit(kind, None, start, None, breaker)
                for kind in ("splits", "dividends")
            ]
        else:
            futures = [
                land_corporate_actions.submit(kind, s, since, None, breaker)
                for s in universe.symbols
                for kind in ("splits", "dividends")
            ]
        outcomes += [f.result() for f in futures]
    return finish("polygon-reference-data", "units", outcomes, breaker=breaker)
