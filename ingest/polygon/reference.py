"""Reference data: tickers (active and delisted), splits and dividends.

Tickers land in raw.polygon_tickers (one row per listing, record as JSONB). raw.symbols - the
universe - is kept in step: symbols Polygon lists as active are marked active, symbols that
Polygon reports delisted, or that disappeared from a complete active listing, are marked
`active = false` with `delisted_at` (Polygon's delisting date, else the day it was noticed).
Splits and dividends go to raw.corporate_actions through ingest.actions.land_actions.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from polygon import RESTClient
from polygon.rest.models import Dividend, Split, Ticker
from psycopg2.extensions import cursor as Cursor
from psycopg2.extras import Json, execute_values
from sqlalchemy.engine import URL

from ingest.actions import CorporateAction, actions_note, land_actions
from ingest.db import transaction
from ingest.outcomes import Counts, Outcome, Unit
from ingest.polygon import SOURCE, runs
from ingest.units import ALONE, Run, run_unit

log = logging.getLogger(__name__)

MARKET = "stocks"
PAGE = 1000  # Polygon's maximum page size for the reference endpoints


# --- pure mapping -------------------------------------------------------------------------


def _details(model: object) -> dict:
    return {
        k: (str(v) if isinstance(v, Decimal) else v)
        for k, v in vars(model).items()
        if v is not None
    }


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def ticker_row(t: Ticker, load_run_id: uuid.UUID) -> tuple:
    """A raw.polygon_tickers row: a delisted listing is keyed by its delisting instant."""
    listing_key = "active" if t.active else (t.delisted_utc or "inactive")
    return (
        t.market or MARKET,
        t.ticker,
        listing_key,
        t.name,
        t.type,
        bool(t.active),
        t.primary_exchange,
        t.cik,
        t.composite_figi,
        t.share_class_figi,
        t.currency_name,
        _day(t.delisted_utc),
        t.last_updated_utc,
        Json(json.loads(json.dumps(_details(t), default=str))),
        str(load_run_id),
    )


def split_action(s: Split) -> CorporateAction:
    """Polygon's split_from/split_to are the table's split_from/split_to (4:1 is from 1 to 4)."""
    return CorporateAction(
        symbol=s.ticker or "",
        action_type="split",
        ex_date=s.execution_date,
        split_from=s.split_from,
        split_to=s.split_to,
        details=_details(s),
    )


def dividend_actions(dividends: Iterable[Dividend]) -> list[CorporateAction]:
    """One action per ticker and ex-date; several cash distributions on the same ex-date (a
    regular and a special dividend) are summed, each kept in `details.components`."""
    grouped: dict[tuple[str, str], list[Dividend]] = {}
    for d in dividends:
        grouped.setdefault((d.ticker or "", str(d.ex_dividend_date or "")), []).append(d)
    actions = []
    for (ticker, ex_date), items in grouped.items():
        if len(items) == 1:
            d = items[0]
            actions.append(
                CorporateAction(
                    symbol=ticker,
                    action_type="dividend",
                    ex_date=d.ex_dividend_date,
                    cash_amount=d.cash_amount,
                    currency=d.currency,
                    details=_details(d),
                )
            )
            continue
        currencies = {d.currency for d in items}
        amounts = [d.cash_amount for d in items]
        total = (
            sum(Decimal(str(a)) for a in amounts)
            if len(currencies) == 1 and all(a is not None for a in amounts)
            else None
        )
        actions.append(
            CorporateAction(
                symbol=ticker,
                action_type="dividend",
                ex_date=ex_date or None,
                cash_amount=total,
                currency=next(iter(currencies)) if len(currencies) == 1 else None,
                details={"components": [_details(d) for d in items]},
            )
        )
    return actions


# --- tickers ------------------------------------------------------------------------------

UPSERT_TICKERS_SQL = """
insert into raw.polygon_tickers as t (
    market, ticker, listing_key, name, type, active, primary_exchange, cik, composite_figi,
    share_class_figi, currency_name, delisted_at, last_updated_utc, record, load_run_id
) values %s
on conflict (market, ticker, listing_key) do update
    set name = excluded.name, type = excluded.type, active = excluded.active,
        primary_exchange = excluded.primary_exchange, cik = excluded.cik,
        composite_figi = excluded.composite_figi, share_class_figi = excluded.share_class_figi,
        currency_name = excluded.currency_name, delisted_at = excluded.delisted_at,
        last_updated_utc = excluded.last_updated_utc, record = excluded.record,
        loaded_at = now(), load_run_id = excluded.load_run_id
    where t.record is distinct from excluded.record
returning (xmax = 0) as inserted
"""


def tickers_uri(*, active: bool, ticker: str | None = None) -> str:
    query = f"market={MARKET}&active={str(active).lower()}"
    return f"polygon:/v3/reference/tickers?{query}" + (f"&ticker={ticker}" if ticker else "")


def upsert_tickers(cur: Cursor, tickers: Sequence[Ticker], load_run_id: uuid.UUID) -> Counts:
    """Listings upserted (a repeat of a listing in the answer counts as unchanged)."""
    rows = {}
    for t in tickers:
        if t.ticker:
            row = ticker_row(t, load_run_id)
            rows[row[:3]] = row
    flags = execute_values(cur, UPSERT_TICKERS_SQL, list(rows.values()), fetch=True) if rows else []
    inserted = sum(1 for (flag,) in flags if flag)
    updated = len(flags) - inserted
    return Counts(len(tickers), inserted, updated, len(tickers) - inserted - updated)


def land_ticker_listing(
    url: URL,
    client: RESTClient,
    run: Run = ALONE,
    *,
    active: bool = True,
) -> tuple[Outcome, list[Ticker] | None]:
    """Every US stock ticker Polygon lists (all pages), active or delisted, into
    raw.polygon_tickers. Returns the outcome and the tickers (None if the listing failed: an
    incomplete listing must not be used to decide what disappeared)."""
    kind = "tickers" if active else "delisted-tickers"
    listed: list[Ticker] = []

    def fetch(_unit: Unit) -> list[Ticker]:
        return list(client.list_tickers(market=MARKET, active=active, limit=PAGE))

    def land(cur: Cursor, unit: Unit, tickers: list[Ticker]) -> Outcome:
        listed.extend(tickers)
        return unit.outcome(counts=upsert_tickers(cur, tickers, unit.load_run_id))

    outcome = run_unit(url, runs.unit(kind, None, tickers_uri(active=active)), fetch, land, run)
    return outcome, (listed if outcome.landed else None)


@dataclass(frozen=True)
class SymbolStatus:
    symbol: str
    active: bool
    delisted_at: date | None
    name: str | None = None


def listed_statuses(
    tracked: Sequence[str], listed: Mapping[str, str | None]
) -> tuple[list[SymbolStatus], list[str]]:
    """(active statuses of the tracked symbols in the active listing `listed` - upper-case
    ticker -> name -, the tracked symbols it lacks)."""
    present = [
        SymbolStatus(s.upper(), True, None, listed[s.upper()])
        for s in tracked
        if s.upper() in listed
    ]
    absent = [s.upper() for s in tracked if s.upper() not in listed]
    return present, absent


def latest_listing(records: Sequence[Ticker], symbol: str) -> Ticker | None:
    """The most recently delisted of `symbol`'s past listings - only a listing whose ticker is
    exactly the symbol asked for counts (Polygon's search may answer with others)."""
    dated = [r for r in records if r.ticker and r.ticker.strip().upper() == symbol.upper()]
    return max(dated, key=lambda r: r.delisted_utc or "", default=None)


def look_up_delisted(
    url: URL,
    client: RESTClient,
    symbol: str,
    run: Run = ALONE,
    *,
    today: date,
) -> tuple[Outcome, SymbolStatus | None]:
    """A universe symbol missing from the active listing: its delisted listings (one request),
    landed in raw.polygon_tickers. Status None when the lookup failed (then nothing changes)."""
    found: list[SymbolStatus] = []

    def fetch(_unit: Unit) -> list[Ticker]:
        return list(client.list_tickers(ticker=symbol, market=MARKET, active=False, limit=PAGE))

    def land(cur: Cursor, unit: Unit, records: list[Ticker]) -> Outcome:
        counts = upsert_tickers(cur, records, unit.load_run_id)
        last = latest_listing(records, symbol)
        when = (_day(last.delisted_utc) if last is not None else None) or today
        note = (
            f"delisted on {when.isoformat()} per Polygon: marked inactive"
            if last is not None
            else "in neither Polygon's active nor delisted listings: marked inactive "
            f"as of {today.isoformat()}"
        )
        found.append(SymbolStatus(symbol, False, when, last.name if last else None))
        return replace(unit, window_start=when, window_end=when).outcome(
            counts=counts, notes=(note,)
        )

    unit = runs.unit("delisting", symbol, tickers_uri(active=False, ticker=symbol))
    outcome = run_unit(url, unit, fetch, land, run)
    return outcome, (found[0] if outcome.landed and found else None)


def reconcile_listing(
    url: URL,
    client: RESTClient,
    tracked: Sequence[str],
    listed: Mapping[str, str | None],
    run: Run = ALONE,
    *,
    today: date,
) -> tuple[list[Outcome], list[SymbolStatus]]:
    """Delisting reconciliation after a complete active listing (`listed`: upper-case ticker
    -> name): tracked symbols in it are active; each one missing is looked up among the
    delisted listings (one request) and marked inactive. Returns the look-ups' outcomes and
    the raw.symbols rows that changed."""
    statuses, absent = listed_statuses(tracked, listed)
    outcomes: list[Outcome] = []
    for symbol in absent:
        outcome, status = look_up_delisted(url, client, symbol, run, today=today)
        outcomes.append(outcome)
        statuses += [status] if status is not None else []
    return outcomes, sync_symbols(url, statuses)


def listing_names(tickers: Iterable[Ticker] | None) -> dict[str, str | None] | None:
    """upper-case ticker -> name of a listing; None for a listing that failed."""
    return None if tickers is None else {t.ticker.upper(): t.name for t in tickers if t.ticker}


def universe_symbols(url: URL, explicit: Sequence[str]) -> list[str]:
    """Every raw.symbols row plus the explicit symbols (the ones reference data keeps current)."""
    with transaction(url) as cur:
        cur.execute("select symbol from raw.symbols")
        known = {row[0] for row in cur.fetchall()}
    return sorted(known | {s.upper() for s in explicit})


SYNC_SYMBOL_SQL = """
insert into raw.symbols as s (symbol, name, active, delisted_at, source)
values (%(symbol)s, %(name)s, %(active)s, %(delisted_at)s, %(source)s)
on conflict (symbol) do update
    set active = excluded.active,
        delisted_at = case when excluded.active then null
                           else coalesce(s.delisted_at, excluded.delisted_at) end,
        name = coalesce(excluded.name, s.name), updated_at = now()
    where (s.active, s.name) is distinct from (excluded.active, coalesce(excluded.name, s.name))
       or (excluded.active and s.delisted_at is not null)
       or (not excluded.active and s.delisted_at is null)
returning symbol, active, delisted_at
"""


def sync_symbols(url: URL, statuses: Iterable[SymbolStatus]) -> list[SymbolStatus]:
    """Write the universe's status into raw.symbols (new symbols with source `polygon`; an
    existing row keeps its source). Returns the rows that changed."""
    changed = []
    with transaction(url) as cur:
        for st in statuses:
            cur.execute(
                SYNC_SYMBOL_SQL,
                {
                    "symbol": st.symbol.upper(),
                    "name": st.name,
                    "active": st.active,
                    "delisted_at": st.delisted_at,
                    "source": SOURCE,
                },
            )
            row = cur.fetchone()
            if row:
                changed.append(SymbolStatus(row[0], row[1], row[2], st.name))
    return changed


# --- corporate actions --------------------------------------------------------------------


def actions_uri(kind: str, symbol: str | None, since: date | None, until: date | None) -> str:
    field = "execution_date" if kind == "splits" else "ex_dividend_date"
    parts = [f"ticker={symbol}"] if symbol else []
    if since:
        parts.append(f"{field}.gte={since.isoformat()}")
    if until:
        parts.append(f"{field}.lte={until.isoformat()}")
    return f"polygon:/v3/reference/{kind}" + ("?" + "&".join(parts) if parts else "")


def fetch_actions(
    client: RESTClient, kind: str, symbol: str | None, since: date | None, until: date | None
) -> list[CorporateAction]:
    if kind == "splits":
        return [
            split_action(s)
            for s in client.list_splits(
                ticker=symbol,
                execution_date_gte=since.isoformat() if since else None,
                execution_date_lte=until.isoformat() if until else None,
                limit=PAGE,
            )
        ]
    if kind == "dividends":
        return dividend_actions(
            client.list_dividends(
                ticker=symbol,
                ex_dividend_date_gte=since.isoformat() if since else None,
                ex_dividend_date_lte=until.isoformat() if until else None,
                limit=PAGE,
            )
        )
    raise ValueError(f"unknown corporate action kind {kind!r}")


def actions_unit(kind: str, symbol: str | None, since: date | None, until: date | None) -> Unit:
    return runs.unit(kind, symbol, actions_uri(kind, symbol, since, until), (since, until))


def land_corporate_actions(
    url: URL,
    client: RESTClient,
    kind: str,
    symbol: str | None,
    run: Run = ALONE,
    *,
    since: date | None = None,
    until: date | None = None,
    universe: Sequence[str] | None = None,
) -> Outcome:
    """One symbol's splits or dividends (symbol None: the whole market's, kept to `universe`
    when given) into raw.corporate_actions; invalid events are quarantined in
    raw.rejected_records. Failures are recorded, not raised."""

    def fetch(_unit: Unit) -> list[CorporateAction]:
        actions = fetch_actions(client, kind, symbol, since, until)
        if universe is None:
            return actions
        wanted = {s.upper() for s in universe}
        return [a for a in actions if a.symbol.strip().upper() in wanted]

    def land(cur: Cursor, unit: Unit, actions: list[CorporateAction]) -> Outcome:
        counts, rejected = land_actions(cur, actions, source=SOURCE, load_run_id=unit.load_run_id)
        return unit.outcome(
            counts=counts, notes=(actions_note(counts, rejected),) if rejected else ()
        )

    return run_unit(url, actions_unit(kind, symbol, since, until), fetch, land, run)
