"""The registry (vars.indicators and the families' declarations) drives the catalogue, the generated
dbt YAML and the golden rows: each must be regenerated when it changes (python -m bench.columns,
python -m bench.golden). The catalogue itself is checked against the declarations by the dbt test
assert_indicator_catalog_is_current."""

from __future__ import annotations

import pytest

from bench import columns, golden
from bench.indicators import INDICATORS, registry

GOLDEN_HEADER = "symbol,trade_date,indicator,expected_value\n"


def test_generated_yaml_and_docs_match_the_registry():
    assert columns.stale() == [], "run `python -m bench.columns`"


def test_golden_rows_match_the_registry_and_talib():
    assert golden.stale() == [], "run `python -m bench.golden`"


@pytest.mark.parametrize(
    ("generated_row", "same"),
    [
        # numpy's vectorised log/std give other last digits on another CPU (issue 16, defect 6)
        ("MSFT,2013-11-22,volatility_20,0.2206242656427944", True),
        ("MSFT,2013-11-22,volatility_20,0.22062426564279436", True),
        ("MSFT,2013-11-22,volatility_20,0.22062426565", False),  # 3e-11 off: a real change
        ("MSFT,2013-11-25,volatility_20,0.22062426564279436", False),  # another key
        ("MSFT,2013-11-22,volatility_20,", False),  # null where there was a value
    ],
)
def test_golden_rows_compare_keys_exactly_and_values_within_1e_12(generated_row, same):
    committed = GOLDEN_HEADER + "MSFT,2013-11-22,volatility_20,0.22062426564279436\n"
    assert golden.same_rows(committed, GOLDEN_HEADER + generated_row + "\n") is same


def test_every_declared_column_has_a_talib_call_and_a_first_bar():
    assert len(INDICATORS) == len(set(INDICATORS)) >= 39
    for column in registry():
        assert column.talib_call.startswith("talib.") and column.first_bar >= 1
    assert {c.name: c.first_bar for c in registry()}["adx_14"] == 28


def test_golden_rows_cover_every_warm_up_edge():
    bars = golden.selected_bars(260)
    for column in registry():
        assert {column.first_bar - 1, column.first_bar} <= set(bars) | {0}
