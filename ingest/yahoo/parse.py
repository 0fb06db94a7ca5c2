"""From what yfinance parsed to what the raw layer lands (pure functions, no I/O).

- Daily bars: `daily_rows` gives rows in `ingest.merge.CANONICAL` order for `land_rows`; the
  trading day is the exchange-local date yfinance indexes daily bars by.
- Intraday bars: `intraday_bars` gives `IntradayBar`s with `bar_start` in UTC and the exchange
  time zone, for `ingest.intraday.land_intraday_rows`.
- Prices are passed on as the shortest text that round-trips the float yfinance holds (Yahoo's
  JSON number); a NaN (Yahoo sent null) becomes None so the checks report it as missing.
- A row yfinance made only to carry an event (no prices, no volume, a dividend or split) is not a
  bar: its event lands in raw.corporate_actions, the row itself is not sent as a bar.
- Events: `corporate_actions` turns the Dividends / Stock Splits columns into CorporateActions.
  yfinance gives a split as the ratio numerator/denominator (Yahoo's "4:1" -> 4.0); the exact
  fraction is recovered (1.5 -> 3:2, 0.1 -> 1:10): split_to = numerator, split_from = denominator.
- Company data: `company_datasets` groups Yahoo's quoteSummary modules into the five datasets
  landed in raw.yahoo_company_data, payloads exactly as Yahoo sent them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from ingest.actions import CorporateAction
from ingest.intraday import IntradayBar

PRICE_FIELDS = ("Open", "High", "Low", "Close")


def number_text(value: object) -> str | None:
    """A float as the shortest text that round-trips it; None for NaN/None."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return None
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def _is_event_only(row: pd.Series) -> bool:
    prices_missing = all(pd.isna(row.get(f)) for f in PRICE_FIELDS)
    no_volume = pd.isna(row.get("Volume")) or row.get("Volume") == 0
    event = any(_nonzero(row.get(c)) for c in ("Dividends", "Stock Splits", "Capital Gains"))
    return prices_missing and no_volume and event


def _nonzero(value: object) -> bool:
    return value is not None and not pd.isna(value) and float(value) != 0.0


def daily_rows(symbol: str, frame: pd.DataFrame) -> list[tuple]:
    """(symbol, date, open, high, low, close, volume) per daily bar."""
    rows = []
    for stamp, row in frame.iterrows():
        if _is_event_only(row):
            continue
        rows.append(
            (
                symbol,
                stamp.date().isoformat(),
                *(number_text(row.get(f)) for f in PRICE_FIELDS),
                number_text(row.get("Volume")),
            )
        )
    return rows


def intraday_bars(
    symbol: str, frame: pd.DataFrame, exchange_timezone: str | None
) -> list[IntradayBar]:
    """One IntradayBar per bar, bar_start in UTC."""
    bars = []
    for stamp, row in frame.iterrows():
        if _is_event_only(row):
            continue
        moment = pd.Timestamp(stamp)
        if moment.tzinfo is None:  # yfinance always localizes; be explicit if it ever does not
            moment = moment.tz_localize(exchange_timezone or "UTC")
        bars.append(
            IntradayBar(
                symbol,
                moment.tz_convert("UTC").to_pydatetime(),
                *(number_text(row.get(f)) for f in PRICE_FIELDS),
                number_text(row.get("Volume")),
                exchange_timezone,
            )
        )
    return bars


def split_fraction(ratio: float) -> tuple[int, int]:
    """(split_to, split_from) for a split ratio: 4.0 -> (4, 1), 1.5 -> (3, 2), 0.1 -> (1, 10)."""
    fraction = Fraction(ratio).limit_denominator(1000)
    return fraction.numerator, fraction.denominator


def corporate_actions(
    symbol: str,
    frame: pd.DataFrame,
    *,
    currency: str | None,
    exchange_timezone: str | None,
    interval: str,
) -> list[CorporateAction]:
    """Dividends and splits on the bars' exchange-local dates."""
    actions: list[CorporateAction] = []
    if frame.empty:
        return actions
    for stamp, row in frame.iterrows():
        moment = pd.Timestamp(stamp)
        if moment.tzinfo is not None and exchange_timezone:
            moment = moment.tz_convert(exchange_timezone)
        ex_date = moment.date()
        dividend = row.get("Dividends")
        if _nonzero(dividend):
            actions.append(
                CorporateAction(
                    symbol,
                    "dividend",
                    ex_date,
                    cash_amount=number_text(dividend),
                    currency=currency,
                    details={"vendor_field": "chart events.dividends", "interval": interval},
                )
            )
        ratio = row.get("Stock Splits")
        if _nonzero(ratio):
            split_to, split_from = split_fraction(float(ratio))
            actions.append(
                CorporateAction(
                    symbol,
                    "split",
                    ex_date,
                    split_from=split_from,
                    split_to=split_to,
                    details={
                        "vendor_field": "chart events.splits",
                        "ratio": float(ratio),
                        "split_ratio": f"{split_to}:{split_from}",
                        "interval": interval,
                    },
                )
            )
    return actions


# dataset -> the quoteSummary modules it is made of
DATASET_MODULES: dict[str, tuple[str, ...]] = {
    "company_profile": ("assetProfile", "quoteType"),
    "key_statistics": ("defaultKeyStatistics", "financialData", "summaryDetail"),
    "financial_statements": (
        "incomeStatementHistory",
        "incomeStatementHistoryQuarterly",
        "balanceSheetHistory",
        "balanceSheetHistoryQuarterly",
        "cashflowStatementHistory",
        "cashflowStatementHistoryQuarterly",
    ),
    "institutional_holders": ("institutionOwnership", "majorHoldersBreakdown"),
    "company_officers": ("assetProfile",),
}
DATASETS = tuple(DATASET_MODULES)


@dataclass(frozen=True)
class CompanyData:
    datasets: dict[str, dict]  # dataset -> payload (module -> Yahoo's object)
    missing: list[str]  # datasets Yahoo had nothing for
    rejected: list[tuple[str, dict, str]]  # (dataset, payload as received, reason)


def company_datasets(modules: Mapping[str, object]) -> CompanyData:
    """Group quoteSummary modules into the datasets; a module that is not an object is rejected.

    company_profile carries assetProfile without its officers; company_officers carries them
    (`{"companyOfficers": [...]}`), so each fact lands once.
    """
    datasets: dict[str, dict] = {}
    rejected: list[tuple[str, dict, str]] = []
    missing: list[str] = []
    for dataset, names in DATASET_MODULES.items():
        payload: dict[str, object] = {}
        problems: list[str] = []
        for name in names:
            if name not in modules or modules[name] is None:
                continue
            value = modules[name]
            if not isinstance(value, Mapping):
                problems.append(f"module {name} is a {type(value).__name__}, not an object")
                payload[name] = value
                continue
            if dataset == "company_officers":
                officers = value.get("companyOfficers")
                if officers is None or officers == []:
                    continue
                if not isinstance(officers, list):
                    problems.append("assetProfile.companyOfficers is not a list")
                payload["companyOfficers"] = officers
            elif dataset == "company_profile" and name == "assetProfile":
                payload[name] = {k: v for k, v in value.items() if k != "companyOfficers"}
            else:
                payload[name] = dict(value)
        if problems:
            rejected.append((dataset, payload, "; ".join(problems)))
        elif payload:
            datasets[dataset] = payload
        else:
            missing.append(dataset)
    return CompanyData(datasets, missing, rejected)
