"""Intraday bars into raw.intraday_bars: the same checks as daily bars, bad rows quarantined.

Any source calls `land_intraday_rows` with what it received: one row per bar, in the order of
`INTRADAY_COLUMNS` (an `IntradayBar` or any sequence; None for a missing value). Every row either
lands or goes to raw.rejected_records (record_kind 'intraday_bar') as received, with every reason
that applies - the reasons read as those of raw.rejected_bars: missing / unparseable symbol,
bar_start or price, NaN or infinite values, non-positive prices, negative volume, `high < low`,
open or close outside `[low, high]`, and conflicting or repeated rows for the same symbol and
bar_start within one call. `bar_start` must carry its UTC offset (an aware datetime or an ISO
string with an offset): an intraday instant without one is ambiguous and is rejected.

The rest is upserted on (source, symbol, bar_interval, bar_start): a bar whose values did not
change is not touched (its loaded_at and load_run_id stay), a restated bar is updated. Runs inside
the caller's transaction; returns per-symbol counts for raw.load_runs.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg2.extensions
from psycopg2.extras import execute_values

from ingest import checks
from ingest.merge import rows_outcome
from ingest.outcomes import ALL_SYMBOLS, Counts, Outcome, Unit
from ingest.quarantine import quarantine_record

RECORD_KIND = "intraday_bar"
INTRADAY_COLUMNS = (
    "symbol",
    "bar_start",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "exchange_timezone",
)
PRICE_COLUMNS = ("open", "high", "low", "close")


class IntradayBar(NamedTuple):
    """One bar as a source reported it (values as received; None = missing)."""

    symbol: object
    bar_start: object
    open: object
    high: object
    low: object
    close: object
    volume: object
    exchange_timezone: object = None


@dataclass(frozen=True)
class CheckedBar:
    """A row after the checks: typed values when it passed, the reasons when it did not."""

    received: tuple
    symbol: str | None
    bar_start: datetime | None
    values: tuple[Decimal, ...] | None  # open, high, low, close, volume
    exchange_timezone: str | None
    problems: tuple[str, ...]


class _Bad(Exception):
    """A value that is present but cannot be used; the message names why."""


def _decimal(value: object) -> Decimal | None:
    """None when missing; raises _Bad('unparseable') for anything that is not a finite number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise _Bad("unparseable")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Bad("unparseable")
        return Decimal(repr(value))
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _Bad("unparseable") from None
    if not number.is_finite():
        raise _Bad("unparseable")
    return number


def _instant(value: object) -> datetime | None:
    """The UTC instant of bar_start; None when missing; _Bad when unusable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _Bad("unparseable bar_start") from None
    else:
        raise _Bad("unparseable bar_start")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _Bad("bar_start without time zone")
    return moment.astimezone(UTC)


def _timezone(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    name = str(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Bad(f"unknown exchange_timezone {name!r}") from None
    return name


def check_bar(row: Sequence[object]) -> CheckedBar:
    """Every reason a row cannot land (pure); the typed values when it can."""
    received = tuple(row) + (None,) * (len(INTRADAY_COLUMNS) - len(row))
    raw = dict(zip(INTRADAY_COLUMNS, received, strict=True))
    problems: list[str] = []

    symbol = str(raw["symbol"]).strip().upper() if raw["symbol"] is not None else ""
    if problem := checks.symbol_problem(symbol):
        problems.append(problem)

    bar_start = None
    try:
        bar_start = _instant(raw["bar_start"])
        if bar_start is None:
            problems.append("missing bar_start")
    except _Bad as bad:
        problems.append(str(bad))

    numbers: dict[str, Decimal | None] = {}
    for name in (*PRICE_COLUMNS, "volume"):
        try:
            number = _decimal(raw[name])
        except _Bad:
            problems.append(f"unparseable {name}")
            numbers[name] = None
            continue
        numbers[name] = number
        if problem := checks.number_problem(name, number):
            problems.append(problem)

    timezone = None
    try:
        timezone = _timezone(raw["exchange_timezone"])
    except _Bad as bad:
        problems.append(str(bad))

    if bar_start is not None and not problems:
        zone = ZoneInfo(timezone or checks.EXCHANGE_TIMEZONE)
        if problem := checks.date_problem(bar_start.astimezone(zone).date()):
            problems.append(problem)

    if not problems:
        problems += checks.ohlc_problems(*(numbers[n] for n in PRICE_COLUMNS))

    values = None if problems else tuple(numbers[n] for n in (*PRICE_COLUMNS, "volume"))
    return CheckedBar(received, symbol or None, bar_start, values, timezone, tuple(problems))


def classify(rows: Iterable[Sequence[object]]) -> tuple[list[CheckedBar], list[tuple[tuple, str]]]:
    """Split rows into bars that can land and (row as received, reason) for the rest.

    Within one call, copies of a (symbol, bar_start) that disagree are all rejected; identical
    copies land once and the repeats are rejected - as the file source does per file.
    """
    checked = [check_bar(row) for row in rows]
    rejected: list[tuple[tuple, str]] = []
    by_key: dict[tuple[str, datetime], list[CheckedBar]] = {}
    for bar in checked:
        if bar.problems:
            rejected.append((bar.received, "; ".join(bar.problems)))
        else:
            by_key.setdefault((bar.symbol, bar.bar_start), []).append(bar)
    good: list[CheckedBar] = []
    for copies in by_key.values():
        versions = {(c.values, c.exchange_timezone) for c in copies}
        if len(versions) > 1:
            rejected += [
                (c.received, "conflicting duplicate of symbol and bar_start within the batch")
                for c in copies
            ]
            continue
        good.append(copies[0])
        rejected += [
            (c.received, "repeated row within the batch (first copy landed)") for c in copies[1:]
        ]
    return good, rejected


def _as_received(value: object) -> object:
    """A JSON-safe rendering of a received value (NaN stays visible as the text 'nan')."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _local_date(bar: CheckedBar) -> date:
    zone = ZoneInfo(bar.exchange_timezone) if bar.exchange_timezone else UTC
    return bar.bar_start.astimezone(zone).date()


UPSERT_SQL = """
insert into raw.intraday_bars as b (
    source, symbol, bar_interval, bar_start, exchange_timezone, open, high, low, close, volume,
    load_run_id
) values %s
on conflict (source, symbol, bar_interval, bar_start) do update
    set exchange_timezone = excluded.exchange_timezone,
        open = excluded.open, high = excluded.high, low = excluded.low,
        close = excluded.close, volume = excluded.volume,
        loaded_at = now(), load_run_id = excluded.load_run_id
    where (b.open, b.high, b.low, b.close, b.volume, b.exchange_timezone)
          is distinct from
          (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume,
           excluded.exchange_timezone)
returning b.symbol, (b.xmax = 0) as inserted
"""


def land_intraday_rows(
    cur: psycopg2.extensions.cursor,
    rows: Iterable[Sequence[object]],
    *,
    source: str,
    bar_interval: str,
    load_run_id: uuid.UUID,
) -> Outcome:
    """Check, quarantine and upsert intraday bars inside the caller's transaction; the counts,
    with a row per symbol (identical rejects are quarantined once, with their count)."""
    good, rejected = classify(rows)
    copies = Counter(repr(r) for r in rejected)
    for received, reason in {repr(r): r for r in rejected}.values():
        payload = {
            name: _as_received(v) for name, v in zip(INTRADAY_COLUMNS, received, strict=True)
        }
        payload["bar_interval"] = bar_interval
        symbol = payload["symbol"]
        quarantine_record(
            cur,
            source=source,
            record_kind=RECORD_KIND,
            symbol=str(symbol).strip().upper() if symbol is not None else None,
            payload=payload,
            reason=reason,
            load_run_id=load_run_id,
            occurrences=copies[repr((received, reason))],
        )

    changed: dict[str, list[int]] = {}
    if good:
        values = [
            (
                source,
                b.symbol,
                bar_interval,
                b.bar_start,
                b.exchange_timezone,
                *b.values,
                str(load_run_id),
            )
            for b in good
        ]
        for symbol, inserted in execute_values(cur, UPSERT_SQL, values, fetch=True):
            counts = changed.setdefault(symbol, [0, 0])
            counts[0 if inserted else 1] += 1

    per_symbol: dict[str, dict] = {}
    for bar in good:
        s = per_symbol.setdefault(bar.symbol, {"received": 0, "rejected": 0, "dates": []})
        s["received"] += 1
        s["dates"].append(_local_date(bar))
    for received, _ in rejected:
        symbol = str(received[0]).strip().upper() if received[0] is not None else ""
        s = per_symbol.setdefault(
            symbol if not checks.symbol_problem(symbol) else checks.UNSET_SYMBOL,
            {"received": 0, "rejected": 0, "dates": []},
        )
        s["received"] += 1
        s["rejected"] += 1

    symbols = []
    for symbol in sorted(per_symbol):
        s = per_symbol[symbol]
        inserted, updated = changed.get(symbol, (0, 0))
        unchanged = s["received"] - s["rejected"] - inserted - updated
        symbols.append(
            Unit(
                source,
                f"intraday {bar_interval}",
                symbol,
                None,
                min(s["dates"]) if s["dates"] else None,
                max(s["dates"]) if s["dates"] else None,
                load_run_id,
            ).outcome(counts=Counts(s["received"], inserted, updated, unchanged, s["rejected"]))
        )
    unit = Unit(source, f"intraday {bar_interval}", ALL_SYMBOLS, load_run_id=load_run_id)
    return rows_outcome(unit, symbols)
