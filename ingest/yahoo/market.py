"""Land one symbol's Yahoo market data: daily bars, intraday bars, splits and dividends.

Per symbol, one unit (ingest.units): fetch the daily history (unadjusted, actions on) and the
intraday history, each with its own retries; then land in one transaction the daily bars
(raw.daily_bars, source 'yahoo'), the intraday bars (raw.intraday_bars) and the events
(raw.corporate_actions), with the symbol's raw.load_runs row - counts add up over the parts.

A fetch that fails, or an answer that cannot be read, is that part's failure; the symbol's
status follows the one rule (ingest.outcomes): `failed` when nothing landed, `partial` when a
part failed while another landed (Yahoo answering 422 for an hourly window older than 730 days
while the daily bars land), else `success` - also when Yahoo had no bars in the window: nothing
to land is not an error.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import psycopg2.extensions
from sqlalchemy.engine import URL

from ingest.actions import CorporateAction, actions_note, land_actions
from ingest.intraday import IntradayBar, land_intraday_rows
from ingest.landing import bars_note, land_rows
from ingest.outcomes import Counts, Outcome, Unit
from ingest.units import ALONE, Run, run_units
from ingest.yahoo import parse
from ingest.yahoo.client import FetchError, YahooClient

log = logging.getLogger(__name__)

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


def source_uri(symbol: str, interval: str, window: Window, include_daily: bool) -> str:
    intervals = ",".join(dict.fromkeys([*([DAILY] if include_daily else []), interval]))
    return f"yahoo:v8/finance/chart/{symbol}?interval={intervals}&window={window.describe()}"


@dataclass
class Fetched:
    """What one symbol's fetches gave: rows to land, and what failed or was empty."""

    daily_rows: list[tuple] = field(default_factory=list)
    bars: list[IntradayBar] = field(default_factory=list)
    actions: list[CorporateAction] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    attempts: int = 0


def fetch_symbol(
    client: YahooClient,
    symbol: str,
    *,
    interval: str,
    window: Window,
    include_daily: bool,
    prepost: bool,
) -> Fetched:
    """Every history the symbol needs; each fetch or answer that fails is a failed part."""
    got = Fetched()
    wanted = [DAILY] if include_daily or interval == DAILY else []
    wanted += [interval] if interval != DAILY else []
    for which in wanted:
        try:
            history = client.history(
                symbol,
                interval=which,
                start=window.start,
                end=window.end,
                prepost=prepost and which != DAILY,
            )
        except FetchError as exc:
            got.attempts += exc.attempts
            got.failures.append(f"{which}: {exc}")
            continue
        got.attempts += history.attempts
        if history.empty:
            got.notes.append(f"{which}: Yahoo returned no bars for {window.describe()}")
        try:
            if which == DAILY:
                got.daily_rows = parse.daily_rows(symbol, history.frame)
            else:
                got.bars = parse.intraday_bars(symbol, history.frame, history.exchange_timezone)
            if which == DAILY or not include_daily:
                got.actions += parse.corporate_actions(
                    symbol,
                    history.frame,
                    currency=history.currency,
                    exchange_timezone=history.exchange_timezone,
                    interval=which,
                )
        except Exception as exc:  # noqa: BLE001 - an unexpected frame fails this part only
            got.failures.append(f"{which}: unreadable answer: {type(exc).__name__}: {exc}")
    return got


def market_unit(
    symbol: str, interval: str, window: Window, include_daily: bool, load_run_id: uuid.UUID
) -> Unit:
    return Unit(
        SOURCE,
        "market",
        symbol,
        source_uri(symbol, interval, window, include_daily),
        window.start,
        (window.end - timedelta(days=1)) if window.end else datetime.now(UTC).date(),
        load_run_id,
    )


def land_fetched(
    cur: psycopg2.extensions.cursor, unit: Unit, got: Fetched, interval: str
) -> Outcome:
    """Land what was fetched, in the unit's transaction."""
    landed = [land_rows(cur, unit, got.daily_rows)] if got.daily_rows else []
    landed.append(
        land_intraday_rows(
            cur, got.bars, source=SOURCE, bar_interval=interval, load_run_id=unit.load_run_id
        )
    )
    daily = landed[0].counts if got.daily_rows else Counts()
    intraday = landed[-1].counts
    actions, rejected = land_actions(cur, got.actions, source=SOURCE, load_run_id=unit.load_run_id)
    notes = list(got.notes) + bars_note(daily, "daily bar")
    if intraday.rejected:
        notes.append(f"{intraday.rejected} intraday bar(s) quarantined in raw.rejected_records")
    if rejected:
        notes.append(actions_note(actions, rejected))
    days = [d for o in landed for r in o.rows for d in (r.window_start, r.window_end) if d]
    window = (min(days), max(days)) if days else (unit.window_start, unit.window_end)
    return replace(unit, window_start=window[0], window_end=window[1]).outcome(
        counts=daily + intraday + actions,
        failures=tuple(got.failures),
        notes=tuple(notes),
        parts=(("daily_bars", daily), ("intraday_bars", intraday), ("corporate_actions", actions)),
        attempts=got.attempts,
    )


def land_market_data(
    url: URL,
    client: YahooClient,
    symbols: Sequence[str],
    run: Run = ALONE,
    *,
    interval: str,
    window: Window,
    include_daily: bool = True,
    prepost: bool = False,
    load_run_id: uuid.UUID,
) -> list[Outcome]:
    """Fetch and land each symbol, one unit each (ingest.units): every failure ends in its
    outcome and its raw.load_runs row."""
    if interval not in INTERVALS:
        raise ValueError(f"interval {interval!r} is not one of {', '.join(INTERVALS)}")
    interval = ALIASES.get(interval, interval)
    return run_units(
        url,
        [market_unit(s, interval, window, include_daily, load_run_id) for s in symbols],
        lambda unit: fetch_symbol(
            client,
            unit.symbol,
            interval=interval,
            window=window,
            include_daily=include_daily,
            prepost=prepost,
        ),
        lambda cur, unit, got: land_fetched(cur, unit, got, interval),
        run,
    )
