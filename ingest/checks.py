"""The checks a bar must pass to land, declared once for daily and intraday bars of every source.

The file source checks rows in SQL (`sql_*` below render these rules for its classify statement);
vendor intraday bars are checked in Python (`*_problem` below). Both read the same bounds and
produce the same reason texts, so a row is accepted or quarantined the same way whatever its
source.

Accepted (documented in the README, "Raw layer"):
- symbol: trimmed and upper-cased, 1-20 characters of `A-Z 0-9 . - ^ = / _`, starting with a
  letter, digit or `^` (`BRK.B`, `BRK-B`, `^GSPC`, `EURUSD=X`); no spaces or control characters.
- trade date: ISO `YYYY-MM-DD` only, from 1970-01-01 up to today's date in New York.
- prices: positive numbers below 1,000,000,000 (finite; no NaN or infinity).
- volume: a non-negative number below 10^15 (not necessarily whole: Polygon reports fractional
  share volumes, e.g. `"v": 25933.6` in a real grouped-daily answer).
- `low <= open, close <= high`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

EXCHANGE_TIMEZONE = "America/New_York"  # bars are dated by the exchange's trading day
SYMBOL_MAX_LENGTH = 20
SYMBOL_PATTERN = r"^[A-Z0-9^][A-Z0-9.^=/_-]{0,19}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
EARLIEST_DATE = date(1970, 1, 1)
PRICE_LIMIT = Decimal("1e9")  # exclusive: what the marts can square and sum without overflow
VOLUME_LIMIT = Decimal("1e15")  # exclusive
PRICE_RANGE = "{name} out of range (>= 1e9)"  # a template: .format(name=...)
VOLUME_RANGE = "volume out of range (>= 1e15)"
PRICES = ("open", "high", "low", "close")

INVALID_SYMBOL = (
    f"invalid symbol (expected 1-{SYMBOL_MAX_LENGTH} of A-Z 0-9 . - ^ = / _, no spaces)"
)
UNPARSEABLE_DATE = "unparseable date (expected YYYY-MM-DD)"
EARLY_DATE = f"date before {EARLIEST_DATE.isoformat()}"
FUTURE_DATE = f"date after today ({EXCHANGE_TIMEZONE})"
UNSET_SYMBOL = "(unparseable symbol)"  # the load-run symbol of rows without a usable one

_SYMBOL = re.compile(SYMBOL_PATTERN)


def exchange_today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(EXCHANGE_TIMEZONE)).date()


def normalize_symbols(symbols: Iterable[str]) -> list[str]:
    """Symbols a user or a setting gave: trimmed, upper case, blanks dropped, first kept."""
    cleaned = (str(s).strip().upper() for s in symbols)
    return list(dict.fromkeys(s for s in cleaned if s))


# --- Python rendering (intraday and other row-by-row sources) ------------------------------


def symbol_problem(symbol: str) -> str | None:
    """`symbol` already trimmed and upper-cased."""
    if not symbol:
        return "missing symbol"
    return None if _SYMBOL.match(symbol) else INVALID_SYMBOL


def date_problem(day: date) -> str | None:
    if day < EARLIEST_DATE:
        return EARLY_DATE
    if day > exchange_today():
        return FUTURE_DATE
    return None


def number_problem(name: str, number: Decimal | None) -> str | None:
    """Why a finite number (None = missing) cannot be this column's value."""
    if number is None:
        return f"missing {name}"
    if name == "volume":
        if number < 0:
            return "negative volume"
        if number >= VOLUME_LIMIT:
            return VOLUME_RANGE
        return None
    if number <= 0:
        return f"non-positive {name}"
    if number >= PRICE_LIMIT:
        return PRICE_RANGE.format(name=name)
    return None


def ohlc_problems(o: Decimal, h: Decimal, low: Decimal, c: Decimal) -> list[str]:
    found = []
    if h < low:
        found.append("high < low")
    if not low <= o <= h:
        found.append("open outside [low, high]")
    if not low <= c <= h:
        found.append("close outside [low, high]")
    return found


# --- SQL rendering (the file source's classify statement) ----------------------------------
# Columns: `<name>_raw` text as received, `<name>` typed (null when it does not cast).


def sql_symbol_check(raw: str = "t.symbol_raw", typed: str = "t.symbol") -> str:
    return (
        f"case when {typed} is null then 'missing symbol' "
        f"when {typed} !~ '{SYMBOL_PATTERN}' then '{INVALID_SYMBOL}' end"
    )


def sql_valid_symbol(typed: str) -> str:
    return f"({typed} ~ '{SYMBOL_PATTERN}')"


def sql_date_check(raw: str = "t.date_raw", typed: str = "t.trade_date") -> str:
    return (
        f"case when nullif(btrim({raw}), '') is null then 'missing date' "
        f"when btrim({raw}) !~ '{DATE_PATTERN}' or {typed} is null then '{UNPARSEABLE_DATE}' "
        f"when {typed} < date '{EARLIEST_DATE.isoformat()}' then '{EARLY_DATE}' "
        f"when {typed} > (now() at time zone '{EXCHANGE_TIMEZONE}')::date "
        f"then '{FUTURE_DATE}' end"
    )


def sql_number_check(name: str) -> str:
    raw, typed = f"t.{name}_raw", f"t.{name}"
    head = (
        f"case when nullif(btrim({raw}), '') is null then 'missing {name}' "
        f"when {typed} is null or {typed} in ('NaN', 'Infinity', '-Infinity') "
        f"then 'unparseable {name}' "
    )
    if name == "volume":
        return head + (
            f"when {typed} < 0 then 'negative volume' "
            f"when {typed} >= {VOLUME_LIMIT} then '{VOLUME_RANGE}' end"
        )
    return head + (
        f"when {typed} <= 0 then 'non-positive {name}' "
        f"when {typed} >= {PRICE_LIMIT} then '{PRICE_RANGE.format(name=name)}' end"
    )


def sql_ohlc_checks() -> str:
    return (
        "case when t.high < t.low then 'high < low' end, "
        "case when t.open not between t.low and t.high then 'open outside [low, high]' end, "
        "case when t.close not between t.low and t.high then 'close outside [low, high]' end"
    )
