"""The checks a bar must pass to land, declared once for daily and intraday bars of every source.

The file source checks rows in SQL (`sql_*` below render these rules for its classify statement);
vendor intraday bars are checked in Python (`*_problem` below). Both read the same bounds and
produce the same reason texts, so a row is accepted or quarantined the same way whatever its
source.

Accepted (documented in the README, "Raw layer"):
- symbol: trimmed and upper-cased, 1-20 characters of `A-Z 0-9 . - ^ = / _`, starting with a
  letter, digit or `^` (`BRK.B`, `BRK-B`, `^GSPC`, `EURUSD=X`); no spaces or control characters.
- trade date: ISO `YYYY-MM-DD`, or an ISO date-time (`2022-01-03 00:00:00-05:00`, as yfinance
  writes daily bars): with a UTC offset, the New York trading day of that instant; without one,
  its date. From 1970-01-01 up to today's date in New York.
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
# today in New York, computed once per statement (an init plan), not once per row
SQL_TODAY = f"(select (now() at time zone '{EXCHANGE_TIMEZONE}')::date)"
SYMBOL_MAX_LENGTH = 20
SYMBOL_FIRST = "A-Z0-9^"  # a symbol's first character
SYMBOL_REST = "A-Z0-9.^=/_-"  # its others
SYMBOL_PATTERN = rf"^[{SYMBOL_FIRST}][{SYMBOL_REST}]{{0,{SYMBOL_MAX_LENGTH - 1}}}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_CLOCK = r"[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?"
DATETIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}" + _CLOCK + "$"
DATETIME_ZONE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}" + _CLOCK + r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
EARLIEST_DATE = date(1970, 1, 1)
PRICE_LIMIT = Decimal("1e9")  # exclusive: what the marts can square and sum without overflow
VOLUME_LIMIT = Decimal("1e15")  # exclusive
PRICE_RANGE = "{name} out of range (>= 1e9)"  # a template: .format(name=...)
VOLUME_RANGE = "volume out of range (>= 1e15)"
PRICES = ("open", "high", "low", "close")

INVALID_SYMBOL = (
    f"invalid symbol (expected 1-{SYMBOL_MAX_LENGTH} of A-Z 0-9 . - ^ = / _, no spaces)"
)
UNPARSEABLE_DATE = "unparseable date (expected YYYY-MM-DD or an ISO date-time)"
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


# --- SQL rendering (the landing's classify statement, ingest.merge) ----------------------------
# `t.<name>` is the typed value (null when it does not cast), `s.<name>` the text as received.


def sql_typed_symbol(raw: str) -> str:
    return f"nullif(upper(btrim({raw})), '')"


def _cast(text: str, kind: str, safe: bool) -> str:
    return (
        f"case when pg_input_is_valid({text}, '{kind}') then {text}::{kind} end"
        if safe
        else f"{text}::{kind}"
    )


DATE_SHAPE = "____-__-__"  # DATE_PATTERN's shape for LIKE


def _iso_date(text: str) -> str:
    """DATE_PATTERN without the regex engine (a third of its cost): ten characters, digits but
    for the dashes at 5 and 8."""
    return f"({text} like '{DATE_SHAPE}' and translate({text}, '0123456789', '') = '--')"


def sql_iso_round_trip(typed: str, raw: str) -> str:
    """A text of DATE_PATTERN's shape is a date only when the date's ISO text is that text
    (digits, nothing else: cheaper than checking each character); needs DateStyle ISO, which
    the landing sets (ingest.merge)."""
    return f"({raw} not like '{DATE_SHAPE}' or {typed}::text = {raw})"


def sql_typed_date(raw: str, safe: bool) -> str:
    """The trading day of a date or date-time text (see DATE_FORMS); null when it is neither.
    The text as received is tried first (trimming every value costs more than the cast); a
    date of DATE_PATTERN's shape is then checked by `sql_iso_round_trip`."""
    d = f"btrim({raw})"
    return (
        f"case when {raw} like '{DATE_SHAPE}' then {_cast(raw, 'date', safe)} "
        f"when {_iso_date(d)} then {_cast(d, 'date', safe)} "
        f"when {d} ~ '{DATETIME_ZONE_PATTERN}' "
        f"then ({_cast(d, 'timestamptz', safe)} at time zone '{EXCHANGE_TIMEZONE}')::date "
        f"when {d} ~ '{DATETIME_PATTERN}' then ({_cast(d, 'timestamp', safe)})::date end"
    )


def sql_typed_number(raw: str, safe: bool) -> str:
    """numeric's input skips surrounding blanks itself; a blank-only text is missing."""
    if safe:
        return _cast(f"btrim({raw})", "numeric", safe)
    return f"nullif({raw}, '')::numeric"


def sql_valid_symbol(typed: str) -> str:
    """SYMBOL_PATTERN, written as a length and an unbounded class: the same rule, three times
    faster for PostgreSQL's regex engine than a bounded repetition."""
    return (
        f"(length({typed}) <= {SYMBOL_MAX_LENGTH}"
        f" and {typed} ~ '^[{SYMBOL_FIRST}][{SYMBOL_REST}]*$')"
    )


def sql_valid_bar(t: str, raw_date: str) -> str:
    """True when the typed row passes every check (cheap: no text built for good rows)."""
    prices = " and ".join(f"{t}.{p} > 0 and {t}.{p} < {PRICE_LIMIT}" for p in PRICES)
    return (
        f"coalesce({sql_valid_symbol(f'{t}.symbol')}"
        f" and {sql_iso_round_trip(f'{t}.trade_date', raw_date)}"
        f" and {t}.trade_date between date '{EARLIEST_DATE.isoformat()}'"
        f" and {SQL_TODAY}"
        f" and {prices} and {t}.volume >= 0 and {t}.volume < {VOLUME_LIMIT}"
        f" and {t}.open between {t}.low and {t}.high and {t}.close between {t}.low and {t}.high"
        ", false)"
    )


def _date_check(t: str, raw: str) -> str:
    return (
        f"case when nullif(btrim({raw}), '') is null then 'missing date' "
        f"when {t}.trade_date is null or not {sql_iso_round_trip(f'{t}.trade_date', raw)} "
        f"then '{UNPARSEABLE_DATE}' "
        f"when {t}.trade_date < date '{EARLIEST_DATE.isoformat()}' then '{EARLY_DATE}' "
        f"when {t}.trade_date > {SQL_TODAY} "
        f"then '{FUTURE_DATE}' end"
    )


def _number_check(t: str, raw: str, name: str) -> str:
    typed = f"{t}.{name}"
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


def sql_bar_problems(t: str, s: str, suffix: str = "") -> str:
    """Every reason a row fails (evaluated only for rows that do): the value checks, else the
    OHLC relations. `{s}.<column>{suffix}` is the text as received."""
    symbol = (
        f"case when {t}.symbol is null then 'missing symbol' "
        f"when not {sql_valid_symbol(f'{t}.symbol')} then '{INVALID_SYMBOL}' end"
    )
    values = ", ".join(
        [
            symbol,
            _date_check(t, f"{s}.date{suffix}"),
            *(_number_check(t, f"{s}.{n}{suffix}", n) for n in (*PRICES, "volume")),
        ]
    )
    ohlc = ", ".join(
        [
            f"case when {t}.high < {t}.low then 'high < low' end",
            f"case when {t}.open not between {t}.low and {t}.high "
            "then 'open outside [low, high]' end",
            f"case when {t}.close not between {t}.low and {t}.high "
            "then 'close outside [low, high]' end",
        ]
    )
    return (
        f"coalesce(nullif(concat_ws('; ', {values}), ''), nullif(concat_ws('; ', {ohlc}), ''),"
        " 'rejected')"
    )
