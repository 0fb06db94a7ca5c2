"""Land one symbol's Yahoo market data: daily bars, intraday bars, splits and dividends.

Per symbol: fetch the daily history (unadjusted, actions on) and land it with `ingest_rows`
(raw.daily_bars, source 'yahoo', its own transaction and load-run row), then fetch the intraday
history and land its bars (raw.intraday_bars) and the events (raw.corporate_actions) in a second
transaction that also completes the symbol's raw.load_runs row: counts add up over the parts, the
status and error describe the whole symbol. A failure is captured in the outcome and the load-run
row - it never escapes to sink the other symbols.

Status of a symbol: `failed` when every fetch failed or every received row was quarantined,
`partial` when one fetch failed or some rows were quarantined, else `success` (also when Yahoo
had no bars in the window: nothing to land is not an error).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

import psycopg2
import psycopg2.extensions
from sqlalchemy.engine import URL

from ingest import load_runs
from ingest.actions import CorporateAction, land_actions
from ingest.db import transaction
from ingest.files import FileFormatError
from ingest.intraday import IntradayBar, land_intraday_rows
from ingest.landing import ingest_rows
from ingest.yahoo import parse
from ingest.yahoo.client import FetchError, History, YahooClient

SOURCE = "yahoo"
DAILY = "1d"
INTRADAY_INTERVALS = ("1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h")
INTERVALS = (*INTRADAY_INTERVALS, DAILY)
ALIASES = {"60m": "1h"}  # the same bars under two names: land them under one


@dataclass(frozen=True)
class Window:
    """Trading days [start, end); end None means up to now."""

    start: date
    end: date | None

    def describe(self) -> str:
        return f"{self.start}..{self.end or 'now'}"


def market_window(days_back: int, start: date | None, end: date | None, today: date) -> Window:
    """The window a run fetches: explicit start/end win, else the last `days_back` days."""
    if start is not None:
        if end is not None and end <= start:
            raise ValueError(f"end {end} must be after start {start}")
        return Window(start, end)
    if days_back < 1:
        raise ValueError("days_back must be at least 1")
    return Window(today - timedelta(days=days_back), end)


@dataclass(frozen=True)
class PartCounts:
    received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def __add__(self, other: PartCounts) -> PartCounts:
        return PartCounts(
            *(a + b for a, b in zip(asdict(self).values(), asdict(other).values(), strict=True))
        )


@dataclass(frozen=True)
class MarketOutcome:
    symbol: str
    status: str
    daily: PartCounts | None = None
    intraday: PartCounts | None = None
    actions: PartCounts | None = None
    attempts: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def as_row(self) -> dict[str, object]:
        """One row of the run's table artifact."""

        def show(p: PartCounts | None) -> str:
            if p is None:
                return "-"
            return f"{p.received} recv / {p.inserted} new / {p.updated} upd / {p.rejected} rej"

        return {
            "symbol": self.symbol,
            "status": self.status,
            "daily_bars": show(self.daily),
            "intraday_bars": show(self.intraday),
            "corporate_actions": show(self.actions),
            "attempts": self.attempts,
            "error": "; ".join(x for x in (self.error, *self.notes) if x) or "",
        }


def symbol_status(fetches_failed: int, fetches_ok: int, received: int, rejected: int) -> str:
    if fetches_failed and not fetches_ok:
        return "failed"
    if received and rejected == received:
        return "failed"
    if fetches_failed or rejected:
        return "partial"
    return "success"


def source_uri(symbol: str, interval: str, window: Window, include_daily: bool) -> str:
    intervals = ",".join(dict.fromkeys([*([DAILY] if include_daily else []), interval]))
    return f"yahoo:v8/finance/chart/{symbol}?interval={intervals}&window={window.describe()}"


def land_symbol_market_data(
    url: URL,
    client: YahooClient,
    symbol: str,
    *,
    interval: str,
    window: Window,
    include_daily: bool = True,
    prepost: bool = False,
    load_run_id: uuid.UUID,
    flow_run_id: str | None = None,
) -> MarketOutcome:
    """Fetch and land one symbol; every failure ends in the outcome and raw.load_runs."""
    if interval not in INTERVALS:
        raise ValueError(f"interval {interval!r} is not one of {', '.join(INTERVALS)}")
    interval = ALIASES.get(interval, interval)
    started = datetime.now(UTC)
    uri = source_uri(symbol, interval, window, include_daily)
    errors: list[str] = []
    notes: list[str] = []
    attempts = fetch_ok = fetch_failed = 0
    actions: list[CorporateAction] = []
    bars: list[IntradayBar] = []
    daily_rows: list[tuple] = []
    windows: list[date] = []

    def fetch(which: str) -> History | None:
        nonlocal attempts, fetch_ok, fetch_failed
        try:
            history = client.history(
                symbol,
                interval=which,
                start=window.start,
                end=window.end,
                prepost=prepost and which != DAILY,
            )
        except FetchError as exc:
            attempts += exc.attempts
            fetch_failed += 1
            errors.append(f"{which}: {exc}")
            return None
        attempts += history.attempts
        fetch_ok += 1
        if history.empty:
            notes.append(f"{which}: Yahoo returned no bars for {window.describe()}")
        return history

    def read(which: str, history: History) -> None:
        """Rows and events from yfinance's frame; an unexpected frame fails this part only."""
        nonlocal daily_rows, bars, fetch_ok, fetch_failed
        try:
            if which == DAILY:
                daily_rows = parse.daily_rows(symbol, history.frame)
            else:
                bars = parse.intraday_bars(symbol, history.frame, history.exchange_timezone)
            if which == DAILY or not include_daily:
                actions.extend(
                    parse.corporate_actions(
                        symbol,
                        history.frame,
                        currency=history.currency,
                        exchange_timezone=history.exchange_timezone,
                        interval=which,
                    )
                )
        except Exception as exc:  # noqa: BLE001 - recorded as this part's failure
            fetch_ok -= 1
            fetch_failed += 1
            errors.append(f"{which}: unreadable answer: {type(exc).__name__}: {exc}")

    for which in ([DAILY] if include_daily or interval == DAILY else []) + (
        [interval] if interval != DAILY else []
    ):
        history = fetch(which)
        if history is not None:
            read(which, history)

    daily = intraday = landed_actions = None
    try:
        if daily_rows:
            result = ingest_rows(
                url,
                daily_rows,
                source=SOURCE,
                source_uri=uri,
                load_run_id=load_run_id,
                flow_run_id=flow_run_id,
            )
            daily = sum(
                (
                    PartCounts(s.received, s.inserted, s.updated, s.unchanged, s.rejected)
                    for s in result.symbols
                ),
                PartCounts(),
            )
            windows += [d for s in result.symbols for d in (s.window_start, s.window_end) if d]
        with transaction(url) as cur:
            if bars:
                result = land_intraday_rows(
                    cur, bars, source=SOURCE, bar_interval=interval, load_run_id=load_run_id
                )
                intraday = PartCounts(
                    result.received,
                    result.inserted,
                    result.updated,
                    result.unchanged,
                    result.rejected,
                )
                windows += [d for s in result.symbols for d in (s.window_start, s.window_end) if d]
            if actions:
                result = land_actions(cur, actions, source=SOURCE, load_run_id=load_run_id)
                landed_actions = PartCounts(
                    result.received,
                    result.inserted,
                    result.updated,
                    result.unchanged,
                    len(result.rejected),
                )
            status, error = _summary(
                daily, intraday, landed_actions, fetch_ok, fetch_failed, errors
            )
            _record(
                cur,
                symbol,
                load_run_id=load_run_id,
                uri=uri,
                status=status,
                error=error,
                parts=[intraday, landed_actions],
                windows=windows,
                window=window,
                started=started,
                flow_run_id=flow_run_id,
            )
    except (psycopg2.Error, FileFormatError) as exc:
        errors.append(f"database: {type(exc).__name__}: {str(exc).strip()}")
        status = "partial" if daily is not None and daily.received > daily.rejected else "failed"
        error = "; ".join(errors)[:4000]
        try:
            with transaction(url) as cur:
                _record(
                    cur,
                    symbol,
                    load_run_id=load_run_id,
                    uri=uri,
                    status=status,
                    error=error,
                    parts=[],
                    windows=windows,
                    window=window,
                    started=started,
                    flow_run_id=flow_run_id,
                )
        except psycopg2.Error as again:  # the database is gone: the outcome still says so
            error += f"; load run not recorded: {type(again).__name__}: {again}"
    return MarketOutcome(symbol, status, daily, intraday, landed_actions, attempts, error, notes)


def _summary(
    daily: PartCounts | None,
    intraday: PartCounts | None,
    actions: PartCounts | None,
    fetch_ok: int,
    fetch_failed: int,
    errors: list[str],
) -> tuple[str, str | None]:
    total = sum((p for p in (daily, intraday, actions) if p is not None), PartCounts())
    status = symbol_status(fetch_failed, fetch_ok, total.received, total.rejected)
    messages = list(errors)
    if daily is not None and daily.rejected:
        messages.append(f"{daily.rejected} daily bar(s) quarantined in raw.rejected_bars")
    if intraday is not None and intraday.rejected:
        messages.append(f"{intraday.rejected} intraday bar(s) quarantined in raw.rejected_records")
    if actions is not None and actions.rejected:
        messages.append(
            f"{actions.rejected} corporate action(s) quarantined in raw.rejected_records"
        )
    return status, "; ".join(messages)[:4000] or None


def _record(
    cur: psycopg2.extensions.cursor,
    symbol: str,
    *,
    load_run_id: uuid.UUID,
    uri: str,
    status: str,
    error: str | None,
    parts: list[PartCounts | None],
    windows: list[date],
    window: Window,
    started: datetime,
    flow_run_id: str | None,
) -> None:
    """Complete the symbol's load-run row (adds to what ingest_rows wrote for the daily part)."""
    total = sum((p for p in parts if p is not None), PartCounts())
    last_day = (window.end - timedelta(days=1)) if window.end else datetime.now(UTC).date()
    load_runs.write(
        cur,
        load_runs.LoadRun(
            load_run_id=load_run_id,
            source=SOURCE,
            symbol=symbol,
            status=status,
            started_at=started,
            window_start=min(windows) if windows else window.start,
            window_end=max(windows) if windows else last_day,
            received=total.received,
            inserted=total.inserted,
            updated=total.updated,
            unchanged=total.unchanged,
            rejected=total.rejected,
            error=error,
            source_uri=uri,
            flow_run_id=flow_run_id,
        ),
    )
