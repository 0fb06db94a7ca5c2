"""What each layer must satisfy, as GX Core expectation suites (pure definitions)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import great_expectations.expectations as gxe

PRICE_COLUMNS = ("open", "high", "low", "close")
# the indicator catalogue (generated from the families' declarations: first bar per column)
INDICATOR_CATALOG = (
    Path(__file__).resolve().parent.parent / "dbt_project/seeds/golden/talib_golden_columns.csv"
)


def first_bars(columns: tuple[str, ...]) -> dict[str, int]:
    """The first bar with a value of each indicator column (null before it)."""
    with INDICATOR_CATALOG.open(newline="") as fh:
        declared = {row["column_name"]: int(row["first_bar"]) for row in csv.DictReader(fh)}
    return {c: declared[c] for c in columns}


WARM_UP = first_bars(("sma_20", "sma_50", "sma_200"))


@dataclass(frozen=True)
class TableCheck:
    """A suite bound to one table, run by one checkpoint."""

    name: str
    schema: str
    table: str
    # A query asset instead of the whole table (the table is still named for the docs).
    query: str | None = None
    # False: shown in the data docs, but its failure does not fail validation (warnings).
    gate: bool = True
    result_format: str = "SUMMARY"

    @property
    def checkpoint_name(self) -> str:
        return f"{self.name}_checkpoint"


RAW_DAILY_BARS = TableCheck("raw_daily_bars", "raw", "daily_bars")
RAW_INTRADAY_BARS = TableCheck("raw_intraday_bars", "raw", "intraday_bars")
RAW_CORPORATE_ACTIONS = TableCheck("raw_corporate_actions", "raw", "corporate_actions")
FCT_DAILY_BARS = TableCheck("fct_daily_bars", "marts", "fct_daily_bars")
FCT_DAILY_INDICATORS = TableCheck("fct_daily_indicators", "marts", "fct_daily_indicators")
# The findings of marts.fct_data_quality_issues, one readable line each, split by whether an
# unacknowledged finding gates (error) or is only shown (warn).
_FINDING = (
    "check_name || ' ' || coalesce(symbol, '(all symbols)')"
    " || coalesce(' [' || source || ']', '') || ' ' || first_date"
    " || case when last_date > first_date then ' .. ' || last_date else '' end"
    " || ': ' || detail"
)
FINDINGS_QUERY = (
    "select finding_id, check_name, severity, symbol, source, first_date, last_date, detail,"
    " acknowledged,"
    f" case when severity = 'error' and not acknowledged then {_FINDING} end"
    " as unacknowledged_error,"
    f" case when severity = 'warn' and not acknowledged then {_FINDING} end"
    " as unacknowledged_warning"
    " from marts.fct_data_quality_issues"
)
DATA_QUALITY_ERRORS = TableCheck(
    "data_quality_errors",
    "marts",
    "fct_data_quality_issues",
    query=FINDINGS_QUERY,
    result_format="COMPLETE",
)
DATA_QUALITY_WARNINGS = TableCheck(
    "data_quality_warnings",
    "marts",
    "fct_data_quality_issues",
    query=FINDINGS_QUERY,
    gate=False,
    result_format="COMPLETE",
)
CHECKS = (
    RAW_DAILY_BARS,
    RAW_INTRADAY_BARS,
    RAW_CORPORATE_ACTIONS,
    FCT_DAILY_BARS,
    FCT_DAILY_INDICATORS,
    DATA_QUALITY_ERRORS,
    DATA_QUALITY_WARNINGS,
)


class _Collector(list):
    def add_expectation(self, expectation: gxe.Expectation) -> None:
        self.append(expectation)


def raw_daily_bars_expectations() -> list[gxe.Expectation]:
    suite = _Collector()
    suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    for column in ("source", "symbol", "trade_date", *PRICE_COLUMNS, "volume", "load_run_id"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["source", "symbol", "trade_date"])
    )
    for column in PRICE_COLUMNS:
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, strict_min=True)
        )
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="volume", min_value=0))
    _ohlc_invariants(suite)
    return suite


def _ohlc_invariants(suite: _Collector) -> None:
    for upper, lower in (
        ("high", "low"),
        ("high", "open"),
        ("high", "close"),
        ("open", "low"),
        ("close", "low"),
    ):
        suite.add_expectation(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=upper, column_B=lower, or_equal=True
            )
        )


def raw_intraday_bars_expectations() -> list[gxe.Expectation]:
    """Intraday bars (may be empty: only vendors land them)."""
    suite = _Collector()
    for column in ("source", "symbol", "bar_interval", "bar_start", *PRICE_COLUMNS, "volume"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["source", "symbol", "bar_interval", "bar_start"]
        )
    )
    for column in PRICE_COLUMNS:
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, strict_min=True)
        )
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="volume", min_value=0))
    _ohlc_invariants(suite)
    return suite


def raw_corporate_actions_expectations() -> list[gxe.Expectation]:
    suite = _Collector()
    for column in ("source", "symbol", "action_type", "ex_date"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(column="action_type", value_set=["split", "dividend"])
    )
    suite.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["source", "symbol", "action_type", "ex_date"]
        )
    )
    for column in ("split_from", "split_to"):
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, strict_min=True)
        )
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="cash_amount", min_value=0))
    return suite


def fct_daily_bars_expectations() -> list[gxe.Expectation]:
    suite = _Collector()
    suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    for column in (
        "symbol",
        "trade_date",
        *PRICE_COLUMNS,
        "volume",
        "bar_number",
        "split_factor",
        "dividend_factor",
        "data_source",
    ):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(gxe.ExpectCompoundColumnsToBeUnique(column_list=["symbol", "trade_date"]))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(column="split_factor", min_value=0, strict_min=True)
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="data_source", value_set=["polygon", "yahoo", "files"]
        )
    )
    _ohlc_invariants(suite)
    suite.add_expectation(
        gxe.UnexpectedRowsExpectation(
            description="Returns exist exactly from each symbol's second bar on",
            unexpected_rows_query=(
                "select symbol, trade_date from {batch}"
                " where (bar_number = 1) <> (previous_close is null)"
            ),
        )
    )
    return suite


def fct_daily_indicators_expectations() -> list[gxe.Expectation]:
    suite = _Collector()
    suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    for column in ("symbol", "trade_date", "bar_number", "close"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(gxe.ExpectCompoundColumnsToBeUnique(column_list=["symbol", "trade_date"]))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(column="rsi_14", min_value=0, max_value=100)
    )
    for upper, lower in (("bb_upper", "bb_middle"), ("bb_middle", "bb_lower")):
        suite.add_expectation(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=upper,
                column_B=lower,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        )
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="volatility_20", min_value=0))
    warm_up_broken = " or ".join(
        f"(({column} is null) <> (bar_number < {first_bar}))"
        for column, first_bar in WARM_UP.items()
    )
    suite.add_expectation(
        gxe.UnexpectedRowsExpectation(
            description="SMA values are null exactly in each symbol's warm-up rows",
            unexpected_rows_query=(
                f"select symbol, trade_date, bar_number from {{batch}} where {warm_up_broken}"
            ),
        )
    )
    return suite


def data_quality_errors_expectations() -> list[gxe.Expectation]:
    """The gate: no unacknowledged error finding (the failing rows are listed in the docs)."""
    suite = _Collector()
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(column="severity", value_set=["error", "warn"])
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeNull(
            column="unacknowledged_error",
            description="No unacknowledged error finding (acknowledge in known_data_issues)",
        )
    )
    return suite


def data_quality_warnings_expectations() -> list[gxe.Expectation]:
    """Shown, never gating: unacknowledged warnings."""
    suite = _Collector()
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeNull(
            column="unacknowledged_warning",
            description="Unacknowledged warning findings (listed; they do not fail validation)",
            severity="warning",
        )
    )
    return suite


SUITES = {
    RAW_DAILY_BARS.name: raw_daily_bars_expectations,
    RAW_INTRADAY_BARS.name: raw_intraday_bars_expectations,
    RAW_CORPORATE_ACTIONS.name: raw_corporate_actions_expectations,
    FCT_DAILY_BARS.name: fct_daily_bars_expectations,
    FCT_DAILY_INDICATORS.name: fct_daily_indicators_expectations,
    DATA_QUALITY_ERRORS.name: data_quality_errors_expectations,
    DATA_QUALITY_WARNINGS.name: data_quality_warnings_expectations,
}
